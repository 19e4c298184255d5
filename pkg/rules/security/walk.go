package security

import (
	"fmt"
	"strings"
	"sync"

	v1 "github.com/tektoncd/pipeline/pkg/apis/pipeline/v1"
	corev1 "k8s.io/api/core/v1"
	"taskgate.dev/taskgate/pkg/catalog"
	"taskgate.dev/taskgate/pkg/check"
	"taskgate.dev/taskgate/pkg/manifest"
	"taskgate.dev/taskgate/pkg/rules/stepactions"
)

// container is one container of a submission, as written and as it runs.
type container struct {
	role string // "step", "sidecar", "stepTemplate" or "StepAction"
	name string
	file *manifest.File // where it is written
	path string         // its field path in file: spec.steps[2], spec.sidecars[0], spec
	// raw is the container as written; eff is what runs: a step merged
	// with the Task's stepTemplate the way Tekton merges it. eff is nil for
	// the stepTemplate itself (it never runs on its own).
	raw, eff *corev1.Container
	script   string
	ports    []corev1.ContainerPort // sidecars only
	// inherits: the Task's stepTemplate is merged into this container.
	inherits bool
	// for a StepAction reached through a step's ref: the step, and the
	// StepAction's params with the values the step passes.
	viaStep   string
	stepPath  string // the referring step's path in the Task file
	params    []v1.ParamSpec
	stepParam v1.Params

	parseOnce    sync.Once
	parsedScript *script
}

// parsed is the container's script, parsed once for every rule that reads it.
func (c *container) parsed() *script {
	c.parseOnce.Do(func() { c.parsedScript = parseScript(c.script) })
	return c.parsedScript
}

// label names a container in messages: `step "build"`.
func (c *container) label() string {
	switch {
	case c.viaStep != "":
		return fmt.Sprintf("step %q (StepAction %s)", c.viaStep, c.name)
	case c.role == "stepTemplate":
		return "stepTemplate"
	}
	return fmt.Sprintf("%s %q", c.role, c.name)
}

// unresolved is a step whose StepAction the gate could not read.
type unresolved struct {
	step, path, why string
}

// task is what the security rules see of a submission.
type task struct {
	s          *catalog.Submission
	actions    stepactions.Files // the repository's, to resolve step refs
	file       *manifest.File
	spec       *v1.TaskSpec // nil for a StepAction submission
	containers []*container // steps, StepActions, sidecars, stepTemplate
	unresolved []unresolved
}

// loaded is a submission's containers, built once for the security
// rules that judge them (each a copy of the Task merged with its
// stepTemplate): the rules only read it.
var loaded = &check.Input{Name: "containers", Requires: []*check.Input{stepactions.Index},
	Compute: func(pass *check.Pass) (any, error) { return load(pass), nil }}

// loadedOf is the containers of a pass whose check requires loaded, or nil.
func loadedOf(pass *check.Pass) *task {
	t, _ := pass.ResultOf[loaded].(*task)
	return t
}

// load builds the containers of a Task (or StepAction) submission. A
// manifest that did not decode yields nil: tekton/schema reports it.
func load(pass *check.Pass) *task {
	s := pass.Submission
	m := s.Manifest
	if m == nil || m.Root == nil {
		return nil
	}
	t := &task{s: s, file: m, actions: stepactions.Of(pass)}
	switch {
	case m.Task != nil:
		t.spec = &m.Task.Spec
		t.loadTask()
	case m.StepAction != nil:
		st := m.StepAction.Spec.ToStep()
		c := &container{role: "StepAction", name: m.Name, file: m, path: "spec", raw: st.ToK8sContainer(), script: st.Script, params: m.StepAction.Spec.Params}
		c.eff = c.raw
		t.containers = append(t.containers, c)
	default:
		return nil
	}
	return t
}

func (t *task) loadTask() {
	spec := t.spec.DeepCopy()
	tmpl := spec.StepTemplate
	for i := range spec.Steps {
		st := spec.Steps[i]
		p := fmt.Sprintf("spec.steps[%d]", i)
		if st.Ref == nil {
			c := &container{role: "step", name: st.Name, file: t.file, path: p, raw: st.ToK8sContainer(), script: st.Script, inherits: tmpl != nil}
			c.eff = t.merge(c.raw, st, tmpl)
			t.containers = append(t.containers, c)
			continue
		}
		t.refContainers(st, p, tmpl)
	}
	for i, sc := range spec.Sidecars {
		raw := sc.ToK8sContainer()
		t.containers = append(t.containers, &container{role: "sidecar", name: sc.Name, file: t.file,
			path: fmt.Sprintf("spec.sidecars[%d]", i), raw: raw, eff: raw, script: sc.Script, ports: sc.Ports})
	}
	if tmpl != nil {
		t.containers = append(t.containers, &container{role: "stepTemplate", file: t.file, path: "spec.stepTemplate", raw: tmpl.ToK8sContainer()})
	}
}

// merge applies the stepTemplate with Tekton's own MergeStepsWithStepTemplate.
func (t *task) merge(raw *corev1.Container, st v1.Step, tmpl *v1.StepTemplate) *corev1.Container {
	if tmpl == nil {
		return raw
	}
	st.Ref = nil // a resolved StepAction step is merged like an inline one
	merged, err := v1.MergeStepsWithStepTemplate(tmpl, []v1.Step{st})
	if err != nil || len(merged) != 1 {
		return raw // tekton/schema reports a template Tekton cannot merge
	}
	return merged[0].ToK8sContainer()
}

// refContainers resolves a step's ref to StepActions of this repository.
// Tekton replaces the step by the StepAction and then merges the
// stepTemplate into it (pkg/reconciler/taskrun/resources.resolveStepRef,
// then pkg/pod).
func (t *task) refContainers(st v1.Step, p string, tmpl *v1.StepTemplate) {
	ref := st.Ref
	if ref.Resolver != "" {
		t.unresolved = append(t.unresolved, unresolved{st.Name, p + ".ref", fmt.Sprintf("is fetched by the %s resolver at run time", ref.Resolver)})
		return
	}
	files := t.actions.Named(ref.Name, t.s.Dir)
	if len(files) == 0 {
		t.unresolved = append(t.unresolved, unresolved{st.Name, p + ".ref", fmt.Sprintf("refers to StepAction %q, which is not in this repository", ref.Name)})
		return
	}
	for _, f := range files {
		sa := f.StepAction.Spec.ToStep()
		// the step's own securityContext is replaced by the StepAction's
		rs := st
		rs.SecurityContext = sa.SecurityContext
		rs.Image, rs.Command, rs.Args, rs.Script, rs.Env, rs.VolumeMounts, rs.WorkingDir = sa.Image, sa.Command, sa.Args, sa.Script, sa.Env, sa.VolumeMounts, sa.WorkingDir
		c := &container{role: "StepAction", name: f.Name, file: f, path: "spec", raw: sa.ToK8sContainer(), script: sa.Script,
			inherits: tmpl != nil, viaStep: st.Name, stepPath: p, params: f.StepAction.Spec.Params, stepParam: st.Params}
		c.eff = t.merge(c.raw, rs, tmpl)
		t.containers = append(t.containers, c)
	}
}

// running returns the containers that run (not the stepTemplate).
func (t *task) running() []*container {
	var out []*container
	for _, c := range t.containers {
		if c.eff != nil {
			out = append(out, c)
		}
	}
	return out
}

// origin says where a field of a container's effective spec is written:
// in the container itself, or inherited from the Task's stepTemplate.
func (t *task) origin(c *container, sub string) (f *manifest.File, p string, inherited bool) {
	own := c.path + "." + sub
	if c.file.Node(own) != nil || !c.inherits {
		return c.file, own, false
	}
	if t.file.Node("spec.stepTemplate."+sub) != nil {
		return t.file, "spec.stepTemplate." + sub, true
	}
	return c.file, own, false
}

// unresolvedInfos says, for one family, which steps it could not inspect.
func (t *task) unresolvedInfos(what string) []check.Finding {
	var out []check.Finding
	for _, u := range t.unresolved {
		f := at(t.file, u.path, "step %q %s: its %s could not be inspected", u.step, u.why, what)
		f.Severity = check.Info
		out = append(out, f.WithHelp("commit the StepAction to this repository (and refer to it by name) so the gate checks it, or check it by hand before approving"))
	}
	return out
}

// at builds a finding at a field path, pointing at the field's key
// (`hostPath:`) rather than at its value when the field is a mapping.
func at(f *manifest.File, p, format string, args ...any) check.Finding {
	if i := strings.LastIndexByte(p, '.'); i > 0 && !strings.HasSuffix(p, "]") {
		if parent := f.Node(p[:i]); parent != nil {
			if k := manifest.MapKey(parent, p[i+1:]); k != nil {
				return check.AtNode(f.Path, k, format, args...)
			}
		}
	}
	return check.At(f, p, format, args...)
}

// group collects findings by the place they point at, so that a value
// inherited from the stepTemplate is reported once, naming its heirs.
type group struct {
	order []string
	byKey map[string]*groupEntry
}

type groupEntry struct {
	f         *manifest.File
	path, msg string
	sev       check.Severity
	inherited bool
	who       []string
	help      string
}

func (g *group) add(f *manifest.File, p string, inherited bool, who string, sev check.Severity, help, msg string) {
	if g.byKey == nil {
		g.byKey = map[string]*groupEntry{}
	}
	key := f.Path + "\x00" + p + "\x00" + msg
	e := g.byKey[key]
	if e == nil {
		e = &groupEntry{f: f, path: p, msg: msg, sev: sev, inherited: inherited, help: help}
		g.byKey[key] = e
		g.order = append(g.order, key)
	}
	e.who = append(e.who, who)
}

func (g *group) findings() []check.Finding {
	var out []check.Finding
	for _, k := range g.order {
		e := g.byKey[k]
		var fd check.Finding
		if e.inherited {
			fd = at(e.f, e.path, "stepTemplate %s; inherited by %s", e.msg, strings.Join(e.who, ", "))
		} else {
			fd = at(e.f, e.path, "%s %s", strings.Join(e.who, ", "), e.msg)
		}
		fd.Severity, fd.Help = e.sev, e.help
		out = append(out, fd)
	}
	return out
}
