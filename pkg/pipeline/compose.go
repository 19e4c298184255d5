package pipeline

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strings"

	v1 "github.com/tektoncd/pipeline/pkg/apis/pipeline/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	"knative.dev/pkg/apis"
)

// Slot is where a Task goes in a build pipeline: the role of the place
// it takes.
type Slot string

// The slots of DESIGN.md's contract, as the pipelines place their own Tasks.
const (
	ImageCheck  Slot = "image-check"  // after the image producer, gated like the checks
	SourceCheck Slot = "source-check" // same, reading the sources (workspace or SOURCE_ARTIFACT)
	Builder     Slot = "builder"      // in place of a task whose results the pipeline reads (clone, prefetch, build)
	PostBuild   Slot = "post-build"   // beside a task after the producer that is no check (apply-tags)
	Finally     Slot = "finally"      // in finally: never blocks the build
)

// Slots lists the valid slots.
var Slots = []Slot{ImageCheck, SourceCheck, Builder, PostBuild, Finally}

// Annotations a submission may set on its Task.
const (
	SlotAnnotation      = "taskgate.dev/slot"      // one of Slots
	BindAnnotation      = "taskgate.dev/bind"      // NAME=VALUE[,NAME=VALUE]
	PipelinesAnnotation = "taskgate.dev/pipelines" // the build pipelines the Task targets (default: all)
)

// testOutput is the result every check of the build pipelines reports.
const testOutput = "TEST_OUTPUT"

// IsCheck tells whether a slot's Task must report TEST_OUTPUT.
func (s Slot) IsCheck() bool { return s == ImageCheck || s == SourceCheck }

// InferSlot decides what a Task is before it is placed: the
// `taskgate.dev/slot` annotation; else a check when it declares
// TEST_OUTPUT (the pipelines' checks do, nothing else needs to): a
// source-check when it reads sources (a SOURCE_ARTIFACT param or a
// non-optional workspace), else an image-check. Any other Task gets ""
// and takes, per pipeline, a place where that pipeline runs Tasks like it
// (Build.Judge). The second value says why.
func InferSlot(t *v1.Task) (Slot, string, error) {
	if v, ok := t.Annotations[SlotAnnotation]; ok {
		for _, s := range Slots {
			if strings.TrimSpace(v) == string(s) {
				return s, "declared by " + SlotAnnotation, nil
			}
		}
		return "", "", fmt.Errorf("%s %q is not a slot (want one of %s)", SlotAnnotation, v, joinSlots())
	}
	declared := false
	for _, r := range t.Spec.Results {
		if r.Name == testOutput {
			declared = true
		}
	}
	if !declared {
		return "", "not a check: no " + testOutput + " result", nil
	}
	for _, p := range t.Spec.Params {
		if Norm(p.Name) == "sourceartifact" {
			return SourceCheck, fmt.Sprintf("a check: declares %s, takes the trusted-artifacts sources as %s", testOutput, p.Name), nil
		}
	}
	for _, w := range t.Spec.Workspaces {
		if !w.Optional {
			return SourceCheck, fmt.Sprintf("a check: declares %s, takes workspace %s", testOutput, w.Name), nil
		}
	}
	return ImageCheck, fmt.Sprintf("a check: declares %s", testOutput), nil
}

func joinSlots() string {
	var s []string
	for _, x := range Slots {
		s = append(s, string(x))
	}
	return strings.Join(s, ", ")
}

// Mapping is the submission's explicit bindings, from the annotation
// `taskgate.dev/bind: "PARAM=$(tasks.build-image-index.results.IMAGE_URL),WS=workspace"`:
// comma- or newline-separated NAME=VALUE pairs. NAME is a param of the
// Task (VALUE: any Tekton value, e.g. `$(params.output-image)` or a
// literal without commas) or a workspace of the Task (VALUE: a pipeline
// workspace name).
type Mapping map[string]string

// ParseMapping reads the bind annotation's value.
func ParseMapping(s string) (Mapping, error) {
	m := Mapping{}
	for _, part := range strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == '\n' }) {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		k, v, ok := strings.Cut(part, "=")
		k, v = strings.TrimSpace(k), strings.TrimSpace(v)
		if !ok || k == "" {
			return nil, fmt.Errorf("%q is not NAME=VALUE", part)
		}
		if _, dup := m[k]; dup {
			return nil, fmt.Errorf("%s is bound twice", k)
		}
		m[k] = v
	}
	return m, nil
}

// Binding is how one param or workspace of the Task is bound.
type Binding struct {
	Name  string
	Value string // the expression (or pipeline workspace) bound
	From  string // why: "mapping", "result of build-image-index", ...
}

// Unbound is a param or workspace nothing in a pipeline provides.
type Unbound struct {
	Name string
	Why  string
}

// Fit is a Task composed into one build pipeline.
type Fit struct {
	Build    *Build
	Slot     Slot
	TaskName string // the Task's name inside the pipeline
	// Place is the pipeline's own task the Task replaces (Builder, or its
	// own place) or runs beside (PostBuild); nil when it is inserted as a
	// new check or finally task.
	Place   *Place
	Replace bool
	// MissingResults are results the pipeline reads from the place that
	// the Task does not emit.
	MissingResults []string

	// NoSlot says why the pipeline has no place for the slot (no image
	// producer); nothing else is set then.
	NoSlot string

	Params            []Binding
	Workspaces        []Binding
	UnboundParams     []Unbound // params without default nothing binds, and failed mappings
	MissingWorkspaces []Unbound // non-optional workspaces the pipeline cannot provide

	// Composed is the pipeline with the Task inserted (nil when params or
	// workspaces are missing); Errors are Tekton's validation errors it
	// adds to the pipeline's own.
	Composed  *v1.Pipeline
	InFinally bool
	Index     int // position in Composed's tasks (or finally)
	Errors    []*apis.FieldError

	fed        int // params bound with what the place is fed
	params     v1.Params
	workspaces []v1.WorkspacePipelineTaskBinding
	matrix     *v1.Matrix
}

// OK reports whether the Task composes into the pipeline cleanly.
func (f *Fit) OK() bool {
	return f.NoSlot == "" && len(f.UnboundParams) == 0 && len(f.MissingWorkspaces) == 0 && len(f.MissingResults) == 0 && f.Composed != nil && len(f.Errors) == 0
}

// statusParams are the names a finally Task takes Tekton's aggregate
// status by.
var statusParams = map[string]bool{"status": true, "tasksstatus": true, "pipelinestatus": true, "aggregatestatus": true}

// Fit composes a Task into the pipeline in a slot: binds its params and
// workspaces, inserts it as an embedded taskSpec (runAfter the image
// producer and under the checks' gate, or in finally) and validates the
// result with Tekton.
func (b *Build) Fit(t *v1.Task, slot Slot, m Mapping) *Fit {
	f := &Fit{Build: b, Slot: slot, TaskName: b.freeName(t.Name)}
	if slot != Finally && b.Producer == "" {
		f.NoSlot = fmt.Sprintf("no task of %s produces %s (nothing to run a %s after)", b.Name, strings.Join(imageResults, "/"), slot)
		return f
	}
	var params v1.Params
	for _, p := range t.Spec.Params {
		val, from, why := b.bindParam(p, slot, nil, m)
		switch {
		case from != "":
			params = append(params, v1.Param{Name: p.Name, Value: val})
			f.Params = append(f.Params, Binding{Name: p.Name, Value: show(val), From: from})
		case why != "" || p.Default == nil:
			f.UnboundParams = append(f.UnboundParams, Unbound{Name: p.Name, Why: why})
		}
	}
	var wss []v1.WorkspacePipelineTaskBinding
	for _, w := range t.Spec.Workspaces {
		ws, from, why := b.bindWorkspace(w, nil, m)
		switch {
		case from != "":
			wss = append(wss, v1.WorkspacePipelineTaskBinding{Name: w.Name, Workspace: ws})
			f.Workspaces = append(f.Workspaces, Binding{Name: w.Name, Value: ws, From: from})
		case why != "" || !w.Optional:
			f.MissingWorkspaces = append(f.MissingWorkspaces, Unbound{Name: w.Name, Why: why})
		}
	}
	if len(f.UnboundParams) > 0 || len(f.MissingWorkspaces) > 0 {
		return f
	}
	pt := v1.PipelineTask{
		Name:       f.TaskName,
		TaskSpec:   &v1.EmbeddedTask{TaskSpec: *t.Spec.DeepCopy()},
		Params:     params,
		Workspaces: wss,
	}
	p := b.composable(t.Name)
	if slot == Finally {
		f.InFinally, f.Index = true, len(p.Spec.Finally)
		p.Spec.Finally = append(p.Spec.Finally, pt)
	} else {
		pt.RunAfter = []string{b.Producer}
		pt.When = append(v1.WhenExpressions{}, b.Gate...)
		f.Index = len(p.Spec.Tasks)
		p.Spec.Tasks = append(p.Spec.Tasks, pt)
	}
	f.validate(p)
	return f
}

func (f *Fit) validate(p *v1.Pipeline) {
	f.Composed = p
	errs := f.Build.validateComposed(p, f.InFinally, f.Index, f.Replace)
	if len(errs) == 0 {
		return // nothing to tell from the pipeline's own errors
	}
	base := f.Build.base()
	for _, e := range errs {
		if !base[e.Error()] {
			f.Errors = append(f.Errors, e)
		}
	}
}

// composable is a copy of the pipeline whose task lists can take a task:
// the tasks themselves are shared, never mutated.
func (b *Build) composable(task string) *v1.Pipeline {
	p := &v1.Pipeline{TypeMeta: b.Pipeline.TypeMeta, ObjectMeta: b.Pipeline.ObjectMeta, Spec: b.Pipeline.Spec}
	p.Name = ComposedName(b.Name, task)
	p.Spec.Tasks = slices.Clone(p.Spec.Tasks)
	p.Spec.Finally = slices.Clone(p.Spec.Finally)
	return p
}

// Judge finds where a Task goes in this pipeline and composes it there.
// A Task the pipeline already runs (a pipeline task refers to a Task of
// its name) is judged at its own place, unless the Task declares its
// slot: a new version must still fit there. Otherwise a check (slot ImageCheck or SourceCheck) is inserted
// after the image producer under the checks' gate; any other Task takes
// the first place it fits: a builder's (it emits every result the
// pipeline reads from there), a post-build task's (it takes what that
// task is fed), else finally. When none fits, the closest try says why.
func (b *Build) Judge(t *v1.Task, slot Slot, declared bool, m Mapping) *Fit {
	var tries []*Fit
	if !declared {
		for _, pl := range b.Places {
			if pl.Info != nil && pl.Info.Ref == t.Name {
				f := b.FitAt(t, pl, m)
				if f.OK() {
					return f
				}
				tries = append(tries, f)
			}
		}
		if len(tries) > 0 {
			return tries[0]
		}
	}
	switch slot {
	case ImageCheck, SourceCheck:
		return b.Fit(t, slot, m)
	case Finally:
		return b.Fit(t, Finally, m)
	}
	// every place it binds at, best first: the one whose feed takes the
	// most of its params; Tekton judges them in that order
	var bound []*Fit
	for _, want := range []Slot{Builder, PostBuild} {
		if slot != "" && slot != want {
			continue
		}
		for _, pl := range b.Places {
			if pl.Role != want {
				continue
			}
			f := b.bindAt(t, pl, m)
			switch {
			case f.complete() && (f.Replace || f.fed > 0):
				bound = append(bound, f)
			case f.fed > 0 || f.Replace && len(f.MissingResults) < len(pl.Consumed):
				tries = append(tries, f) // it took something of the place: a near miss worth explaining
			}
		}
	}
	sort.SliceStable(bound, func(i, j int) bool { return bound[i].fed > bound[j].fed })
	for _, f := range bound {
		if f.compose(t); f.OK() {
			return f
		}
		tries = append(tries, f)
	}
	// finally: a Task whose results nothing could read (results of finally
	// tasks feed nothing), taking nothing the build produces
	if slot == "" && !emitsResults(t) {
		f := b.Fit(t, Finally, m)
		if f.OK() || len(tries) == 0 {
			return f
		}
		tries = append(tries, f)
	}
	if len(tries) == 0 {
		why := fmt.Sprintf("%s has no %s place", b.Name, slot)
		if slot == "" {
			why = fmt.Sprintf("no place of %s takes it: it emits none of the results %s reads from its builders, takes nothing a task after the image is fed, and emits results, which a finally task cannot pass on", b.Name, b.Name)
		}
		return &Fit{Build: b, Slot: slot, TaskName: t.Name, NoSlot: why}
	}
	best := tries[0]
	for _, f := range tries[1:] {
		if len(f.Problems()) < len(best.Problems()) {
			best = f
		}
	}
	return best
}

// matrixParam is the matrix param of a place a Task param of that name
// takes (nil when the place has none).
func matrixParam(pl *Place, name string) *v1.Param {
	if pl.Spec.Matrix == nil {
		return nil
	}
	for i, p := range pl.Spec.Matrix.Params {
		if p.Name == name {
			return &pl.Spec.Matrix.Params[i]
		}
	}
	return nil
}

// FitAt composes a Task into one place of the pipeline: bound with what
// that place is fed (then the pipeline's params and the results upstream
// of it), replacing its task when the pipeline reads results from it (or
// it is the Task's own place), else beside it with the same runAfter and
// `when`.
func (b *Build) FitAt(t *v1.Task, pl *Place, m Mapping) *Fit {
	f := b.bindAt(t, pl, m)
	if f.complete() {
		f.compose(t)
	}
	return f
}

// bindAt binds a Task's params and workspaces at a place.
func (b *Build) bindAt(t *v1.Task, pl *Place, m Mapping) *Fit {
	own := pl.Info != nil && pl.Info.Ref == t.Name
	f := &Fit{Build: b, Slot: pl.Role, Place: pl, Replace: own || len(pl.Consumed) > 0, TaskName: pl.Spec.Name}
	if !f.Replace {
		f.TaskName = b.freeName(t.Name)
	}
	emits := map[string]bool{}
	for _, r := range t.Spec.Results {
		emits[r.Name] = true
	}
	if f.Replace {
		for _, r := range pl.Consumed {
			if !emits[r] {
				f.MissingResults = append(f.MissingResults, r)
			}
		}
	}
	var params v1.Params
	var matrix *v1.Matrix
	for _, p := range t.Spec.Params {
		if mp := matrixParam(pl, p.Name); mp != nil {
			// the place fans out over it: keep the matrix
			if matrix == nil {
				matrix = &v1.Matrix{}
			}
			matrix.Params = append(matrix.Params, *mp)
			f.Params = append(f.Params, Binding{Name: p.Name, Value: "matrix " + show(mp.Value), From: "the matrix of " + pl.Spec.Name})
			f.fed++
			continue
		}
		val, from, why := b.bindParam(p, pl.Role, pl, m)
		switch {
		case from != "":
			params = append(params, v1.Param{Name: p.Name, Value: val})
			f.Params = append(f.Params, Binding{Name: p.Name, Value: show(val), From: from})
			if strings.HasPrefix(from, "what "+pl.Spec.Name+" is fed") {
				f.fed++
			}
		case why != "" || p.Default == nil:
			f.UnboundParams = append(f.UnboundParams, Unbound{Name: p.Name, Why: why})
		}
	}
	var wss []v1.WorkspacePipelineTaskBinding
	for _, w := range t.Spec.Workspaces {
		ws, from, why := b.bindWorkspace(w, pl, m)
		switch {
		case from != "":
			wss = append(wss, v1.WorkspacePipelineTaskBinding{Name: w.Name, Workspace: ws})
			f.Workspaces = append(f.Workspaces, Binding{Name: w.Name, Value: ws, From: from})
		case why != "" || !w.Optional:
			f.MissingWorkspaces = append(f.MissingWorkspaces, Unbound{Name: w.Name, Why: why})
		}
	}
	f.params, f.workspaces, f.matrix = params, wss, matrix
	return f
}

func (f *Fit) complete() bool {
	return len(f.UnboundParams) == 0 && len(f.MissingWorkspaces) == 0 && len(f.MissingResults) == 0
}

// compose inserts the bound Task at its place and validates the result.
func (f *Fit) compose(t *v1.Task) {
	b, pl := f.Build, f.Place
	pt := v1.PipelineTask{
		Name:     f.TaskName,
		TaskSpec: &v1.EmbeddedTask{TaskSpec: *t.Spec.DeepCopy()},
		Params:   f.params, Workspaces: f.workspaces,
		Matrix:   f.matrix,
		RunAfter: append([]string(nil), pl.Spec.RunAfter...),
		When:     append(v1.WhenExpressions(nil), pl.Spec.When...),
		Timeout:  pl.Spec.Timeout,
	}
	p := b.composable(t.Name)
	list := &p.Spec.Tasks
	if pl.Role == Finally {
		list, f.InFinally = &p.Spec.Finally, true
	}
	if f.Replace {
		f.Index = pl.Index
		(*list)[pl.Index] = pt
	} else {
		f.Index = len(*list)
		*list = append(*list, pt)
	}
	f.validate(p)
}

func emitsResults(t *v1.Task) bool {
	for _, r := range t.Spec.Results {
		if r.Name != testOutput {
			return true
		}
	}
	return false
}

// FieldPath is the path prefix of the inserted task in Composed's errors.
func (f *Fit) FieldPath() string {
	if f.InFinally {
		return fmt.Sprintf("spec.finally[%d]", f.Index)
	}
	return fmt.Sprintf("spec.tasks[%d]", f.Index)
}

// freeName is the Task's name, or a variant when the pipeline already
// has a task of that name.
func (b *Build) freeName(name string) string {
	if b.Tasks[name] == nil {
		return name
	}
	for i := 2; ; i++ {
		n := fmt.Sprintf("%s-%d", name, i)
		if b.Tasks[n] == nil {
			return n
		}
	}
}

// bindParam finds a value for a Task param in this pipeline, in order: the
// submission's mapping; Tekton's aggregate status (finally); the
// producer's result of that name; what the pipeline's checks pass for a
// param of that name; the pipeline param of that name; the result of that
// name when one task alone produces it. Names match case-, dash- and
// underscore-insensitively. An empty from means unbound; why then says
// what failed (a mapping that names something the pipeline lacks).
func (b *Build) bindParam(p v1.ParamSpec, slot Slot, pl *Place, m Mapping) (val v1.ParamValue, from, why string) {
	typ := paramType(p)
	if expr, ok := m[p.Name]; ok {
		if why := b.checkRefs(expr); why != "" {
			return val, "", fmt.Sprintf("the %s mapping %s", BindAnnotation, why)
		}
		if typ == v1.ParamTypeArray {
			return v1.ParamValue{Type: v1.ParamTypeArray, ArrayVal: []string{expr}}, "mapping " + BindAnnotation, ""
		}
		return *v1.NewStructuredValues(expr), "mapping " + BindAnnotation, ""
	}
	n := Norm(p.Name)
	if pl != nil {
		for i, fed := range pl.Spec.Params {
			if pl.fedNorm[i] == n && fed.Value.Type == typ {
				return fed.Value, "what " + pl.Spec.Name + " is fed as " + fed.Name, ""
			}
		}
	}
	if slot == Finally && statusParams[n] && typ == v1.ParamTypeString {
		return *v1.NewStructuredValues("$(tasks.status)"), "the pipeline's aggregate status", ""
	}
	if typ == v1.ParamTypeString && (pl == nil || pl.Role != Builder) {
		if r := b.Tasks[b.Producer].resultOrEmpty(n); r != "" {
			return *v1.NewStructuredValues(ref(b.Producer, r)), "result " + r + " of " + b.Producer + ", the image producer", ""
		}
	}
	if in, ok := b.Inputs[n]; ok && in.Value.Type == typ && slot.IsCheck() {
		return in.Value, "what " + in.From + " passes as " + in.Param, ""
	}
	for i, ps := range b.Pipeline.Spec.Params {
		if b.paramNorm[i] != n || paramType(ps) != typ {
			continue
		}
		switch typ {
		case v1.ParamTypeString:
			return *v1.NewStructuredValues("$(params." + ps.Name + ")"), "pipeline param " + ps.Name, ""
		case v1.ParamTypeArray:
			return v1.ParamValue{Type: v1.ParamTypeArray, ArrayVal: []string{"$(params." + ps.Name + "[*])"}}, "pipeline param " + ps.Name, ""
		}
	}
	if typ == v1.ParamTypeString {
		var found []string
		for _, ti := range b.emitting[n] {
			if pl == nil || pl.Role == Finally || b.dependsOn(pl.Spec.Name, ti.Name) {
				found = append(found, ref(ti.Name, ti.resultNorm(n)))
			}
		}
		if len(found) == 1 {
			return *v1.NewStructuredValues(found[0]), "the only result of that name", ""
		}
	}
	return val, "", ""
}

func paramType(p v1.ParamSpec) v1.ParamType {
	switch {
	case p.Type != "":
		return p.Type
	case p.Default != nil && p.Default.Type != "":
		return p.Default.Type
	}
	return v1.ParamTypeString
}

// resultOrEmpty is resultNorm of a task that may be absent.
func (ti *TaskInfo) resultOrEmpty(norm string) string {
	if ti == nil {
		return ""
	}
	return ti.resultNorm(norm)
}

func ref(task, result string) string { return "$(tasks." + task + ".results." + result + ")" }

// pipelineParamRef matches `$(params.<name>` in a mapping.
var pipelineParamRef = regexp.MustCompile(`\$\(params\.([A-Za-z0-9_-]+)`)

// checkRefs tells what a mapping value refers to that this pipeline lacks.
func (b *Build) checkRefs(expr string) string {
	for _, r := range resultRef.FindAllStringSubmatch(expr, -1) {
		ti := b.Tasks[r[1]]
		switch {
		case ti == nil:
			return fmt.Sprintf("refers to task %s, which %s does not have", r[1], b.Name)
		case ti.Finally:
			return fmt.Sprintf("refers to finally task %s, whose results nothing can read", r[1])
		case ti.Path != "" && ti.Results[r[2]] == "":
			return fmt.Sprintf("refers to result %s, which task %s (%s) does not declare", r[2], r[1], ti.Path)
		}
	}
	for _, m := range pipelineParamRef.FindAllStringSubmatch(expr, -1) {
		if !b.hasParam(m[1]) {
			return fmt.Sprintf("refers to param %s, which %s does not declare", m[1], b.Name)
		}
	}
	return ""
}

func (b *Build) hasParam(name string) bool {
	for _, p := range b.Pipeline.Spec.Params {
		if p.Name == name {
			return true
		}
	}
	return false
}

// bindWorkspace finds the pipeline workspace for a Task workspace: the
// mapping, the pipeline workspace of the same name, else (non-optional
// workspaces) the pipeline's source workspace.
func (b *Build) bindWorkspace(w v1.WorkspaceDeclaration, pl *Place, m Mapping) (ws, from, why string) {
	if target, ok := m[w.Name]; ok {
		for _, pw := range b.Pipeline.Spec.Workspaces {
			if pw.Name == target {
				return target, "mapping " + BindAnnotation, ""
			}
		}
		return "", "", fmt.Sprintf("the %s mapping names workspace %s, which %s does not declare", BindAnnotation, target, b.Name)
	}
	if pl != nil {
		for _, fed := range pl.Spec.Workspaces {
			if Norm(fed.Name) == Norm(w.Name) && fed.Workspace != "" {
				return fed.Workspace, "what " + pl.Spec.Name + " gets as " + fed.Name, ""
			}
		}
	}
	for _, pw := range b.Pipeline.Spec.Workspaces {
		if Norm(pw.Name) == Norm(w.Name) {
			return pw.Name, "pipeline workspace " + pw.Name, ""
		}
	}
	if !w.Optional && b.SourceWorkspace != "" {
		return b.SourceWorkspace, "the pipeline's source workspace", ""
	}
	return "", "", ""
}

// show renders a param value for people.
func show(v v1.ParamValue) string {
	switch v.Type {
	case v1.ParamTypeArray:
		return "[" + strings.Join(v.ArrayVal, ", ") + "]"
	case v1.ParamTypeObject:
		keys := make([]string, 0, len(v.ObjectVal))
		for k := range v.ObjectVal {
			keys = append(keys, k+": "+v.ObjectVal[k])
		}
		sort.Strings(keys)
		return "{" + strings.Join(keys, ", ") + "}"
	}
	return v.StringVal
}

// ComposedName names the composed Pipeline (and its PipelineRun): at most
// 63 characters, as Tekton copies it into label values.
func ComposedName(pipeline, task string) string {
	n := pipeline + "-with-" + task
	if len(n) <= 63 {
		return n
	}
	sum := sha256.Sum256([]byte(n))
	return strings.TrimRight(n[:54], "-") + "-" + hex.EncodeToString(sum[:])[:8]
}

// Placeholder is the value the dry-run PipelineRun passes for a required
// pipeline param: `.invalid` names never resolve (RFC 2606), so nothing is
// fetched or pushed and no credentials are needed.
func Placeholder(p v1.ParamSpec) v1.ParamValue {
	n := strings.ToLower(p.Name)
	s := "taskgate-placeholder"
	switch {
	case strings.Contains(n, "image"):
		s = "registry.invalid/taskgate/placeholder:dry-run"
	case strings.Contains(n, "url") || strings.Contains(n, "git"):
		s = "https://git.invalid/taskgate/placeholder.git"
	}
	switch paramType(p) {
	case v1.ParamTypeArray:
		return *v1.NewStructuredValues(s)
	case v1.ParamTypeObject:
		obj := map[string]string{}
		for k := range p.Properties {
			obj[k] = s
		}
		return *v1.NewObject(obj)
	}
	return *v1.NewStructuredValues(s)
}

// PipelineRun runs the composed Pipeline with the pipeline's defaults,
// placeholders for its required params (listed in the annotation
// taskgate.dev/placeholders), a volumeClaimTemplate for its non-optional
// workspaces and nothing for the optional (credential) ones.
func (f *Fit) PipelineRun() *v1.PipelineRun {
	if f.Composed == nil {
		return nil
	}
	pr := &v1.PipelineRun{}
	pr.APIVersion, pr.Kind = "tekton.dev/v1", "PipelineRun"
	pr.Name = f.Composed.Name
	pr.Labels = map[string]string{"taskgate.dev/build-pipeline": f.Build.Name, "taskgate.dev/task": f.TaskName}
	pr.Spec.PipelineRef = &v1.PipelineRef{Name: f.Composed.Name}
	var placeholders []string
	for _, p := range f.Composed.Spec.Params {
		if p.Default == nil {
			pr.Spec.Params = append(pr.Spec.Params, v1.Param{Name: p.Name, Value: Placeholder(p)})
			placeholders = append(placeholders, p.Name)
		}
	}
	if len(placeholders) > 0 {
		pr.Annotations = map[string]string{"taskgate.dev/placeholders": strings.Join(placeholders, ",")}
	}
	for _, w := range f.Composed.Spec.Workspaces {
		if w.Optional {
			continue
		}
		pr.Spec.Workspaces = append(pr.Spec.Workspaces, v1.WorkspaceBinding{Name: w.Name, VolumeClaimTemplate: volumeClaim()})
	}
	return pr
}

// volumeClaim is a small per-run volume for a shared workspace: the one
// binding that works on any cluster with a default storage class.
func volumeClaim() *corev1.PersistentVolumeClaim {
	return &corev1.PersistentVolumeClaim{Spec: corev1.PersistentVolumeClaimSpec{
		AccessModes: []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce},
		Resources: corev1.VolumeResourceRequirements{Requests: corev1.ResourceList{
			corev1.ResourceStorage: resource.MustParse("1Gi"),
		}},
	}}
}

// Unknown lists the mapping's names that are neither a param nor a
// workspace of the Task.
func (m Mapping) Unknown(t *v1.Task) []string {
	known := map[string]bool{}
	for _, p := range t.Spec.Params {
		known[p.Name] = true
	}
	for _, w := range t.Spec.Workspaces {
		known[w.Name] = true
	}
	var out []string
	for k := range m {
		if !known[k] {
			out = append(out, k)
		}
	}
	sort.Strings(out)
	return out
}

// Problems says why the Task does not fit the pipeline (nil when it fits).
func (f *Fit) Problems() []string {
	var why []string
	if f.NoSlot != "" {
		why = append(why, f.NoSlot)
	}
	for _, u := range f.UnboundParams {
		why = append(why, "param "+u.Name+" unbound")
	}
	for _, u := range f.MissingWorkspaces {
		why = append(why, "workspace "+u.Name+" not provided")
	}
	if len(f.MissingResults) > 0 {
		why = append(why, fmt.Sprintf("does not emit %s, which the pipeline reads from %s", strings.Join(f.MissingResults, ", "), f.Place.Spec.Name))
	}
	for _, e := range f.Errors {
		why = append(why, "Tekton rejects the composed Pipeline: "+e.Error())
	}
	return why
}
