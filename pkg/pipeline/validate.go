package pipeline

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/tektoncd/pipeline/pkg/apis/config"

	v1 "github.com/tektoncd/pipeline/pkg/apis/pipeline/v1"
	"github.com/tektoncd/pipeline/pkg/reconciler/pipeline/dag"
	"knative.dev/pkg/apis"
)

// A composed Pipeline is its build pipeline with one task added or
// replaced, and Tekton's Pipeline.Validate costs as much as the ~40 tasks
// it walks (regexps compiled per param value), once per composition. So
// each build pipeline is validated once, task by task, and a composition
// only validates the task it inserts; what Tekton checks across tasks
// comes from the whole. The errors are the ones Pipeline.Validate gives
// on the whole composed Pipeline (a test holds it over the corpus):
//
//   - Tekton's errors are a set of leaves (level, message, details, one
//     path); WrappedErrors merges those with the same message and sorts.
//     So the errors of a Pipeline are the merge of the leaves of parts
//     that, together, report every leaf the whole does and no other.
//   - One part per task: the Pipeline with every other task replaced by a
//     stub keeping its name (and its index) but with nothing to validate.
//     It reports that task's own leaves, its leaves against the others'
//     names (duplicate names, finally's $(tasks.X.status) and result
//     refs), the pipeline-level leaves (metadata, params, workspaces,
//     results), and, when the task is the last of its list, the
//     context-variable leaves (Tekton reads only the last task's params
//     for those). Its DAG leaf is dropped: the graph is built on the
//     whole composed Pipeline (cheap: the base's dependencies are kept).
//   - A composition adds a task under a fresh name or replaces one under
//     its own name, so every other task's leaves stay the base's, except
//     the context-variable ones of the list's former last task, and
//     except where the part's premise fails; then the composed Pipeline is
//     validated whole (decomposable and insertable say when).
//   - The inserted task embeds the Task's spec, the same in every
//     pipeline: Tekton's verdict on the spec alone is taken once per Task
//     (insertedLeaves says what of the steps the rest of the part reads).

// leaf is one of Tekton's errors at one path (hasPath false: none).
type leaf struct {
	level            apis.DiagnosticLevel
	message, details string
	path             string
	hasPath          bool
}

func leavesOf(errs *apis.FieldError, keep func(leaf) bool) []leaf {
	var out []leaf
	add := func(l leaf) {
		if keep == nil || keep(l) {
			out = append(out, l)
		}
	}
	for _, e := range errs.WrappedErrors() {
		if len(e.Paths) == 0 {
			add(leaf{level: e.Level, message: e.Message, details: e.Details})
		}
		for _, p := range e.Paths {
			add(leaf{level: e.Level, message: e.Message, details: e.Details, path: p, hasPath: true})
		}
	}
	return out
}

// merged is what WrappedErrors gives for a set of leaves.
func merged(ls []leaf) []*apis.FieldError {
	errs := make([]*apis.FieldError, 0, len(ls))
	for _, l := range ls {
		e := &apis.FieldError{Message: l.message, Details: l.details, Level: l.level}
		if l.hasPath {
			e.Paths = []string{l.path}
		}
		errs = append(errs, e)
	}
	var all *apis.FieldError
	return all.Also(errs...).WrappedErrors()
}

// isGraph is validateGraph's leaf: ErrInvalidValue(dag error, "tasks").
func isGraph(l leaf) bool {
	return l.hasPath && l.path == "spec.tasks" && strings.HasPrefix(l.message, "invalid value: ")
}

func isMetadata(l leaf) bool {
	return l.hasPath && (l.path == "metadata" || strings.HasPrefix(l.path, "metadata."))
}

// isContext is a leaf of validatePipelineContextVariables (not indexed:
// spec.tasks.value, spec.finally.value).
func isContext(l leaf, finally bool) bool {
	p := "spec.tasks.value"
	if finally {
		p = "spec.finally.value"
	}
	return l.hasPath && (l.path == p || strings.HasPrefix(l.path, p+"."))
}

// stubbed is p with every task but list[k] (finally or tasks) replaced by
// a stub of the same name and place.
func stubbed(p *v1.Pipeline, finally bool, k int) *v1.Pipeline {
	q := &v1.Pipeline{TypeMeta: p.TypeMeta, ObjectMeta: p.ObjectMeta, Spec: p.Spec}
	q.Spec.Tasks = stubs(p.Spec.Tasks, !finally, k)
	q.Spec.Finally = stubs(p.Spec.Finally, finally, k)
	return q
}

// A stub refers to its Task through a resolver, not by name: Tekton
// checks a name with a regexp compiled per call, and a resolver (beta, on
// by default) with nothing.
func stubs(list []v1.PipelineTask, keep bool, k int) []v1.PipelineTask {
	out := make([]v1.PipelineTask, len(list))
	for i := range list {
		if keep && i == k {
			out[i] = list[i]
			continue
		}
		out[i] = v1.PipelineTask{Name: list[i].Name, TaskRef: &v1.TaskRef{ResolverRef: v1.ResolverRef{Resolver: "stub"}}}
	}
	return out
}

// parts is a build pipeline validated task by task.
type parts struct {
	whole string      // why the pipeline cannot be decomposed ("" when it can)
	own   [2][][]leaf // per list (tasks, finally) and index: that task's part, without metadata and DAG
	meta  []leaf      // the pipeline's metadata leaves
	deps  map[string][]string
	names map[string]bool // task names the pipeline refers to (runAfter, $(tasks.X…), $(finally.X…))
	// matrixed tasks, and the tasks with an embedded taskSpec
	matrixed, embedded map[string]bool
}

// decompose validates each task of b's pipeline in its part, and returns
// the pipeline's own errors (the merge of every part and the graph).
func (b *Build) decompose() []string {
	p := b.Pipeline
	pa := &parts{deps: v1.PipelineTaskList(p.Spec.Tasks).Deps(), names: referencedNames(p),
		matrixed: map[string]bool{}, embedded: map[string]bool{}}
	b.parts = pa
	if pa.whole = decomposable(p); pa.whole != "" {
		return errorList(Validate(p))
	}
	for li, list := range [][]v1.PipelineTask{p.Spec.Tasks, p.Spec.Finally} {
		pa.own[li] = make([][]leaf, len(list))
		for j, pt := range list {
			if pt.IsMatrixed() {
				pa.matrixed[pt.Name] = true
			}
			if pt.TaskSpec != nil {
				pa.embedded[pt.Name] = true
			}
			ls := leavesOf(Validate(stubbed(p, li == 1, j)), func(l leaf) bool { return !isGraph(l) })
			for _, l := range ls {
				if isMetadata(l) {
					if li == 0 && j == 0 {
						pa.meta = append(pa.meta, l)
					}
					continue
				}
				pa.own[li][j] = append(pa.own[li][j], l)
				if strings.HasPrefix(l.message, artifactsMessage) {
					pa.whole = "a task uses artifacts: Tekton reports only the first"
				}
			}
		}
	}
	if why := pa.matrixPremise(p.Spec.Tasks, p.Spec.Finally); why != "" {
		pa.whole = why
	}
	if pa.whole != "" {
		return errorList(Validate(p))
	}
	var all []leaf
	all = append(all, pa.meta...)
	for li := range pa.own {
		for _, ls := range pa.own[li] {
			all = append(all, ls...)
		}
	}
	all = append(all, graphLeaves(p.Spec.Tasks, pa.deps)...)
	var out []string
	for _, e := range merged(all) {
		out = append(out, e.Error())
	}
	return out
}

// artifactsMessage starts validateArtifactReference's error, which Tekton
// reports for the first task using artifacts only.
const artifactsMessage = "feature flag enable-artifacts"

// maxParts bounds the tasks of a pipeline validated task by task: each
// part holds a stub of every other task (real build pipelines have ~45).
const maxParts = 128

// decomposable says why Tekton's cross-task checks could see a stub
// (child Pipelines, whose result refs are checked; an empty tasks list,
// which finally is checked against), or why the parts would cost more
// than they save.
func decomposable(p *v1.Pipeline) string {
	if len(p.Spec.Tasks) == 0 {
		return "no tasks"
	}
	if n := len(p.Spec.Tasks) + len(p.Spec.Finally); n > maxParts {
		return fmt.Sprintf("%d tasks: a part per task would cost their square", n)
	}
	for _, list := range [][]v1.PipelineTask{p.Spec.Tasks, p.Spec.Finally} {
		for _, pt := range list {
			if pt.PipelineRef != nil || pt.PipelineSpec != nil {
				return "a task runs a child Pipeline"
			}
		}
	}
	return ""
}

// matrixPremise says why Tekton's matrix checks across tasks (a matrixed
// task's results consumed as a whole, [*], and of type string when its
// taskSpec is known) could report something; "" when they cannot.
func (pa *parts) matrixPremise(lists ...[]v1.PipelineTask) string {
	if len(pa.matrixed) == 0 {
		return ""
	}
	for _, list := range lists {
		for _, pt := range list {
			if !pa.matrixed[pt.Name] {
				continue
			}
			if pt.TaskSpec != nil {
				return "a matrixed task embeds its taskSpec"
			}
			if pt.TaskRef != nil && pa.embedded[pt.TaskRef.Name] {
				return "a matrixed task refers to a pipeline task's name"
			}
		}
	}
	for _, list := range lists {
		for _, pt := range list {
			if why := pa.consumesMatrix(pt); why != "" {
				return why
			}
		}
	}
	return ""
}

// consumesMatrix says when a task reads a matrixed task's result other
// than whole.
func (pa *parts) consumesMatrix(pt v1.PipelineTask) string {
	params := append(v1.Params{}, pt.Params...)
	if pt.Matrix != nil {
		params = append(params, pt.Matrix.Params...)
		for _, inc := range pt.Matrix.Include {
			params = append(params, inc.Params...)
		}
	}
	for _, p := range params {
		exprs, _ := p.GetVarSubstitutionExpressions()
		for _, e := range exprs {
			parts := strings.Split(e, ".")
			if len(parts) > 2 && parts[0] == "tasks" && pa.matrixed[parts[1]] && !strings.HasSuffix(e, "[*]") {
				return "a task reads one result of matrixed task " + parts[1]
			}
		}
	}
	return ""
}

var nameRef = regexp.MustCompile(`\b(?:tasks|finally)\.([^.\s)"\\\[]+)`)

// referencedNames are the task names anything in p refers to.
func referencedNames(p *v1.Pipeline) map[string]bool {
	out := map[string]bool{}
	raw, _ := json.Marshal(p.Spec)
	for _, m := range nameRef.FindAllSubmatch(raw, -1) {
		out[string(m[1])] = true
	}
	for _, list := range [][]v1.PipelineTask{p.Spec.Tasks, p.Spec.Finally} {
		for _, pt := range list {
			for _, r := range pt.RunAfter {
				out[r] = true
			}
		}
	}
	return out
}

func graphLeaves(tasks []v1.PipelineTask, deps map[string][]string) []leaf {
	if _, err := dag.Build(v1.PipelineTaskList(tasks), deps); err != nil {
		return leavesOf(apis.ErrInvalidValue(err.Error(), "tasks").ViaField("spec"), nil)
	}
	return nil
}

// validateComposed returns Tekton's errors on p, b's pipeline with
// list[k] (spec.finally when finally) added or, replace, replaced.
//
// The first composition into a pipeline is validated whole: parts cost
// about one and a half whole validations, and pay only from the second
// composition on (a run of one Task composes it into each pipeline about
// once).
func (b *Build) validateComposed(p *v1.Pipeline, finally bool, k int, replace bool) []*apis.FieldError {
	if b.full || b.composed.Add(1) == 1 {
		return Validate(p).WrappedErrors()
	}
	b.base()
	pa := b.parts
	if pa == nil || pa.whole != "" {
		return Validate(p).WrappedErrors()
	}
	li := 0
	list := p.Spec.Tasks
	if finally {
		li, list = 1, p.Spec.Finally
	}
	pt := list[k]
	if !replace && pa.names[pt.Name] {
		return Validate(p).WrappedErrors() // the base refers to the new name: its own errors may change
	}
	if pt.IsMatrixed() || pa.consumesMatrix(pt) != "" {
		return Validate(p).WrappedErrors()
	}
	for m := range pa.matrixed {
		if t := b.task(m); t != nil && t.TaskRef != nil && t.TaskRef.Name == pt.Name {
			return Validate(p).WrappedErrors()
		}
	}
	ls := b.insertedLeaves(stubbed(p, finally, k), finally, k)
	for l := range pa.own {
		for j, own := range pa.own[l] {
			if l == li && j == k && replace {
				continue
			}
			lostLast := l == li && !replace && j == len(pa.own[l])-1
			for _, x := range own {
				if lostLast && isContext(x, l == 1) {
					continue
				}
				ls = append(ls, x)
			}
		}
	}
	deps := pa.deps
	if !finally {
		deps = maps.Clone(pa.deps)
		if d := pt.Deps(); len(d) > 0 {
			deps[pt.Name] = d
		} else {
			delete(deps, pt.Name)
		}
	}
	ls = append(ls, graphLeaves(p.Spec.Tasks, deps)...)
	return merged(ls)
}

// insertedLeaves are the leaves (but the DAG's) of part, the part of the
// task a composition inserts at list[k]. That task embeds the Task's
// spec, and Tekton's verdict on the spec alone (TaskSpec.Validate, most of
// a composition's cost: a regexp compiled per field) is the same in every
// pipeline: it is taken once per Task, and the part validated with a lean
// spec. The rest of the part reads of the spec's steps only their
// $(params.X), against the Task's and the pipeline's params (checked here
// with the steps themselves), and their result references, which make
// the graph (built on the whole composed Pipeline); the lean spec keeps
// everything else (params, results, workspaces).
func (b *Build) insertedLeaves(part *v1.Pipeline, finally bool, k int) []leaf {
	ctx := Context()
	cp := part.DeepCopy()
	cp.SetDefaults(ctx)
	list, field := cp.Spec.Tasks, "tasks"
	if finally {
		list, field = cp.Spec.Finally, "finally"
	}
	et := list[k].TaskSpec
	if b.specs == nil || !leanable(ctx, et) {
		return leavesOf(cp.Validate(ctx), func(l leaf) bool { return !isGraph(l) })
	}
	// as PipelineTaskList.Validate and Pipeline.Validate wrap them
	ownErrs, usageErrs := b.specs.of(ctx, et, cp.Spec.Params)
	own := ownErrs.ViaField("taskSpec").ViaFieldIndex(field, k).ViaField("spec")
	usage := usageErrs.ViaFieldIndex(field, k).ViaField("spec")
	list[k].TaskSpec = lean(et)
	spec := "spec." + field + "[" + strconv.Itoa(k) + "].taskSpec"
	ls := leavesOf(cp.Validate(ctx), func(l leaf) bool {
		return !isGraph(l) && !(l.hasPath && (l.path == spec || strings.HasPrefix(l.path, spec+".")))
	})
	ls = append(ls, leavesOf(own, nil)...)
	return append(ls, leavesOf(usage, nil)...)
}

// leanable says whether Tekton's only leaves under an embedded spec are
// TaskSpec.Validate's: a plain Task's spec (no custom task kind or
// apiVersion) with steps, where inline specs are allowed.
func leanable(ctx context.Context, et *v1.EmbeddedTask) bool {
	return et != nil && len(et.Steps) > 0 && et.APIVersion == "" && et.Kind == "" &&
		!strings.Contains(config.FromContextOrDefaults(ctx).FeatureFlags.DisableInlineSpec, "pipeline")
}

// lean is et without steps, sidecars and step template: what the part
// needs of a spec whose own verdict is known (Tekton validates every field
// of a step, even an empty one, with regexps compiled per call). Tekton
// reads a spec's number of steps only for a custom task's kind or
// apiVersion, which a leanable spec has not.
func lean(et *v1.EmbeddedTask) *v1.EmbeddedTask {
	l := *et
	l.Steps, l.Sidecars, l.StepTemplate, l.Volumes = nil, nil, nil, nil
	return &l
}

// specVerdicts are Tekton's verdicts on embedded Task specs, by the
// spec's content: a Task is composed into every pipeline of a contract,
// its spec the same in each. own is TaskSpec.Validate's; usage is
// ValidateUsageOfDeclaredParameters' on the steps with the Task's and the
// pipeline's params, of which only those the spec's text names (and the
// object params, checked for properties) can tell: with them, it is the
// same in most pipelines.
type specVerdicts struct{ own, usage sync.Map } // [sha256.Size]byte -> *apis.FieldError

func (s *specVerdicts) of(ctx context.Context, et *v1.EmbeddedTask, pipelineParams v1.ParamSpecs) (own, usage *apis.FieldError) {
	usageWith := func(ps v1.ParamSpecs) *apis.FieldError {
		return v1.ValidateUsageOfDeclaredParameters(ctx, et.Steps, append(slices.Clip(et.Params), ps...))
	}
	raw, err := json.Marshal(et)
	if err != nil {
		return et.TaskSpec.Validate(apis.WithinSpec(ctx)), usageWith(pipelineParams)
	}
	key := sha256.Sum256(raw)
	if v, ok := s.own.Load(key); ok {
		own = v.(*apis.FieldError)
	} else {
		// as Pipeline.Validate hands it down
		own = et.TaskSpec.Validate(apis.WithinSpec(ctx))
		s.own.Store(key, own)
	}
	var named v1.ParamSpecs
	for _, p := range pipelineParams {
		if p.Type == v1.ParamTypeObject || !plainName.MatchString(p.Name) || bytes.Contains(raw, []byte(p.Name)) {
			named = append(named, p)
		}
	}
	h := sha256.New()
	h.Write(key[:])
	if err := json.NewEncoder(h).Encode(named); err != nil {
		return own, usageWith(pipelineParams)
	}
	var ukey [sha256.Size]byte
	h.Sum(ukey[:0])
	if v, ok := s.usage.Load(ukey); ok {
		return own, v.(*apis.FieldError)
	}
	usage = usageWith(named)
	s.usage.Store(ukey, usage)
	return own, usage
}

// plainName is a param name JSON writes as it is: one the spec's JSON
// holds wherever a step refers to it.
var plainName = regexp.MustCompile(`^[A-Za-z0-9_.-]+$`)
