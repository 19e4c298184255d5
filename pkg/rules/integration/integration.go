// Package integration holds the rules that judge a Task against the real
// build pipelines: can every param and workspace be bound, does the
// composed Pipeline pass Tekton's validation, does a check report
// TEST_OUTPUT, and which pipelines the Task fits.
package integration

import (
	"fmt"
	"path/filepath"
	"regexp"
	"sort"
	"strings"

	v1 "github.com/tektoncd/pipeline/pkg/apis/pipeline/v1"
	"taskgate.dev/taskgate/pkg/catalog"
	"taskgate.dev/taskgate/pkg/check"
	"taskgate.dev/taskgate/pkg/manifest"
	"taskgate.dev/taskgate/pkg/pipeline"
)

// Checks are the integration rules.
var Checks = []*check.Check{UnboundParam, Workspace, Compose, TestOutput, Provenance}

// Contract is the build pipelines' contract, read once per run from the
// repository's --pipelines DIR (else its pipelines/). A directory that
// cannot be read is not a crash: the rules say integration was not checked.
var Contract = &check.Input{Name: "build pipelines", PerRun: true, Digest: digestContract, Compute: func(p *check.Pass) (any, error) {
	c, err := pipeline.Load(PipelinesDir(p.Repo))
	if err == nil && len(c.Pipelines) == 0 {
		err = fmt.Errorf("no build pipeline (pipelines/<name>/<name>.yaml holding a Pipeline) in %s", c.Dir)
		if len(c.Ignored) > 0 {
			err = fmt.Errorf("%v; not taken: %s", err, strings.Join(c.Ignored, "; "))
		}
	}
	return &loaded{c, err}, nil
}}

type loaded struct {
	contract *pipeline.Contract
	err      error
}

// Analysis is a submission composed into its build pipelines: what
// every integration rule reads, computed once per submission per run.
var Analysis = &check.Input{Name: "integration analysis", Requires: []*check.Input{Contract},
	Compute: func(p *check.Pass) (any, error) {
		return newAnalysis(p.Submission, p.ResultOf[Contract].(*loaded)), nil
	},
	Report: func(v any, r *check.SubmissionResult) { r.Integration = v.(*analysis).summary() },
}

var requires = []*check.Input{Analysis}

// Fitting are the places in the build pipelines the submission's Task
// composes into cleanly ([]*pipeline.Fit, in the pipelines' order; none
// when the pipelines are missing): how they bind its params and
// workspaces is what a sandboxed run gives it (cluster/run).
var Fitting = &check.Input{Name: "fitting build pipelines", Requires: []*check.Input{Analysis},
	Compute: func(p *check.Pass) (any, error) {
		var out []*pipeline.Fit
		for _, f := range p.ResultOf[Analysis].(*analysis).fits {
			if f.OK() {
				out = append(out, f)
			}
		}
		return out, nil
	},
}

// analysis is everything the rules need about one submission.
type analysis struct {
	contract *pipeline.Contract
	loadErr  error

	m        *manifest.File
	task     *v1.Task
	slot     pipeline.Slot // "" when the Task is no check: placed per pipeline
	slotWhy  string
	declared bool // the slot comes from the annotation
	slotErr  error
	mapping  pipeline.Mapping
	mapErr   error
	targets  map[string]bool // nil: every pipeline
	unknown  []string        // targeted pipelines that do not exist

	fits []*pipeline.Fit // one per pipeline considered
	// judged are the fits whose problems are errors: every named target,
	// or, when the Task fits none of its default targets, all of them.
	judged []*pipeline.Fit
}

// PipelinesDir is where a submission's build pipelines are: the
// repository's --pipelines DIR, else its pipelines/.
func PipelinesDir(r *catalog.Repo) string {
	if r.PipelinesDir != "" {
		return r.PipelinesDir
	}
	return filepath.Join(r.Root, "pipelines")
}

// Analyze composes a submission's Task into the build pipelines of a
// contract (the integrate command writes the result out).
func Analyze(c *pipeline.Contract, s *catalog.Submission) (fits []*pipeline.Fit, err error) {
	a := newAnalysis(s, &loaded{contract: c})
	switch {
	case a.task == nil:
		return nil, fmt.Errorf("%s: no Task to compose", s.ID())
	case a.slotErr != nil:
		return nil, a.slotErr
	case a.mapErr != nil:
		return nil, a.mapErr
	}
	return a.fits, nil
}

func newAnalysis(s *catalog.Submission, l *loaded) *analysis {
	a := &analysis{contract: l.contract, loadErr: l.err}
	if s.Manifest == nil || s.Manifest.Task == nil {
		return a
	}
	a.m, a.task = s.Manifest, s.Manifest.Task
	a.slot, a.slotWhy, a.slotErr = pipeline.InferSlot(a.task)
	_, a.declared = a.task.Annotations[pipeline.SlotAnnotation]
	a.mapping, a.mapErr = pipeline.ParseMapping(a.task.Annotations[pipeline.BindAnnotation])
	if v, ok := a.task.Annotations[pipeline.PipelinesAnnotation]; ok {
		a.targets = map[string]bool{}
		for _, n := range strings.FieldsFunc(v, func(r rune) bool { return r == ',' || r == ' ' || r == '\n' }) {
			a.targets[n] = true
		}
	}
	if !a.ready() {
		return a
	}
	for n := range a.targets {
		if a.contract.Pipeline(n) == nil {
			a.unknown = append(a.unknown, n)
		}
	}
	sort.Strings(a.unknown)
	anyFits := false
	for _, b := range a.contract.Pipelines {
		if !a.targeted(b.Name) {
			continue
		}
		f := b.Judge(a.task, a.slot, a.declared, a.mapping)
		if f.NoSlot != "" && a.targets == nil && a.slot.IsCheck() {
			continue // no image to check there: not a target
		}
		a.fits = append(a.fits, f)
		anyFits = anyFits || f.OK()
	}
	switch {
	case a.targets != nil:
		a.judged = a.fits
	case !anyFits:
		a.judged = a.fits
	}
	return a
}

func (a *analysis) targeted(name string) bool { return a.targets == nil || a.targets[name] }

// ready reports whether the pipelines were composed into.
func (a *analysis) ready() bool {
	return a.task != nil && a.loadErr == nil && a.slotErr == nil && a.mapErr == nil
}

// start reads the analysis and says whether the rule can judge; when the
// build pipelines are missing the rule did not run, and says so.
func start(pass *check.Pass) (*analysis, bool) {
	a := pass.ResultOf[Analysis].(*analysis)
	if a.task != nil && a.loadErr != nil {
		pass.NotRun("integration was not checked: " + a.loadErr.Error())
	}
	return a, a.ready()
}

const (
	bindPath  = "metadata.annotations[" + pipeline.BindAnnotation + "]"
	slotPath  = "metadata.annotations[" + pipeline.SlotAnnotation + "]"
	targetsAt = "metadata.annotations[" + pipeline.PipelinesAnnotation + "]"
)

// group collects pipeline names under a key (a reason), keeping order.
type group struct {
	keys  []string
	names map[string][]string
}

func (g *group) add(key, name string) {
	if g.names == nil {
		g.names = map[string][]string{}
	}
	if _, ok := g.names[key]; !ok {
		g.keys = append(g.keys, key)
	}
	g.names[key] = append(g.names[key], name)
}

// of says "a, b (2 of 5 build pipelines)", or "all 5 build pipelines".
func (a *analysis) of(names []string) string {
	if len(names) == len(a.contract.Pipelines) && len(names) > 1 {
		return fmt.Sprintf("all %d build pipelines (%s)", len(names), strings.Join(names, ", "))
	}
	return fmt.Sprintf("%s (%d of %d build pipelines)", strings.Join(names, ", "), len(names), len(a.contract.Pipelines))
}

// UnboundParam finds params no slot of the build pipelines can bind.
var UnboundParam = &check.Check{
	ID:       "integration/unbound-param",
	Doc:      "a required param no slot of the build pipeline can bind",
	Severity: check.Error,
	Help: "give the param a default, name it like a value the pipelines provide (IMAGE_URL, IMAGE_DIGEST, a pipeline param, what the checks get), " +
		"or map it: `" + pipeline.BindAnnotation + `: "PARAM=$(tasks.<task>.results.<result>),OTHER=$(params.<param>)"` + "` (comma-separated NAME=VALUE; VALUE is any Tekton value)",
	Bad: `apiVersion: tekton.dev/v1
kind: Task
metadata:
  name: license-scan
spec:
  params:
  - name: image-url
  - name: license-server
  steps:
  - name: scan
    image: registry.access.redhat.com/ubi9/ubi-minimal@sha256:95413c8dacaac773421428947a431c1cb099d19b4b1125df77d5d1cd2f463ab8
    script: echo scanning
`,
	Fixed: `apiVersion: tekton.dev/v1
kind: Task
metadata:
  name: license-scan
spec:
  params:
  - name: image-url
  - name: license-server
    default: ""   # empty: the scan reports SKIPPED
  steps:
  - name: scan
    image: registry.access.redhat.com/ubi9/ubi-minimal@sha256:95413c8dacaac773421428947a431c1cb099d19b4b1125df77d5d1cd2f463ab8
    script: echo scanning
`,
	Requires: requires,
	Run: func(pass *check.Pass) []check.Finding {
		a, ok := start(pass)
		if !ok {
			return nil
		}
		byParam := map[string]*group{}
		var order []string
		for _, f := range a.judged {
			for _, u := range f.UnboundParams {
				if byParam[u.Name] == nil {
					byParam[u.Name] = &group{}
					order = append(order, u.Name)
				}
				byParam[u.Name].add(u.Why, f.Build.Name)
			}
		}
		var out []check.Finding
		for _, name := range order {
			g := byParam[name]
			for _, why := range g.keys {
				pipes := g.names[why]
				if why != "" {
					out = append(out, check.At(a.m, bindPath, "param %q cannot be bound in %s: %s", name, a.of(pipes), why).
						WithHelp("fix the mapping for these pipelines, or drop it and let the param bind by name"))
					continue
				}
				f := check.At(a.m, "spec.params["+name+"]", "required param %q (no default) cannot be bound in %s: nothing there is named like it", name, a.of(pipes))
				f.Help = fmt.Sprintf("give %s a default, rename it to a name that binds, or map it with `%s: \"%s=<value>\"`. Names that bind in all of them: %s",
					name, pipeline.BindAnnotation, name, a.available(pipes))
				out = append(out, f)
			}
		}
		return out
	},
}

// available lists the names a param can have to bind in every one of the
// pipelines (and the extra ones some of them offer).
func (a *analysis) available(names []string) string {
	type kind struct {
		label string
		names func(*pipeline.Build) []string
	}
	kinds := []kind{
		{"results of the image producer", func(b *pipeline.Build) []string {
			if b.Producer == "" {
				return nil
			}
			var out []string
			for r := range b.Tasks[b.Producer].Results {
				out = append(out, r)
			}
			return out
		}},
		{"what the checks get", func(b *pipeline.Build) []string {
			var out []string
			for _, in := range b.Inputs {
				out = append(out, in.Param)
			}
			return out
		}},
		{"pipeline params", func(b *pipeline.Build) []string {
			var out []string
			for _, p := range b.Pipeline.Spec.Params {
				out = append(out, p.Name)
			}
			return out
		}},
	}
	var parts []string
	seen := map[string]bool{}
	var extra []string
	for _, k := range kinds {
		count := map[string]int{}
		for _, n := range names {
			for _, x := range unique(k.names(a.contract.Pipeline(n))) {
				count[x]++
			}
		}
		var all []string
		for x, c := range count {
			if seen[pipeline.Norm(x)] {
				continue
			}
			seen[pipeline.Norm(x)] = true
			if c == len(names) {
				all = append(all, x)
			} else {
				extra = append(extra, x)
			}
		}
		sort.Strings(all)
		if len(all) > 0 {
			parts = append(parts, strings.Join(all, ", ")+" ("+k.label+")")
		}
	}
	s := strings.Join(parts, "; ")
	if s == "" {
		s = "none"
	}
	if len(extra) > 0 {
		sort.Strings(extra)
		if len(extra) > 12 {
			extra = append(extra[:12], fmt.Sprintf("… (%d more)", len(extra)-12))
		}
		s += "; only in some: " + strings.Join(extra, ", ")
	}
	return s
}

func unique(xs []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, x := range xs {
		if !seen[x] {
			seen[x] = true
			out = append(out, x)
		}
	}
	return out
}

// Workspace finds workspaces the build pipelines cannot provide.
var Workspace = &check.Check{
	ID:       "integration/workspace",
	Doc:      "a non-optional workspace the build pipelines cannot provide",
	Severity: check.Error,
	Help: "take the sources the way those pipelines pass them (a SOURCE_ARTIFACT param on trusted-artifacts pipelines), make the workspace optional, " +
		"or target only the pipelines that provide it: `" + pipeline.PipelinesAnnotation + `: "docker-build"` + "`",
	Bad: `apiVersion: tekton.dev/v1
kind: Task
metadata:
  name: source-lint
  annotations:
    taskgate.dev/pipelines: docker-build-oci-ta   # passes sources as trusted artifacts
spec:
  params:
  - name: image-url
  workspaces:
  - name: source
  steps:
  - name: lint
    image: registry.access.redhat.com/ubi9/ubi-minimal@sha256:95413c8dacaac773421428947a431c1cb099d19b4b1125df77d5d1cd2f463ab8
    workingDir: $(workspaces.source.path)
    script: ls
`,
	Fixed: `apiVersion: tekton.dev/v1
kind: Task
metadata:
  name: source-lint
  annotations:
    taskgate.dev/pipelines: docker-build   # a pipeline with a source workspace
spec:
  params:
  - name: image-url
  workspaces:
  - name: source
  steps:
  - name: lint
    image: registry.access.redhat.com/ubi9/ubi-minimal@sha256:95413c8dacaac773421428947a431c1cb099d19b4b1125df77d5d1cd2f463ab8
    workingDir: $(workspaces.source.path)
    script: ls
`,
	Requires: requires,
	Run: func(pass *check.Pass) []check.Finding {
		a, ok := start(pass)
		if !ok {
			return nil
		}
		byWS := map[string]*group{}
		var order []string
		var providers []string // pipelines with a source workspace
		for _, b := range a.contract.Pipelines {
			if b.SourceWorkspace != "" {
				providers = append(providers, b.Name)
			}
		}
		for _, f := range a.judged {
			for _, u := range f.MissingWorkspaces {
				if byWS[u.Name] == nil {
					byWS[u.Name] = &group{}
					order = append(order, u.Name)
				}
				why := u.Why
				if why == "" {
					why = lacks(f.Build)
				}
				byWS[u.Name].add(why, f.Build.Name)
			}
		}
		var out []check.Finding
		for _, name := range order {
			for _, why := range byWS[name].keys {
				pipes := byWS[name].names[why]
				f := check.At(a.m, "spec.workspaces["+name+"]", "workspace %q (not optional) cannot be provided by %s: %s", name, a.of(pipes), why)
				help := "make the workspace optional (and skip cleanly without it)"
				if strings.Contains(why, "SOURCE_ARTIFACT") {
					help = "take the sources as a SOURCE_ARTIFACT param and unpack them with the trusted-artifacts step (as sast-snyk-check-oci-ta does), or " + help
				}
				if len(providers) > 0 {
					help += fmt.Sprintf(", or target the pipelines that have a source workspace: `%s: %q`", pipeline.PipelinesAnnotation, strings.Join(providers, ","))
				}
				out = append(out, f.WithHelp(help))
			}
		}
		return out
	},
}

// lacks says why a pipeline has no workspace for a Task.
func lacks(b *pipeline.Build) string {
	var optional []string
	for _, w := range b.Pipeline.Spec.Workspaces {
		if w.Optional {
			optional = append(optional, w.Name)
		}
	}
	why := "they declare no non-optional workspace"
	if len(optional) > 0 {
		why += " (only the optional " + strings.Join(optional, ", ") + ")"
	}
	if in, ok := b.Inputs[pipeline.Norm("SOURCE_ARTIFACT")]; ok {
		why += fmt.Sprintf("; they pass sources as trusted artifacts: their checks get %s = %s", in.Param, in.Value.StringVal)
	}
	return why
}

// Compose judges the composed Pipelines with Tekton's own validation.
var Compose = &check.Check{
	ID:       "integration/compose",
	Doc:      "the build pipeline with the Task inserted fails Tekton validation (also: bad taskgate.dev/slot, bind or pipelines annotations; pipelines not found)",
	Severity: check.Error,
	Help:     "fix the Task (or its " + pipeline.BindAnnotation + " mapping) so that the composed Pipeline passes Tekton's admission validation; `taskgate integrate --out DIR` writes the composed Pipelines to inspect",
	Bad: `apiVersion: tekton.dev/v1
kind: Task
metadata:
  name: report-status
  annotations:
    taskgate.dev/slot: post-build
    taskgate.dev/bind: "status=$(tasks.status)"   # only finally tasks may read it
spec:
  params:
  - name: image-url
  - name: status
  steps:
  - name: report
    image: registry.access.redhat.com/ubi9/ubi-minimal@sha256:95413c8dacaac773421428947a431c1cb099d19b4b1125df77d5d1cd2f463ab8
    env:
    - name: STATUS
      value: $(params.status)
    script: echo "$STATUS"
`,
	Fixed: `apiVersion: tekton.dev/v1
kind: Task
metadata:
  name: report-status
  annotations:
    taskgate.dev/slot: finally
    taskgate.dev/bind: "status=$(tasks.status)"
spec:
  params:
  - name: image-url
  - name: status
  steps:
  - name: report
    image: registry.access.redhat.com/ubi9/ubi-minimal@sha256:95413c8dacaac773421428947a431c1cb099d19b4b1125df77d5d1cd2f463ab8
    env:
    - name: STATUS
      value: $(params.status)
    script: echo "$STATUS"
`,
	Requires: requires,
	Run: func(pass *check.Pass) []check.Finding {
		a, _ := start(pass)
		if a.task == nil {
			return nil
		}
		var out []check.Finding
		if a.loadErr != nil {
			f := check.At(a.m, "metadata.name", "integration was not checked: %v", a.loadErr)
			f.Severity = check.Info
			f.Help = "point taskgate at the build pipelines: `taskgate validate --pipelines DIR` where DIR is a build-definitions checkout or its pipelines/ directory (pipelines/<name>/<name>.yaml)"
			out = append(out, f)
		}
		if a.slotErr != nil {
			out = append(out, check.At(a.m, slotPath, "%v", a.slotErr).
				WithHelp(fmt.Sprintf("set %s to image-check (runs after the image is built), source-check (reads the sources) or finally (never blocks), or remove it to let taskgate infer the slot", pipeline.SlotAnnotation)))
		}
		if a.mapErr != nil {
			out = append(out, check.At(a.m, bindPath, "%s: %v", pipeline.BindAnnotation, a.mapErr).
				WithHelp("write comma-separated NAME=VALUE pairs: `"+pipeline.BindAnnotation+`: "image-url=$(tasks.build-image-index.results.IMAGE_URL)"`+"`"))
		} else if a.task != nil {
			for _, k := range a.mapping.Unknown(a.task) {
				out = append(out, check.At(a.m, bindPath, "%s binds %q, which is neither a param nor a workspace of the Task", pipeline.BindAnnotation, k).
					WithHelp("bind only the Task's own params and workspaces; check the spelling"))
			}
		}
		if !a.ready() {
			return out
		}
		for _, n := range a.unknown {
			out = append(out, check.At(a.m, targetsAt, "%s names %q, which is not one of the build pipelines", pipeline.PipelinesAnnotation, n).
				WithHelp("name pipelines among: "+strings.Join(a.contract.Names(), ", ")))
		}
		if a.slot == pipeline.SourceCheck {
			for _, r := range a.task.Spec.Results {
				if pipeline.Norm(r.Name) == pipeline.Norm("SOURCE_ARTIFACT") && !a.replacesEmitter(r.Name) {
					out = append(out, check.At(a.m, "spec.results["+r.Name+"]", "a source-check must not emit a modified %s: the build would not use it, and trust in the sources would be lost", r.Name).
						WithHelp("remove the result: a check reads the sources and reports through TEST_OUTPUT"))
				}
			}
		}
		out = append(out, a.composeErrors()...)
		if f := a.nowhere(); f != nil {
			out = append(out, *f)
		}
		return out
	},
}

// replacesEmitter tells whether the Task takes, in some pipeline, the
// place of a pipeline Task that emits the result itself (a builder such
// as fbc-inject-lifecycle-oci-ta, which also reports TEST_OUTPUT).
func (a *analysis) replacesEmitter(result string) bool {
	for _, f := range a.fits {
		if f.OK() && f.Place != nil && f.Replace && f.Place.Emits[result] {
			return true
		}
	}
	return false
}

// nowhere warns when the Task fits no targeted pipeline for lack of a
// slot alone (the other reasons are errors of their own rules).
func (a *analysis) nowhere() *check.Finding {
	for _, f := range a.fits {
		if f.OK() || f.NoSlot == "" {
			return nil
		}
	}
	why := fmt.Sprintf("none of the %d build pipelines has a place for a %s", len(a.contract.Pipelines), a.slot)
	switch {
	case !a.slot.IsCheck():
		why = fmt.Sprintf("no place of the %d takes it: it emits none of the results they read from their builders, takes nothing their tasks after the image are fed, and, emitting results, is no finally task", len(a.fits))
	case len(a.fits) > 0:
		why = a.fits[0].NoSlot
	}
	f := check.At(a.m, "metadata.name", "the Task fits none of the build pipelines it targets: %s", why)
	if !a.slot.IsCheck() {
		// a Task must fit at least one of its targets
		f.Help = fmt.Sprintf("emit what a place's consumers read (to replace a builder), take what a task after the image is fed (image-url, IMAGE_URL, ...), map your params with %s, or declare %s", pipeline.BindAnnotation, pipeline.SlotAnnotation)
		return &f
	}
	f.Severity = check.Warning
	f.Help = fmt.Sprintf("point taskgate at the pipelines that build images (--pipelines DIR), or make the Task a finally Task (%s: finally)", pipeline.SlotAnnotation)
	return &f
}

// composeErrors maps Tekton's errors on the composed Pipelines back to
// the Task's file, one finding per distinct error naming its pipelines.
func (a *analysis) composeErrors() []check.Finding {
	type key struct {
		path, msg string
	}
	var order []key
	pipes := map[key][]string{}
	for _, f := range a.judged {
		prefix := f.FieldPath() + "."
		for _, e := range f.Errors {
			msg := e.Message
			if e.Details != "" {
				msg += ": " + e.Details
			}
			paths := e.Paths
			if len(paths) == 0 {
				paths = []string{""}
			}
			for _, p := range paths {
				k := key{a.taskPath(strings.TrimPrefix(p, prefix), strings.HasPrefix(p, prefix)), msg}
				if p == "" {
					k.msg += " (in the composed Pipeline)"
				} else if !strings.HasPrefix(p, prefix) {
					k.msg += " (at " + p + " of the composed Pipeline)"
				} else if p != prefix {
					k.msg += " (at " + strings.TrimPrefix(p, prefix) + ")"
				}
				if pipes[k] == nil {
					order = append(order, k)
				}
				pipes[k] = append(pipes[k], f.Build.Name)
			}
		}
	}
	var out []check.Finding
	for _, k := range order {
		out = append(out, check.At(a.m, k.path, "Tekton rejects the Task composed into %s: %s", a.of(pipes[k]), k.msg))
	}
	return out
}

var taskSpecField = regexp.MustCompile(`^(steps|sidecars|volumes|stepTemplate|results)\b`)

// taskPath maps a path inside the inserted pipeline task to the Task's
// file: taskSpec.X is the Task's spec.X; a param bound by the mapping is
// the bind annotation.
func (a *analysis) taskPath(p string, inTask bool) string {
	switch {
	case !inTask:
		return "metadata.name"
	case strings.HasPrefix(p, "taskSpec."):
		return "spec." + strings.TrimPrefix(p, "taskSpec.")
	case taskSpecField.MatchString(p):
		return "spec." + p // some validations drop the taskSpec segment
	case strings.HasPrefix(p, "params"):
		segs := manifest.ParsePath(p)
		if len(segs) > 1 && segs[1].IsKey {
			if _, mapped := a.mapping[segs[1].Key]; mapped {
				return bindPath
			}
			return "spec.params[" + segs[1].Key + "]"
		}
		if _, ok := a.task.Annotations[pipeline.BindAnnotation]; ok {
			return bindPath
		}
		return "spec.params"
	case strings.HasPrefix(p, "workspaces"):
		return "spec.workspaces"
	}
	return "metadata.name"
}

// describe says how the Task fits one pipeline, or why not.
func (a *analysis) describe(f *pipeline.Fit) string {
	if f.OK() {
		var binds []string
		for _, x := range append(append([]pipeline.Binding{}, f.Params...), f.Workspaces...) {
			binds = append(binds, x.Name+"="+x.Value)
		}
		bound := "binds nothing (defaults only)"
		if len(binds) > 0 {
			bound = "binds " + strings.Join(binds, ", ")
		}
		return where(f) + "; " + bound
	}
	return strings.Join(f.Problems(), "; ")
}

// where says where a fit puts the Task.
func where(f *pipeline.Fit) string {
	b := f.Build
	switch {
	case f.Place != nil && f.Replace:
		return fmt.Sprintf("in place of %s (%s)", f.Place.Spec.Name, f.Place.Info.Ref)
	case f.Place != nil:
		return fmt.Sprintf("beside %s, after %s", f.Place.Spec.Name, strings.Join(f.Place.Spec.RunAfter, ", "))
	case f.InFinally:
		return "in finally"
	}
	w := "after " + b.Producer
	if len(b.Gate) > 0 {
		w += " when " + gate(b.Gate)
	}
	return w
}

func gate(ws v1.WhenExpressions) string {
	var out []string
	for _, w := range ws {
		if w.CEL != "" {
			out = append(out, w.CEL)
			continue
		}
		out = append(out, fmt.Sprintf("%s %s [%s]", w.Input, w.Operator, strings.Join(w.Values, ", ")))
	}
	return strings.Join(out, " and ")
}

// summary is the submission's integration summary: a line per group of
// pipelines the Task fits the same way, a line per reason it does not
// fit others, and one verdict per pipeline for tools.
func (a *analysis) summary() *check.Integration {
	if a.task == nil {
		return nil
	}
	in := &check.Integration{Fits: []check.Fit{}}
	switch {
	case a.loadErr != nil:
		in.Lines = []string{"not checked: " + a.loadErr.Error()}
		return in
	case a.slotErr != nil:
		in.Lines = []string{"not checked: " + a.slotErr.Error()}
		return in
	case a.mapErr != nil:
		in.Lines = []string{"not checked: " + pipeline.BindAnnotation + ": " + a.mapErr.Error()}
		return in
	}
	var ok, not group
	n := 0
	for _, f := range a.fits {
		reason := a.describe(f)
		in.Fits = append(in.Fits, check.Fit{Pipeline: f.Build.Name, Fits: f.OK(), Slot: string(f.Slot), Reason: reason})
		if f.OK() {
			n++
			ok.add(fmt.Sprintf("as %s %s", f.Slot, where(f)), f.Build.Name)
		} else {
			not.add(reason, f.Build.Name)
		}
	}
	verdict := fmt.Sprintf("fits %d of %d build pipelines", n, len(a.fits))
	if a.slotWhy != "" {
		verdict += " (" + a.slotWhy + ")"
	}
	in.Lines = append(in.Lines, verdict)
	for _, k := range ok.keys {
		in.Lines = append(in.Lines, fmt.Sprintf("  fits %s %s", list(ok.names[k]), k))
	}
	for _, k := range not.keys {
		in.Lines = append(in.Lines, fmt.Sprintf("  does not fit %s: %s", list(not.names[k]), k))
	}
	if len(a.fits) < len(a.contract.Pipelines) {
		why := "no place for a " + string(a.slot)
		if a.targets != nil {
			why = "not named by " + pipeline.PipelinesAnnotation
		}
		in.Lines = append(in.Lines, fmt.Sprintf("  not considered: %d (%s)", len(a.contract.Pipelines)-len(a.fits), why))
	}
	return in
}

// list names pipelines, shortened past a few.
func list(names []string) string {
	if len(names) > 4 {
		return fmt.Sprintf("%s and %d more", strings.Join(names[:3], ", "), len(names)-3)
	}
	return strings.Join(names, ", ")
}
