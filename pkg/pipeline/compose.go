package pipeline

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"regexp"
	"sort"
	"strings"

	v1 "github.com/tektoncd/pipeline/pkg/apis/pipeline/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	"knative.dev/pkg/apis"
)

// Slot is where a partner Task goes in a build pipeline.
type Slot string

// The slots of DESIGN.md's contract.
const (
	ImageCheck  Slot = "image-check"  // after the image producer, gated like the checks
	SourceCheck Slot = "source-check" // same, reading the sources (workspace or SOURCE_ARTIFACT)
	Finally     Slot = "finally"      // in finally: never blocks the build
)

// Slots lists the valid slots.
var Slots = []Slot{ImageCheck, SourceCheck, Finally}

// Annotations a submission may set on its Task.
const (
	SlotAnnotation      = "taskgate.dev/slot"      // image-check | source-check | finally
	BindAnnotation      = "taskgate.dev/bind"      // NAME=VALUE[,NAME=VALUE]
	PipelinesAnnotation = "taskgate.dev/pipelines" // the build pipelines the Task targets (default: all)
)

// IsCheck tells whether a slot's Task must report TEST_OUTPUT.
func (s Slot) IsCheck() bool { return s == ImageCheck || s == SourceCheck }

// InferSlot decides a Task's slot: the `taskgate.dev/slot` annotation,
// else source-check when it reads sources (a SOURCE_ARTIFACT param or a
// non-optional workspace), else image-check when it takes the image
// (IMAGE_URL/IMAGE_DIGEST by any spelling), else finally. The second
// value says why.
func InferSlot(t *v1.Task) (Slot, string, error) {
	if v, ok := t.Annotations[SlotAnnotation]; ok {
		for _, s := range Slots {
			if strings.TrimSpace(v) == string(s) {
				return s, "declared by " + SlotAnnotation, nil
			}
		}
		return "", "", fmt.Errorf("%s %q is not a slot (want one of %s)", SlotAnnotation, v, joinSlots())
	}
	for _, p := range t.Spec.Params {
		if Norm(p.Name) == "sourceartifact" {
			return SourceCheck, fmt.Sprintf("param %s takes the trusted-artifacts sources", p.Name), nil
		}
	}
	for _, w := range t.Spec.Workspaces {
		if !w.Optional {
			return SourceCheck, fmt.Sprintf("workspace %s needs the sources", w.Name), nil
		}
	}
	for _, p := range t.Spec.Params {
		for _, r := range imageResults {
			if Norm(p.Name) == Norm(r) {
				return ImageCheck, fmt.Sprintf("param %s takes the built image", p.Name), nil
			}
		}
	}
	return Finally, "it takes neither the image nor the sources", nil
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
}

// OK reports whether the Task composes into the pipeline cleanly.
func (f *Fit) OK() bool {
	return f.NoSlot == "" && len(f.UnboundParams) == 0 && len(f.MissingWorkspaces) == 0 && f.Composed != nil && len(f.Errors) == 0
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
		val, from, why := b.bindParam(p, slot, m)
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
		ws, from, why := b.bindWorkspace(w, m)
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
	p := b.Pipeline.DeepCopy()
	p.Name = ComposedName(b.Name, t.Name)
	if slot == Finally {
		f.InFinally, f.Index = true, len(p.Spec.Finally)
		p.Spec.Finally = append(p.Spec.Finally, pt)
	} else {
		pt.RunAfter = []string{b.Producer}
		pt.When = append(v1.WhenExpressions{}, b.Gate...)
		f.Index = len(p.Spec.Tasks)
		p.Spec.Tasks = append(p.Spec.Tasks, pt)
	}
	f.Composed = p
	if errs := Validate(p); errs != nil {
		for _, e := range errs.WrappedErrors() {
			if !b.baseErrors[e.Error()] {
				f.Errors = append(f.Errors, e)
			}
		}
	}
	return f
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
func (b *Build) bindParam(p v1.ParamSpec, slot Slot, m Mapping) (val v1.ParamValue, from, why string) {
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
	if slot == Finally && statusParams[n] && typ == v1.ParamTypeString {
		return *v1.NewStructuredValues("$(tasks.status)"), "the pipeline's aggregate status", ""
	}
	if typ == v1.ParamTypeString {
		if r := b.Tasks[b.Producer].resultOrEmpty(p.Name); r != "" {
			return *v1.NewStructuredValues(ref(b.Producer, r)), "result " + r + " of " + b.Producer + ", the image producer", ""
		}
	}
	if in, ok := b.Inputs[n]; ok && in.Value.Type == typ {
		return in.Value, "what " + in.From + " passes as " + in.Param, ""
	}
	for _, ps := range b.Pipeline.Spec.Params {
		if Norm(ps.Name) != n || paramType(ps) != typ {
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
		for _, ti := range b.Tasks {
			if r := ti.resultOrEmpty(p.Name); r != "" && !ti.Finally {
				found = append(found, ref(ti.Name, r))
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

func (ti *TaskInfo) resultOrEmpty(name string) string {
	if ti == nil {
		return ""
	}
	return ti.result(name)
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
func (b *Build) bindWorkspace(w v1.WorkspaceDeclaration, m Mapping) (ws, from, why string) {
	if target, ok := m[w.Name]; ok {
		for _, pw := range b.Pipeline.Spec.Workspaces {
			if pw.Name == target {
				return target, "mapping " + BindAnnotation, ""
			}
		}
		return "", "", fmt.Sprintf("the %s mapping names workspace %s, which %s does not declare", BindAnnotation, target, b.Name)
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
	for _, e := range f.Errors {
		why = append(why, "Tekton rejects the composed Pipeline: "+e.Error())
	}
	return why
}
