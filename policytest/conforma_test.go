//go:build corpus

// Package policytest judges taskgate's trust data by Conforma's own policy
// library: a bundle taskgate pushed must be trusted, another version must
// not, and the data must raise no data error, in both forms the policy
// reads (the legacy trusted_tasks map and rule_data.trusted_task_rules).
//
// Conforma's rego is upstream code, read from the real corpus
// (../shared/corpus/conforma) and never copied here: these tests are part
// of the corpus sweep (`make corpus`, -tags corpus).
package policytest

import (
	"context"
	"encoding/json"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/rego"
	"github.com/open-policy-agent/opa/v1/storage/inmem"
	"github.com/open-policy-agent/opa/v1/types"
	"github.com/open-policy-agent/opa/v1/util"
	"taskgate.dev/taskgate/internal/testrepo"
)

// What pkg/bundle's TestConformaInputIsCurrent keeps current: the trust
// data file of a real bundle and that bundle's references and annotations.
const (
	bundleFile = "../pkg/bundle/testdata/conforma/bundle.json"
	trustFile  = "../pkg/bundle/testdata/conforma/trust-data.yaml"
)

type pushed struct {
	Bundle      string            `json:"bundle"`    // <repo>:<version>@<digest>
	Immutable   string            `json:"immutable"` // <repo>:<version>-<commit>@<digest>
	Annotations map[string]string `json:"annotations"`
}

// ecBuiltins are Conforma's own builtins (ec.oci.*, ec.purl.*,
// ec.sigstore.*), which plain OPA lacks: declared so that the library
// compiles; none is on the path that judges trust, and any call fails the
// evaluation loudly.
var ecBuiltins = map[string]int{
	"ec.oci.blob": 1, "ec.oci.blob_files": 2, "ec.oci.descriptor": 1, "ec.oci.image_manifest": 1,
	"ec.oci.image_manifests": 1, "ec.oci.image_referrers": 1, "ec.oci.image_tag_refs": 1,
	"ec.purl.is_valid": 1, "ec.purl.parse": 1, "ec.sigstore.verify_attestation": 2,
}

func stubs() []func(*rego.Rego) {
	var out []func(*rego.Rego)
	for name, arity := range ecBuiltins {
		args := make([]types.Type, arity)
		for i := range args {
			args[i] = types.A
		}
		fn := &rego.Function{Name: name, Decl: types.NewFunction(args, types.A)}
		called := errors.New(name + " called: the trust check reached a Conforma builtin this test does not provide")
		if arity == 1 {
			out = append(out, rego.Function1(fn, func(rego.BuiltinContext, *ast.Term) (*ast.Term, error) { return nil, called }))
		} else {
			out = append(out, rego.Function2(fn, func(rego.BuiltinContext, *ast.Term, *ast.Term) (*ast.Term, error) { return nil, called }))
		}
	}
	return out
}

// policy is Conforma's library, every .rego file under policy/lib.
func policy(t *testing.T) map[string]string {
	t.Helper()
	lib := testrepo.Corpus(t, "conforma", "policy", "lib")
	mods := map[string]string{}
	err := filepath.WalkDir(lib, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(p, ".rego") || strings.HasSuffix(p, "_test.rego") {
			return err
		}
		src, err := os.ReadFile(p)
		mods[p] = string(src)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(mods) == 0 || mods[filepath.Join(lib, "tekton", "trusted.rego")] == "" {
		t.Fatalf("no lib/tekton/trusted.rego under %s", lib)
	}
	return mods
}

func readInputs(t *testing.T) (pushed, map[string]any) {
	t.Helper()
	var p pushed
	raw, err := os.ReadFile(bundleFile)
	if err == nil {
		err = json.Unmarshal(raw, &p)
	}
	if err != nil {
		t.Fatal(err)
	}
	var trust map[string]any
	raw, err = os.ReadFile(trustFile)
	if err == nil {
		err = util.Unmarshal(raw, &trust)
	}
	if err != nil {
		t.Fatalf("%s: %v", trustFile, err)
	}
	return p, trust
}

// pipelineTask is a build pipeline's task referring to a bundle through
// Tekton's bundles resolver, as Konflux's pipelines do.
func pipelineTask(bundle string) map[string]any {
	return map[string]any{"name": "hello", "taskRef": map[string]any{"resolver": "bundles", "params": []any{
		map[string]any{"name": "name", "value": "hello"},
		map[string]any{"name": "bundle", "value": bundle},
		map[string]any{"name": "kind", "value": "task"},
	}}}
}

type judge struct {
	t        *testing.T
	mods     map[string]string
	data     map[string]any
	manifest map[string]any // bundle ref → manifest, as ec.oci.image_manifests returns
}

func (j judge) eval(query string, input map[string]any) []any {
	j.t.Helper()
	opts := append([]func(*rego.Rego){rego.Query(query), rego.Store(inmem.NewFromObject(j.data)), rego.Input(input)}, stubs()...)
	for name, src := range j.mods {
		opts = append(opts, rego.Module(name, src))
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	rs, err := rego.New(opts...).Eval(ctx)
	if err != nil {
		j.t.Fatalf("%s: %v", query, err)
	}
	var out []any
	for _, r := range rs {
		out = append(out, r.Expressions[0].Value)
	}
	return out
}

func (j judge) trusted(bundle string) bool {
	j.t.Helper()
	rs := j.eval("data.lib.tekton.is_trusted_task(input.task, input.manifests)", map[string]any{"task": pipelineTask(bundle), "manifests": j.manifest})
	return len(rs) == 1 && rs[0] == true
}

func (j judge) dataErrors() []any {
	j.t.Helper()
	rs := j.eval("data.lib.tekton.data_errors", nil)
	if len(rs) != 1 {
		j.t.Fatalf("data_errors: %v", rs)
	}
	errs, _ := rs[0].([]any)
	return errs
}

func TestConformaTrustsThePushedBundle(t *testing.T) {
	mods := policy(t)
	p, trust := readInputs(t)
	repo, _, _ := strings.Cut(p.Bundle, ":")
	digest := p.Bundle[strings.Index(p.Bundle, "@")+1:]
	other := "sha256:" + strings.Repeat("0", 64)
	// Conforma's clock: after the trust data's effective_on
	config := map[string]any{"policy": map[string]any{"when_ns": time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC).UnixNano()}}
	manifests := map[string]any{
		p.Bundle:               map[string]any{"annotations": p.Annotations},
		p.Immutable:            map[string]any{"annotations": p.Annotations},
		repo + ":0.2@" + other: map[string]any{"annotations": map[string]any{"org.opencontainers.image.version": "0.2"}},
		repo + ":0.1@" + other: map[string]any{"annotations": p.Annotations},
	}

	rules := trust["rule_data"].(map[string]any)
	enabled := map[string]any{"trusted_task_rules_enabled": true}
	for k, v := range rules {
		enabled[k] = v
	}
	for _, c := range []struct {
		name string
		data map[string]any
		// a bundle of the same repository and version under another digest:
		// the legacy map pins digests, rules judge repository and version
		sameVersionOtherDigest bool
	}{
		{"legacy trusted_tasks, as written", map[string]any{"trusted_tasks": trust["trusted_tasks"], "rule_data": rules, "config": config}, false},
		{"legacy trusted_tasks alone", map[string]any{"trusted_tasks": trust["trusted_tasks"], "config": config}, false},
		{"rule_data.trusted_task_rules, enabled by the policy", map[string]any{"rule_data": enabled, "config": config}, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			j := judge{t: t, mods: mods, data: c.data, manifest: manifests}
			if errs := j.dataErrors(); len(errs) != 0 {
				t.Errorf("data errors: %v", errs)
			}
			for _, ref := range []string{p.Bundle, p.Immutable} {
				if !j.trusted(ref) {
					t.Errorf("%s is not trusted", ref)
				}
			}
			if j.trusted(repo + ":0.2@" + other) {
				t.Errorf("another version (0.2) is trusted")
			}
			if got := j.trusted(repo + ":0.1@" + other); got != c.sameVersionOtherDigest {
				t.Errorf("0.1 under another digest: trusted %v, want %v", got, c.sameVersionOtherDigest)
			}
			if j.trusted("quay.io/other/task-hello:0.1@" + digest) {
				t.Errorf("the same digest in another repository is trusted")
			}
		})
	}
}

// The check above must be able to fail: the trust data taskgate wrote
// before (an array of allow rules with a date-only effective_on) is not
// trusted by Conforma, and its own data error says so.
func TestConformaRejectsTheOldForm(t *testing.T) {
	mods := policy(t)
	p, _ := readInputs(t)
	repo, _, _ := strings.Cut(p.Bundle, ":")
	old := map[string]any{
		"trusted_task_rules": map[string]any{"allow": []any{map[string]any{"name": "old", "pattern": "oci://" + repo, "effective_on": "2026-03-04", "versions": []any{">=0.1", "<=0.1"}}}},
		"rule_data":          map[string]any{"trusted_task_rules_enabled": true},
	}
	j := judge{t: t, mods: mods, data: old, manifest: map[string]any{p.Bundle: map[string]any{"annotations": p.Annotations}}}
	if j.trusted(p.Bundle) {
		t.Error("the old trust data form is trusted")
	}
	// and data_errors does speak: a date-only effective_on in the legacy map is one
	digest := p.Bundle[strings.Index(p.Bundle, "@")+1:]
	dateOnly := map[string]any{"trusted_tasks": map[string]any{"oci://" + repo + ":0.1": []any{map[string]any{"ref": digest, "effective_on": "2026-03-04"}}}}
	if errs := (judge{t: t, mods: mods, data: dateOnly}).dataErrors(); len(errs) == 0 {
		t.Error("no data error for a date-only effective_on")
	}
}
