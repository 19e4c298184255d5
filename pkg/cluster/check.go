package cluster

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"unicode/utf8"

	v1 "github.com/tektoncd/pipeline/pkg/apis/pipeline/v1"
	"taskgate.dev/taskgate/pkg/catalog"
	"taskgate.dev/taskgate/pkg/check"
	"taskgate.dev/taskgate/pkg/manifest"
	"taskgate.dev/taskgate/pkg/pipeline"
	"taskgate.dev/taskgate/pkg/rules/integration"
	"taskgate.dev/taskgate/pkg/testoutput"
)

// Rules of the cluster stage: registered with the others, they judge
// only when the run has a cluster (`taskgate dry-run`); without one they
// are not run, and say so.
const (
	RuleDryRun = "cluster/dry-run"
	RuleRun    = "cluster/run"
)

// Checks are the cluster rules.
var Checks = []*check.Check{DryRun, Run}

// Rules are the ids of Checks: what `taskgate dry-run` judges.
var Rules = []string{RuleDryRun, RuleRun}

// Target is the cluster a run's cluster checks use: `taskgate dry-run`
// gives one, `validate` none.
type Target struct {
	// Ctx ends the requests and the sandboxed runs (Ctrl-C); the check's
	// Run has no context of its own.
	Ctx    context.Context
	Client *Client
	// Composed is the `taskgate integrate --out DIR` directory: the
	// composed Pipelines and PipelineRuns are dry-run with each Task.
	Composed string
	// Run runs each Task in a sandbox (--run) with Options.
	Run     bool
	Options RunOptions
}

// Connection is the input the cluster checks require: the run's Target,
// nil when the run has none. Only the run can supply it
// (check.Settings.Given); computed, it is nil.
var Connection = &check.Input{Name: "cluster", PerRun: true,
	Compute: func(*check.Pass) (any, error) { return (*Target)(nil), nil },
	// before the checks' other inputs: without a cluster, cluster/run does
	// not compose the Task into every build pipeline only to say so
	Absent: func(v any) string {
		if t, _ := v.(*Target); t == nil || t.Client == nil {
			return "needs a cluster (taskgate dry-run)"
		}
		return ""
	}}

// DryRun is the cluster/dry-run rule: the submission's manifest and, with
// a composed directory, the composed Pipelines and PipelineRuns written
// for it under composed/<submission dir>/, in a server-side dry-run.
var DryRun = &check.Check{
	ID:       RuleDryRun,
	Doc:      "with a cluster (taskgate dry-run): the Kubernetes API server (with Tekton's CRDs) rejects the Task, or the Pipelines and PipelineRuns it is composed into, in a server-side dry-run",
	Severity: check.Error,
	Help:     "fix what the API server names: `kubectl apply --dry-run=server -f TASK.yaml` against a cluster with Tekton shows the same",
	Bad: `apiVersion: tekton.dev/v1
kind: Task
metadata:
  name: hello
spec:
  steps:
    - name: hello
      imagee: registry.example/hello@sha256:...
`,
	Fixed: `apiVersion: tekton.dev/v1
kind: Task
metadata:
  name: hello
spec:
  steps:
    - name: hello
      image: registry.example/hello@sha256:...
`,
	Requires: []*check.Input{Connection},
	Run: func(pass *check.Pass) []check.Finding {
		t := pass.ResultOf[Connection].(*Target) // Connection.Absent: never nil here
		return t.Client.DryRunSubmission(t.Ctx, pass.Submission, t.Composed)
	},
}

// Run is the cluster/run rule: the Task runs for real in a sandbox
// namespace (see Client.Run) with the build's inputs the run was given.
var Run = &check.Check{
	ID:       RuleRun,
	Doc:      "with a cluster (taskgate dry-run --run): the Task fails, or reports no valid TEST_OUTPUT, when it runs in a sandbox: Pod Security \"restricted\", no service-account token, no credentials, a quota and a deadline",
	Severity: check.Error,
	Help:     "make every step run as non-root without privilege escalation and with all capabilities dropped, succeed without credentials (report SKIPPED) and write TEST_OUTPUT",
	Bad: `spec:
  results:
    - name: TEST_OUTPUT
  steps:
    - name: check
      image: registry.example/check@sha256:...
      script: exit 1
`,
	Fixed: `spec:
  results:
    - name: TEST_OUTPUT
  steps:
    - name: check
      image: registry.example/check@sha256:...
      securityContext:
        runAsNonRoot: true
        allowPrivilegeEscalation: false
        capabilities:
          drop: [ALL]
      script: |
        printf '{"result":"SKIPPED","timestamp":"%s","successes":0,"failures":0,"warnings":0}' "$(date -u +%Y-%m-%dT%H:%M:%SZ)" > "$(results.TEST_OUTPUT.path)"
`,
	Requires: []*check.Input{Connection, integration.Fitting},
	Run: func(pass *check.Pass) []check.Finding {
		t := pass.ResultOf[Connection].(*Target) // Connection.Absent: never nil here
		if !t.Run {
			pass.Disabled("the Task runs only when asked (taskgate dry-run --run)")
			return nil
		}
		fits, _ := pass.ResultOf[integration.Fitting].([]*pipeline.Fit)
		return t.Client.RunSubmission(t.Ctx, pass.Submission, fits, t.Options)
	},
}

// DryRunSubmission dry-runs a submission's manifest, then the composed
// objects for it under composed (Pipelines before PipelineRuns).
func (c *Client) DryRunSubmission(ctx context.Context, s *catalog.Submission, composed string) []check.Finding {
	f := s.Manifest
	if f == nil || f.Root == nil {
		return nil // nothing parsed: yaml/syntax and layout/path say why
	}
	var out []check.Finding
	if obj, err := Object(f); errors.Is(err, ErrKind) {
		// not a Tekton kind: tekton/kind says so
	} else if err != nil {
		out = append(out, inFile(f.Path, "fix the manifest so it converts to Tekton v1 (tekton/schema says where)", "not sent to the API server: %v", err))
	} else {
		warnings, err := c.DryRun(ctx, obj)
		out = append(out, Findings(RuleDryRun, err, Same(f))...)
		out = append(out, Warnings(RuleDryRun, warnings, Same(f))...)
	}
	if composed == "" {
		return out
	}
	files, err := ComposedFiles(filepath.Join(composed, filepath.FromSlash(s.Dir)))
	if err != nil {
		return append(out, inFile(f.Path, "run `taskgate integrate --out DIR` first and pass the same DIR", "the composed manifests for %s cannot be read: %v", s.ID(), err))
	}
	for _, cf := range files {
		obj, err := Object(cf)
		if err != nil {
			out = append(out, inFile(cf.Path, "rerun `taskgate integrate --out DIR`: the file is not a manifest it writes", "not sent to the API server: %v", err))
			continue
		}
		m := Same(cf)
		if cf.Kind == "Pipeline" {
			if prefix := embeddedTask(cf, partnerTaskName(files, f)); prefix != "" {
				m = Embedded(cf, prefix, f)
			}
		}
		warnings, err := c.DryRun(ctx, obj)
		out = append(out, Findings(RuleDryRun, err, m)...)
		out = append(out, Warnings(RuleDryRun, warnings, m)...)
	}
	return out
}

func inFile(file, help, format string, args ...any) check.Finding {
	f := check.InFile(file, format, args...).WithHelp(help)
	f.Rule, f.Severity = RuleDryRun, check.Error
	return f
}

// ComposedFiles loads the YAML files under dir, Pipelines first (a
// PipelineRun references one), then by path. A missing dir is no files.
func ComposedFiles(dir string) ([]*manifest.File, error) {
	var files []*manifest.File
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if os.IsNotExist(err) && p == dir {
				return fs.SkipAll
			}
			return err
		}
		if d.IsDir() || (filepath.Ext(p) != ".yaml" && filepath.Ext(p) != ".yml") {
			return nil
		}
		if !d.Type().IsRegular() {
			return fmt.Errorf("%s is not a regular file", p)
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		files = append(files, manifest.Parse(filepath.ToSlash(p), data, manifest.DefaultLimits))
		return nil
	})
	rank := map[string]int{"Pipeline": 0, "PipelineRun": 2}
	sort.SliceStable(files, func(i, j int) bool {
		ri, ok := rank[files[i].Kind]
		if !ok {
			ri = 1
		}
		rj, ok := rank[files[j].Kind]
		if !ok {
			rj = 1
		}
		if ri != rj {
			return ri < rj
		}
		return files[i].Path < files[j].Path
	})
	return files, err
}

// partnerTaskName is the name of the partner Task inside the composed
// Pipeline: the `taskgate.dev/task` label `integrate` puts on the
// PipelineRun, else the Task's own name.
func partnerTaskName(files []*manifest.File, task *manifest.File) string {
	for _, f := range files {
		if f.Kind != "PipelineRun" {
			continue
		}
		if n := f.Node("metadata.labels[taskgate.dev/task]"); n != nil && n.Value != "" {
			return n.Value
		}
	}
	return task.Name
}

// embeddedTask is the field path of the embedded Task spec named name in
// a Pipeline (`spec.tasks[3].taskSpec`), or "". It reads the YAML, so a
// Pipeline that does not decode still maps.
func embeddedTask(p *manifest.File, name string) string {
	for _, list := range []string{"spec.tasks", "spec.finally"} {
		n := p.Node(list)
		if n == nil {
			continue
		}
		for i := range n.Content {
			el := fmt.Sprintf("%s[%d]", list, i)
			if nm := p.Node(el + ".name"); nm != nil && nm.Value == name && p.Node(el+".taskSpec") != nil {
				return el + ".taskSpec"
			}
		}
	}
	return ""
}

// RunSubmission runs a submission's Task in a sandbox, given what the
// build pipelines it fits would give it (opts.Build, bound as in the
// first of fits that shares sources through a workspace), and judges the
// outcome.
func (c *Client) RunSubmission(ctx context.Context, s *catalog.Submission, fits []*pipeline.Fit, opts RunOptions) []check.Finding {
	f := s.Manifest
	if f == nil || f.Task == nil {
		if f == nil || f.Root == nil || f.Kind != "Task" {
			return nil // not a Task: tekton/kind says so
		}
		return []check.Finding{check.InFile(f.Path, "not run in the sandbox: the Task does not decode (tekton/schema says why)").
			WithHelp("fix the tekton/schema findings first")}
	}
	if s.Repo != nil && s.Repo.Config != nil {
		opts.Egress = s.Repo.Config.EgressFor(f.Task.Name)
	}
	st := Stage(f.Task, opts.Build, placeOf(fits))
	opts.Objects = append(append([]any(nil), opts.Objects...), st.Objects...) // opts is shared by the submissions' runs
	res, err := c.Run(ctx, st.Run, opts)
	if res != nil {
		res.Given = st.Given
	}
	return RunFindings(f, res, err, opts.withDefaults())
}

// RunFindings judges a sandboxed run of the Task in f.
func RunFindings(f *manifest.File, res *RunResult, err error, opts RunOptions) []check.Finding {
	at := func(path, help, format string, args ...any) check.Finding {
		fd := check.At(f, path, format, args...).WithHelp(help)
		fd.Rule, fd.Severity = RuleRun, check.Error
		return fd
	}
	if res == nil {
		fd := cannotRun(RuleRun, f, err)
		fd.Message = "the sandboxed run could not start: " + err.Error()
		return []check.Finding{fd}
	}
	where := fmt.Sprintf("in sandbox namespace %s", res.Namespace)
	if !res.Done {
		why := "the client-side deadline passed"
		if err != nil {
			why = err.Error()
		}
		return []check.Finding{at("spec.steps", "make the Task finish within the timeout without credentials or network access it cannot have (report SKIPPED instead of waiting)",
			"the Task did not finish %s within %s (+%s grace): %s%s", where, opts.Timeout, opts.Grace, why, taskRunStates(res))}
	}
	var out []check.Finding
	if !res.Succeeded && strings.Contains(res.Reason, "Timeout") {
		states := taskRunStates(res)
		path, _ := stepOf(f, states)
		return []check.Finding{at(path, "make the Task finish within the timeout; a pod that cannot be scheduled or an image that cannot be pulled waits until then",
			"the run timed out %s after %s: %s%s", where, opts.Timeout, res.Message, states)}
	}
	if !res.Succeeded {
		for _, tr := range res.TaskRuns {
			if tr.Succeeded {
				continue
			}
			if strings.Contains(tr.Log, resultsTooLarge) {
				out = append(out, at(resultsPath(f), "keep TEST_OUTPUT to the verdict and its counts, well under 4096 bytes with the step's other results; write details to the step's log",
					"the Task fails %s: a step's results (TEST_OUTPUT with its others) are over Tekton's limit of 4096 bytes (the step's termination message), so Tekton's entrypoint failed the step: %s", where, clip(tr.Log)))
				continue
			}
			path, help := stepOf(f, tr.Message)
			msg := tr.Message
			if tr.Log != "" {
				msg += "; " + clip(tr.Log)
			}
			out = append(out, at(path, help, "the Task fails %s: %s: %s", where, tr.Reason, msg))
		}
		if len(out) == 0 {
			out = append(out, at("spec", "see the PipelineRun's message", "the run fails %s: %s: %s", where, res.Reason, res.Message))
		}
		return out
	}
	declares := false
	for _, r := range f.Task.Spec.Results {
		declares = declares || r.Name == "TEST_OUTPUT"
	}
	summary := fmt.Sprintf("the Task succeeded %s in %s", where, res.Duration.Round(1e9))
	if len(res.Given) > 0 {
		summary += " (given " + strings.Join(res.Given, "; ") + ")"
	}
	if !declares {
		return []check.Finding{{Rule: RuleRun, Severity: check.Info, File: f.Path, Line: 1, Column: 1, Message: summary, Help: helpPassed}}
	}
	raw, ok := "", false
	for _, tr := range res.TaskRuns {
		if v, has := tr.Results["TEST_OUTPUT"]; has {
			raw, ok = v, true
		}
	}
	const helpTO = "write TEST_OUTPUT as JSON: " + testoutput.Shape + "; without credentials report SKIPPED"
	if !ok {
		return []check.Finding{at("spec.results[TEST_OUTPUT]", helpTO, "%s but wrote no TEST_OUTPUT result", summary)}
	}
	if len(raw) > maxResult {
		// what a cluster reading results from sidecar logs may let through
		return []check.Finding{at(resultsPath(f), "keep TEST_OUTPUT to the verdict and its counts, well under 4096 bytes; write details to the step's log",
			"%s but its TEST_OUTPUT is %d bytes, over Tekton's default limit of %d bytes for results", summary, len(raw), maxResult)}
	}
	to, err := testoutput.Parse(raw)
	if err != nil {
		return []check.Finding{at("spec.results[TEST_OUTPUT]", helpTO, "%s but its TEST_OUTPUT is not valid (%v): %q", summary, err, clip(raw))}
	}
	if cred := withheld(f.Task); to.Result == "ERROR" && cred != "" {
		// FAILURE is a verdict on the inputs; ERROR says the check could not judge them
		return []check.Finding{at("spec.results[TEST_OUTPUT]", "when a credential is missing, exit 0 and report SKIPPED (with a note saying which), as the build pipelines expect of a check",
			"%s but reported ERROR without its credentials (the sandbox gives it no %s): %q", summary, cred, clip(raw))}
	}
	return []check.Finding{{Rule: RuleRun, Severity: check.Info, File: f.Path, Line: 1, Column: 1,
		Message: fmt.Sprintf("%s; TEST_OUTPUT: %q", summary, clip(raw)), Help: helpPassed}}
}

// maxResult is Tekton's default limit on a step's results: its
// termination message, 4096 bytes (the max-result-size of results-from
// sidecar-logs defaults to the same).
const maxResult = 4096

// resultsTooLarge is what Tekton's entrypoint logs when a step's results
// exceed the termination message (github.com/tektoncd/pipeline
// pkg/termination).
const resultsTooLarge = "Termination message is above max allowed size"

// withheld names a credential the sandbox does not give the Task: a
// secret it reads, or an optional workspace (where the build pipelines
// bind credentials); "" when it asks for none.
func withheld(t *v1.Task) string {
	if _, what := integration.Credential(t); what != "" {
		return what
	}
	for _, w := range t.Spec.Workspaces {
		if w.Optional {
			return "optional workspace " + w.Name
		}
	}
	return ""
}

// resultsPath is where a results finding goes: TEST_OUTPUT when declared.
func resultsPath(f *manifest.File) string {
	for _, r := range f.Task.Spec.Results {
		if r.Name == "TEST_OUTPUT" {
			return "spec.results[TEST_OUTPUT]"
		}
	}
	return "spec.results"
}

const helpPassed = "nothing to fix: the Task runs under Pod Security \"restricted\" without credentials"

func taskRunStates(res *RunResult) string {
	var s []string
	for _, tr := range res.TaskRuns {
		s = append(s, fmt.Sprintf("%s: %s %s", tr.PipelineTask, tr.Reason, tr.Message))
	}
	if len(s) == 0 {
		return " (no TaskRun started)"
	}
	return " (" + strings.Join(s, "; ") + ")"
}

var (
	stepContainer = regexp.MustCompile(`"step-([a-z0-9-]+)"`)
	// containers Tekton adds to every pod: "restricted" rejects them unless
	// the cluster's feature flag set-security-context is on
	injected = regexp.MustCompile(`"(prepare|place-scripts|working-dir-initializer)"`)
)

// stepOf points a failure message at the step it names (Tekton calls a
// step's container step-<name>, or step-unnamed-<index>).
func stepOf(f *manifest.File, msg string) (path, help string) {
	help = "make the step succeed in a restricted namespace without credentials: run as non-root, `allowPrivilegeEscalation: false`, `capabilities: {drop: [ALL]}`, and report SKIPPED when a credential is missing"
	if m := stepContainer.FindStringSubmatch(msg); m != nil {
		for i, s := range f.Task.Spec.Steps {
			if s.Name == m[1] || (s.Name == "" && m[1] == fmt.Sprintf("unnamed-%d", i)) {
				return fmt.Sprintf("spec.steps[%d]", i), help
			}
		}
	}
	if injected.MatchString(msg) {
		return "spec", "the cluster's Tekton adds containers that Pod Security \"restricted\" rejects: set `set-security-context: \"true\"` in Tekton's feature-flags ConfigMap (a cluster setting, not the Task's)"
	}
	return "spec.steps", help
}

// clip shortens what a Task wrote for a message, on a character boundary.
func clip(s string) string {
	if len(s) <= 300 {
		return s
	}
	cut := 300
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "..."
}
