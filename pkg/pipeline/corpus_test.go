//go:build corpus

package pipeline

// The sweep over the real build-definitions (../shared/corpus): `make
// corpus` runs it; the same behaviour is tested on testdata/ by
// pipeline_test.go.

import (
	"path/filepath"
	"strings"
	"testing"

	"taskgate.dev/taskgate/internal/testrepo"
)

func TestCorpusLoadHead(t *testing.T) {
	c := load(t, corpus(t, ""))
	if !strings.HasSuffix(c.Dir, "build-definitions/pipelines") {
		t.Errorf("Dir = %s, want the repository's pipelines/", c.Dir)
	}
	for _, name := range five {
		b := c.Pipeline(name)
		if b == nil {
			t.Fatalf("pipeline %s not loaded; loaded %v, ignored %v", name, c.Names(), c.Ignored)
		}
		if b.Producer != "build-image-index" {
			t.Errorf("%s: producer %q, want build-image-index", name, b.Producer)
		}
		if len(b.Gate) != 1 || b.Gate[0].Input != "$(params.skip-checks)" || b.Gate[0].Values[0] != "false" {
			t.Errorf("%s: gate %+v, want skip-checks in [false]", name, b.Gate)
		}
		if b.Tasks["init"].Version == "" {
			t.Errorf("%s: taskRef.version of init not kept", name)
		}
		for _, p := range b.Pipeline.Spec.Tasks {
			if p.TaskRef != nil && p.TaskRef.Params != nil {
				t.Errorf("%s: task %s got a resolver ref", name, p.Name)
			}
		}
	}
	// the template is not a build pipeline; core-services names itself
	// docker-build but is its own directory
	if c.Pipeline("template-build") != nil || len(c.Ignored) != 1 || !strings.Contains(c.Ignored[0], "$REPLACE_ME") {
		t.Errorf("template-build should be ignored as a template: ignored %v", c.Ignored)
	}
	if c.Pipeline("core-services") == nil {
		t.Errorf("core-services not loaded under its directory name")
	}
	db := c.Pipeline("docker-build")
	if db.SourceWorkspace != "workspace" {
		t.Errorf("docker-build source workspace %q, want workspace", db.SourceWorkspace)
	}
	if ta := c.Pipeline("docker-build-oci-ta"); ta.SourceWorkspace != "" {
		t.Errorf("docker-build-oci-ta has no source workspace, got %q", ta.SourceWorkspace)
	}
	// resolved Tasks: in task/ and in external-sources/
	if p := db.Tasks["clair-scan"].Path; p != "task/clair-scan/0.3/clair-scan.yaml" {
		t.Errorf("clair-scan resolved to %q", p)
	}
	if p := c.Pipeline("docker-build-oci-ta").Tasks["sast-snyk-check"].Path; !strings.HasPrefix(p, "external-sources/konflux-ci/konflux-sast-tasks/task/sast-snyk-check-oci-ta/0.5/") {
		t.Errorf("sast-snyk-check-oci-ta resolved to %q", p)
	}
	if db.Tasks["clair-scan"].Results["TEST_OUTPUT"] == "" {
		t.Errorf("clair-scan's declared results not read: %v", db.Tasks["clair-scan"].Results)
	}
	// prefetch-dependencies 0.10 is not in the corpus: its results are
	// those the pipeline references
	if pf := c.Pipeline("docker-build-oci-ta").Tasks["prefetch-dependencies"]; pf.Path != "" || pf.Results["SOURCE_ARTIFACT"] == "" {
		t.Errorf("prefetch-dependencies: path %q results %v", pf.Path, pf.Results)
	}
	if in := c.Pipeline("docker-build-oci-ta").Inputs[Norm("SOURCE_ARTIFACT")]; in.Value.StringVal != "$(tasks.prefetch-dependencies.results.SOURCE_ARTIFACT)" {
		t.Errorf("SOURCE_ARTIFACT input %+v", in)
	}
}

func TestCorpusLoadADRTime(t *testing.T) {
	c := load(t, corpus(t, "_history/2023-03-06-adr-time/pipelines"))
	if got := strings.Join(c.Names(), ","); got != "docker-build,fbc-builder" {
		t.Fatalf("pipelines %s, want docker-build,fbc-builder (template ignored: %v)", got, c.Ignored)
	}
	for _, b := range c.Pipelines {
		if b.Producer != "build-container" {
			t.Errorf("%s: producer %q, want build-container", b.Name, b.Producer)
		}
		if !b.File.Converted {
			t.Errorf("%s: the v1beta1 pipeline should have been converted", b.Name)
		}
	}
}

// The same check Task binds to the producer of each pipeline: today's
// build-image-index, the ADR-time build-container.
func TestCorpusSameCheckBindsToEachProducer(t *testing.T) {
	sameCheckBindsToEachProducer(t, corpus, "", "_history/2023-03-06-adr-time/pipelines", "_history/2024-07-02-redhat-appstudio")
}

func TestCorpusPartners(t *testing.T) {
	c := load(t, corpus(t, ""))
	root := corpus(t, "")

	// example-hello-world has one param, with a default, and reads nothing
	// of the build: it goes in finally, where it never blocks the build
	hello := task(t, root, "partners/example-hello-world/0.1/example-hello-world.yaml")
	slot, _, _ := InferSlot(hello)
	if slot != "" {
		t.Fatalf("hello-world slot %s, want none (not a check: placed per pipeline)", slot)
	}
	for _, b := range c.Pipelines {
		fit := b.Judge(hello, slot, false, nil)
		if !fit.OK() || !fit.InFinally || fit.Slot != Finally || len(fit.Params) != 0 {
			t.Errorf("hello-world in %s: %s %v", b.Name, fit.Slot, fit.Problems())
		}
		if errs := Validate(fit.Composed); errs != nil {
			t.Errorf("hello-world in %s rejected: %v", b.Name, errs)
		}
	}

	// icr-scan (v1beta1) needs a license and a server no pipeline has, and
	// a source workspace the trusted-artifacts pipelines lack
	icr := task(t, corpus(t, "_pull-requests/pr-408"), "partners/icr-scan/0.1/icr-scan.yaml")
	for _, name := range five {
		b := c.Pipeline(name)
		fit := b.Fit(icr, SourceCheck, nil)
		var unbound []string
		for _, u := range fit.UnboundParams {
			unbound = append(unbound, u.Name)
		}
		if strings.Join(unbound, ",") != "iCR-License,Server-URL" {
			t.Errorf("icr-scan in %s: unbound %v, want iCR-License, Server-URL", name, unbound)
		}
		if missing := len(fit.MissingWorkspaces) > 0; missing != (b.SourceWorkspace == "") {
			t.Errorf("icr-scan in %s: missing workspaces %v, source workspace %q", name, fit.MissingWorkspaces, b.SourceWorkspace)
		}
		if fit.OK() || fit.Composed != nil {
			t.Errorf("icr-scan should not compose into %s", name)
		}
	}
}

func TestCorpusWorkspaceOnlyWherePipelinesLackIt(t *testing.T) {
	c := load(t, corpus(t, ""))
	ws := task(t, "testdata", "source-workspace.yaml")
	for _, name := range five {
		b := c.Pipeline(name)
		fit := b.Fit(ws, SourceCheck, nil)
		lacks := strings.Contains(name, "oci-ta") || name == "fbc-builder"
		if lacks != (len(fit.MissingWorkspaces) == 1) || lacks == fit.OK() {
			t.Errorf("%s: missing %v ok %v", name, fit.MissingWorkspaces, fit.OK())
		}
		if !lacks && fit.Workspaces[0].Value != "workspace" {
			t.Errorf("%s: source bound to %v", name, fit.Workspaces)
		}
	}
}

// Over build-definitions' Tasks and build pipelines (today's and the
// history snapshots), the task-by-task validation reaches the verdicts
// of validating each composed Pipeline whole (the integration rules'
// findings over both catalogs: pkg/rules/integration).
func TestCorpusTaskByTaskIsWhole(t *testing.T) {
	bd := testrepo.Corpus(t, "build-definitions")
	tasks := tasksUnder(t, bd, ".")
	if len(tasks) < 50 {
		t.Fatalf("only %d Tasks in build-definitions", len(tasks))
	}
	history, _ := filepath.Glob(filepath.Join(bd, "_history", "*", "pipelines"))
	if len(history) < 2 {
		t.Fatalf("history snapshots: %v", history)
	}
	for _, dir := range append([]string{filepath.Join(bd, "pipelines")}, history...) {
		sameVerdicts(t, dir, tasks, false)
	}
}
