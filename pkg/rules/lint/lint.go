// Package lint holds the rules that judge a submission's files as files:
// YAML, limits, catalog layout, Tekton kind, Tekton schema, conventions.
package lint

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"path"
	"regexp"
	"strings"
	"sync"

	"github.com/tektoncd/pipeline/pkg/apis/config"
	"knative.dev/pkg/apis"
	"taskgate.dev/taskgate/pkg/catalog"
	"taskgate.dev/taskgate/pkg/check"
	"taskgate.dev/taskgate/pkg/manifest"
)

// Checks are the lint rules, in catalog order.
var Checks = []*check.Check{Syntax, Limits, Path, Owners, Readme, VersionLabel, Kind, Schema, Conventions}

// Syntax reports YAML the loader could not parse.
var Syntax = &check.Check{
	ID:       manifest.RuleSyntax,
	Doc:      "unparsable YAML, duplicate keys, multiple documents where one is expected",
	Severity: check.Error,
	Help:     "fix the YAML at this line; `yamllint` reports the same locally",
	Bad: `# partners/hello/0.1/hello.yaml
apiVersion: tekton.dev/v1
kind: Task
metadata:
  name: hello
spec:
  steps:
    - name: hello
      image: registry.access.redhat.com/ubi9/ubi-minimal@sha256:95413c8dacaac773421428947a431c1cb099d19b4b1125df77d5d1cd2f463ab8
      script: echo hello
      script: echo bye # a second script key: which one runs?
`,
	Fixed: `# partners/hello/0.1/hello.yaml
apiVersion: tekton.dev/v1
kind: Task
metadata:
  name: hello
spec:
  steps:
    - name: hello
      image: registry.access.redhat.com/ubi9/ubi-minimal@sha256:95413c8dacaac773421428947a431c1cb099d19b4b1125df77d5d1cd2f463ab8
      script: echo hello
`,
	Run: func(pass *check.Pass) []check.Finding {
		s := pass.Submission
		return check.FromProblems(s, manifest.RuleSyntax)
	},
}

// Limits reports files refused by the loader's hard limits.
var Limits = &check.Check{
	ID:       manifest.RuleLimits,
	Doc:      "files too large, alias bombs, too deep, not UTF-8, symlinks or paths escaping the repo",
	Severity: check.Error,
	Help:     "keep the submission plain: regular UTF-8 files inside the repository, under 1 MiB, without anchor/alias tricks",
	Bad: `# partners/hello/0.1/hello.yaml: six levels of nine aliases expand to over 500,000 nodes
apiVersion: tekton.dev/v1
kind: Task
metadata:
  name: hello
  labels:
    a: &a [x, x, x, x, x, x, x, x, x]
    b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]
    c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]
    d: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c]
    e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d]
    f: [*e, *e, *e, *e, *e, *e, *e, *e, *e]
spec:
  steps:
    - name: hello
      image: registry.access.redhat.com/ubi9/ubi-minimal@sha256:95413c8dacaac773421428947a431c1cb099d19b4b1125df77d5d1cd2f463ab8
      script: echo hello
`,
	Fixed: `# partners/hello/0.1/hello.yaml: plain YAML, no anchors or aliases
apiVersion: tekton.dev/v1
kind: Task
metadata:
  name: hello
spec:
  steps:
    - name: hello
      image: registry.access.redhat.com/ubi9/ubi-minimal@sha256:95413c8dacaac773421428947a431c1cb099d19b4b1125df77d5d1cd2f463ab8
      script: echo hello
`,
	Run: func(pass *check.Pass) []check.Finding {
		s := pass.Submission
		return check.FromProblems(s, manifest.RuleLimits)
	},
}

var versionDir = regexp.MustCompile(`^[0-9]+\.[0-9]+$`)
var dnsLabel = regexp.MustCompile(`^[a-z0-9]([-a-z0-9]*[a-z0-9])?$`)

// Path checks the `<layout>/<task>/<version>/<task>.yaml` shape.
var Path = &check.Check{
	ID:       "layout/path",
	Doc:      "wrong `partners/<task>/<version>/<task>.yaml` shape, version not `N.N`, name ≠ directory",
	Severity: check.Error,
	Help:     "lay the submission out as partners/<task>/<version>/<task>.yaml where <version> is N.N and metadata.name is <task>",
	Bad: `# partners/hello/0.1/hello.yaml
apiVersion: tekton.dev/v1
kind: Task
metadata:
  name: hello-world # the directory says hello
spec:
  steps:
    - name: hello
      image: registry.access.redhat.com/ubi9/ubi-minimal@sha256:95413c8dacaac773421428947a431c1cb099d19b4b1125df77d5d1cd2f463ab8
      script: echo hello
`,
	Fixed: `# partners/hello/0.1/hello.yaml
apiVersion: tekton.dev/v1
kind: Task
metadata:
  name: hello
spec:
  steps:
    - name: hello
      image: registry.access.redhat.com/ubi9/ubi-minimal@sha256:95413c8dacaac773421428947a431c1cb099d19b4b1125df77d5d1cd2f463ab8
      script: echo hello
`,
	Run: func(pass *check.Pass) []check.Finding {
		s := pass.Submission

		// stray files and directories discovery found around the submission
		out := check.FromProblems(s, catalog.RuleLayout)
		switch {
		case s.Version == "":
			want := path.Join(s.Dir, "0.1", s.Name+".yaml")
			out = append(out, check.InFile(s.TaskPath, "the Task is not in a version directory: %s/<version>/%s.yaml", s.Dir, s.Name).
				WithHelp(fmt.Sprintf("git mv %s %s (a version is N.N; bundles and references name it)", s.TaskPath, want)))
		case !versionDir.MatchString(s.Version):
			out = append(out, check.InFile(s.TaskPath, "version directory %q is not of the form N.N (e.g. 0.1)", s.Version).
				WithHelp(fmt.Sprintf("rename the directory to a version such as %s/0.1", path.Join(s.Layout, s.Name))))
		}
		if !dnsLabel.MatchString(s.Name) || len(s.Name) > 63 {
			out = append(out, check.InFile(s.TaskPath, "task directory %q is not a valid Kubernetes name (lowercase letters, digits and '-', at most 63)", s.Name))
		}
		m := s.Manifest
		switch {
		case m == nil:
			out = append(out, check.InFile(s.TaskPath, "the submission has no Task manifest: expected %s", s.TaskPath).
				WithHelp(fmt.Sprintf("add the Task as %s (the file name is the task directory's name)", s.TaskPath)))
			return out
		case m.Path != s.TaskPath:
			out = append(out, check.InFile(m.Path, "the Task manifest must be named %s", path.Base(s.TaskPath)).
				WithHelp(fmt.Sprintf("git mv %s %s", m.Path, s.TaskPath)))
		}
		if m.Root != nil && m.Name != s.Name {
			out = append(out, check.At(m, "metadata.name", "metadata.name %q differs from the task directory %q", m.Name, s.Name).
				WithHelp(fmt.Sprintf("set metadata.name: %s (or rename the directory): bundles and references use the name", s.Name)))
		}
		return out
	},
}

// Owners requires someone to answer for the Task.
var Owners = &check.Check{
	ID:       "layout/owners",
	Doc:      "no OWNERS for the task (or no CODEOWNERS coverage)",
	Severity: check.Error,
	Help:     "add partners/<task>/OWNERS listing the GitHub logins who maintain the Task (Prow format: `approvers:` and `reviewers:` lists)",
	Bad: `# partners/hello/OWNERS (empty: nobody answers for the Task)
`,
	Fixed: `# partners/hello/OWNERS (Prow format: approvers may change the Task, reviewers review)
approvers:
  - alice
reviewers:
  - bob
`,
	Run: func(pass *check.Pass) []check.Finding {
		s := pass.Submission

		if s.Owners != nil && !s.Owners.Empty {
			return nil
		}
		if rule := s.Repo.CodeOwners.OwnersOf(s.TaskPath); rule != nil && len(rule.Owners) > 0 {
			return nil
		}
		taskOwners := path.Join(s.Layout, s.Name, "OWNERS")
		if s.Owners != nil {
			return []check.Finding{check.InFile(s.Owners.Path, "OWNERS is empty: nobody answers for this Task")}
		}
		return []check.Finding{check.InFile(s.TaskPath, "no OWNERS file (%s) and no CODEOWNERS line covers this submission", taskOwners).
			WithHelp(fmt.Sprintf("add %s with `approvers:` and `reviewers:` lists of GitHub logins", taskOwners))}
	},
}

// Readme asks for documentation a user can read before adopting the Task.
var Readme = &check.Check{
	ID:       "layout/readme",
	Doc:      "missing or empty README.md",
	Severity: check.Warning,
	Help:     "add README.md next to the Task: what it does, its params, results and workspaces, and an example of use in a pipeline",
	Bad: `# partners/hello/0.1/README.md (empty)
`,
	Fixed: `# partners/hello/0.1/README.md
# hello

Prints a greeting. No params, results or workspaces; add it to a build pipeline's finally tasks.
`,
	Run: func(pass *check.Pass) []check.Finding {
		s := pass.Submission

		want := path.Join(s.Dir, "README.md")
		if s.Readme == "" {
			return []check.Finding{check.InFile(s.TaskPath, "no README.md (expected %s)", want)}
		}
		if s.ReadmeBlank { // one the loader refused is an input/limits error
			return []check.Finding{check.InFile(s.Readme, "README.md is empty")}
		}
		return nil
	},
}

const versionLabel = "app.kubernetes.io/version"

// VersionLabel ties the Task's version label to its directory.
var VersionLabel = &check.Check{
	ID:       "layout/version-label",
	Doc:      "`app.kubernetes.io/version` missing or ≠ version dir (a patch level, 0.1.2 in 0.1, is fine)",
	Severity: check.Error,
	Help:     "set metadata.labels." + versionLabel + " to the version directory's name",
	Bad: `# partners/hello/0.1/hello.yaml
apiVersion: tekton.dev/v1
kind: Task
metadata:
  name: hello
  labels:
    app.kubernetes.io/version: "0.2" # the directory says 0.1
spec:
  steps:
    - name: hello
      image: registry.access.redhat.com/ubi9/ubi-minimal@sha256:95413c8dacaac773421428947a431c1cb099d19b4b1125df77d5d1cd2f463ab8
      script: echo hello
`,
	Fixed: `# partners/hello/0.1/hello.yaml
apiVersion: tekton.dev/v1
kind: Task
metadata:
  name: hello
  labels:
    app.kubernetes.io/version: "0.1"
spec:
  steps:
    - name: hello
      image: registry.access.redhat.com/ubi9/ubi-minimal@sha256:95413c8dacaac773421428947a431c1cb099d19b4b1125df77d5d1cd2f463ab8
      script: echo hello
`,
	Run: func(pass *check.Pass) []check.Finding {
		s := pass.Submission

		m := s.Manifest
		if m == nil || m.Root == nil {
			return nil
		}
		n := m.Node("metadata.labels[" + versionLabel + "]")
		if n == nil {
			f := check.At(m, "metadata.labels", "metadata.labels has no %s (expected %q)", versionLabel, s.Version).
				WithHelp(fmt.Sprintf("add `%s: %q` under metadata.labels: bundles and users read the version from it", versionLabel, s.Version))
			f.Severity = check.Warning
			return []check.Finding{f}
		}
		// the directory names a minor stream; the label may add a patch
		// level (konflux: 0.10.5 lives in 0.10)
		if n.Value != s.Version && !strings.HasPrefix(n.Value, s.Version+".") {
			return []check.Finding{check.At(m, "metadata.labels["+versionLabel+"]", "%s is %q but the version directory is %q", versionLabel, n.Value, s.Version).
				WithHelp(fmt.Sprintf("set %s: %q, or move the Task to %s", versionLabel, n.Value, path.Join(s.Layout, s.Name, n.Value)))}
		}
		return nil
	},
}

// Kind accepts Tasks and StepActions of the Tekton API.
var Kind = &check.Check{
	ID:       manifest.RuleKind,
	Doc:      "not a Task (or StepAction) of `tekton.dev/v1` / `v1beta1`",
	Severity: check.Error,
	Help:     "submit a `kind: Task` with `apiVersion: tekton.dev/v1`",
	Bad: `# partners/hello/0.1/hello.yaml
apiVersion: tekton.dev/v1beta1
kind: ClusterTask # removed from Tekton
metadata:
  name: hello
spec:
  steps:
    - name: hello
      image: registry.access.redhat.com/ubi9/ubi-minimal@sha256:95413c8dacaac773421428947a431c1cb099d19b4b1125df77d5d1cd2f463ab8
      script: echo hello
`,
	Fixed: `# partners/hello/0.1/hello.yaml
apiVersion: tekton.dev/v1
kind: Task
metadata:
  name: hello
spec:
  steps:
    - name: hello
      image: registry.access.redhat.com/ubi9/ubi-minimal@sha256:95413c8dacaac773421428947a431c1cb099d19b4b1125df77d5d1cd2f463ab8
      script: echo hello
`,
	Run: func(pass *check.Pass) []check.Finding {
		s := pass.Submission

		out := check.FromProblems(s, manifest.RuleKind)
		m := s.Manifest
		if m == nil || m.Root == nil || len(out) > 0 {
			return out
		}
		switch {
		case m.Kind == "Task" && m.APIVersion == "tekton.dev/v1":
		case m.Kind == "StepAction" && m.APIVersion == "tekton.dev/v1beta1":
		case m.Kind == "Task" && m.APIVersion == "tekton.dev/v1beta1":
			f := check.At(m, "apiVersion", "tekton.dev/v1beta1 is deprecated: the gate validated the Task converted to tekton.dev/v1").
				WithHelp("write the Task as tekton.dev/v1 (https://tekton.dev/docs/pipelines/migrating-v1beta1-to-v1/): e.g. `resources` become `computeResources`")
			f.Severity = check.Warning
			out = append(out, f)
		case m.Kind == "StepAction" && m.APIVersion == "tekton.dev/v1alpha1":
			f := check.At(m, "apiVersion", "tekton.dev/v1alpha1 StepAction is deprecated").WithHelp("use apiVersion: tekton.dev/v1beta1")
			f.Severity = check.Warning
			out = append(out, f)
		case m.Kind == "":
			out = append(out, check.At(m, "kind", "the manifest has no kind"))
		case m.Kind != "Task" && m.Kind != "StepAction":
			out = append(out, check.At(m, "kind", "kind %s is not accepted: a submission is a Task (or a StepAction)", m.Kind))
		default:
			out = append(out, check.At(m, "apiVersion", "apiVersion %q is not a Tekton API version for %s (want tekton.dev/v1)", m.APIVersion, m.Kind))
		}
		return out
	},
}

// validationContext is what Tekton's admission webhook validates with:
// the default feature flags and defaults.
func validationContext() context.Context {
	ctx := context.Background()
	return config.ToContext(ctx, config.FromContextOrDefaults(ctx))
}

// Validated is Tekton's verdict on each distinct Task or StepAction of a
// run, by content (the decoded object): a manifest met twice (a version
// copied unchanged, the same file in two submissions) is validated once.
var Validated = &check.Input{Name: "Tekton validation", PerRun: true,
	Compute: func(*check.Pass) (any, error) { return &validations{}, nil },
	// it reads nothing of the repository: a verdict depends only on the
	// object (the submission's) and the build (a cache keys both)
	Digest: func(any) string { return "verdicts by content" }}

type validations struct{ byContent sync.Map } // content hash → *validation

type validation struct {
	once sync.Once
	errs []*apis.FieldError // WrappedErrors, computed once: it sorts paths in place
}

// of validates a Task or a StepAction (nil, false for anything else).
func (v *validations) of(m *manifest.File) ([]*apis.FieldError, bool) {
	var obj any
	switch {
	case m.Task != nil:
		obj = m.Task
	case m.StepAction != nil:
		obj = m.StepAction
	default:
		return nil, false
	}
	raw, err := json.Marshal(obj)
	if err != nil {
		return nil, false
	}
	sum := sha256.Sum256(append([]byte(m.Kind+"\n"), raw...))
	e, _ := v.byContent.LoadOrStore(sum, &validation{})
	val := e.(*validation)
	val.once.Do(func() {
		ctx := validationContext()
		var errs *apis.FieldError
		if m.Task != nil {
			t := m.Task.DeepCopy()
			t.SetDefaults(ctx)
			errs = t.Validate(ctx)
		} else {
			sa := m.StepAction.DeepCopy()
			sa.SetDefaults(ctx)
			errs = sa.Validate(ctx)
		}
		val.errs = errs.WrappedErrors()
	})
	return val.errs, true
}

// Schema runs tektoncd/pipeline's own defaulting and validation.
var Schema = &check.Check{
	ID:       manifest.RuleSchema,
	Doc:      "everything `tektoncd/pipeline` validation rejects, mapped to file:line",
	Severity: check.Error,
	Help:     "fix the field as the message says; Tekton's admission webhook rejects the Task otherwise",
	Bad: `# partners/hello/0.1/hello.yaml
apiVersion: tekton.dev/v1
kind: Task
metadata:
  name: hello
spec:
  steps:
    - name: hello
      image: registry.access.redhat.com/ubi9/ubi-minimal@sha256:95413c8dacaac773421428947a431c1cb099d19b4b1125df77d5d1cd2f463ab8
      scirpt: echo hello # unknown field: Tekton rejects the Task
`,
	Fixed: `# partners/hello/0.1/hello.yaml
apiVersion: tekton.dev/v1
kind: Task
metadata:
  name: hello
spec:
  steps:
    - name: hello
      image: registry.access.redhat.com/ubi9/ubi-minimal@sha256:95413c8dacaac773421428947a431c1cb099d19b4b1125df77d5d1cd2f463ab8
      script: echo hello
`,
	Requires: []*check.Input{Validated},
	Run: func(pass *check.Pass) []check.Finding {
		s := pass.Submission

		out := check.FromProblems(s, manifest.RuleSchema)
		m := s.Manifest
		if m == nil {
			return out
		}
		errs, ok := pass.ResultOf[Validated].(*validations).of(m)
		if !ok {
			return out
		}
		return append(out, FieldErrors(m, errs)...)
	},
}

// FieldErrors maps Tekton/knative validation errors (WrappedErrors) to
// findings, one per field path, at the line of that field.
func FieldErrors(m *manifest.File, errs []*apis.FieldError) []check.Finding {
	var out []check.Finding
	for _, e := range errs {
		msg := e.Message
		if e.Details != "" {
			msg += ": " + e.Details
		}
		sev := check.Error
		if e.Level == apis.WarningLevel {
			sev = check.Warning
		}
		paths := e.Paths
		if len(paths) == 0 {
			paths = []string{""}
		}
		for _, p := range paths {
			f := check.At(m, p, "%s", msg)
			if p != "" && !strings.Contains(msg, p) {
				f.Message = fmt.Sprintf("%s: %s", msg, p)
			}
			f.Severity = sev
			out = append(out, f)
		}
	}
	return out
}
