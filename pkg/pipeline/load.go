// Package pipeline reads the build-pipeline contract from the real build
// pipelines (params, workspaces, every pipeline task's results, `when`
// gates) and composes a partner Task into them, validated by
// tektoncd/pipeline's own defaulting and validation. Nothing about the
// pipelines is hard-coded: when they change, the contract changes.
package pipeline

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/tektoncd/pipeline/pkg/apis/config"
	v1 "github.com/tektoncd/pipeline/pkg/apis/pipeline/v1"
	"knative.dev/pkg/apis"
	"taskgate.dev/taskgate/pkg/manifest"
)

// Contract is what the build pipelines of one directory offer a Task.
type Contract struct {
	Dir       string   // the pipelines directory read (absolute)
	Root      string   // the repository Tasks are resolved in (Dir's parent)
	Pipelines []*Build // sorted by name
	Ignored   []string // files looked at and not taken, each with why

	resolved map[string]*TaskInfo // Task files read, by name:version (pipelines share them)
	specs    specVerdicts         // the composed Tasks' own verdicts (pipelines share them)
}

// Build is one build pipeline and what it offers.
type Build struct {
	Name     string         // the directory name (pipelines/<name>/<name>.yaml)
	File     *manifest.File // Path relative to Contract.Root
	Pipeline *v1.Pipeline   // as decoded, taskRef.version dropped; never mutated

	Tasks map[string]*TaskInfo // by pipeline task name (tasks and finally)

	// Producer is the pipeline task whose IMAGE_URL/IMAGE_DIGEST the
	// checks consume (build-image-index today, build-container in 2023);
	// empty when the pipeline produces no image.
	Producer string
	// Gate is the `when` the pipeline's check tasks share (skip-checks),
	// copied from GateFrom.
	Gate     v1.WhenExpressions
	GateFrom []string
	// SourceWorkspace is the non-optional pipeline workspace the tasks
	// share sources through; empty in trusted-artifacts pipelines.
	SourceWorkspace string
	// Inputs is what the check tasks pass for a param, by normalized
	// param name (SOURCE_ARTIFACT, TARGET_DIRS, image-url, ...).
	Inputs map[string]Input
	// Places are where the pipeline runs each of its own Tasks, in
	// pipeline order (tasks, then finally): the places a Task can take.
	Places []*Place

	settle     sync.Once       // baseErrors and parts, when first needed (base)
	baseErrors map[string]bool // Tekton's verdict on the pipeline itself
	parts      *parts          // the pipeline validated task by task
	composed   atomic.Int32    // compositions validated
	specs      *specVerdicts   // its contract's
	paramNorm  []string        // Norm of each pipeline param's name
	full       bool            // validate compositions whole (ValidateWhole)
	depsOnce   sync.Once
	upstream   map[string]map[string]bool // by task: every task it runs after
	// by normalized result name: the tasks (not in finally) emitting one
	// of that name, for binding a Task's params to results
	emitting map[string][]*TaskInfo
}

// TaskInfo is one pipeline task of a build pipeline.
type TaskInfo struct {
	Name    string // pipeline task name
	Ref     string // taskRef.name
	Version string // the non-Tekton taskRef.version ("" when absent)
	Finally bool
	Path    string // the resolved Task file, relative to Contract.Root; "" when not in the repository
	// Results are the Task's declared results when resolved, plus every
	// result the pipeline references (the only ones known otherwise).
	Results map[string]v1.ResultsType
	// Declared are the results the resolved Task itself declares.
	Declared map[string]bool

	byNorm map[string]string // Results by normalized name, once loaded
}

// Input is a value the pipeline's tasks pass for a param.
type Input struct {
	Param string // the param name as the tasks spell it
	Value v1.ParamValue
	From  string // the pipeline task it was taken from
}

// Norm folds a name for convention matching: case, dashes, underscores and
// dots do not matter (image-url ≡ IMAGE_URL).
func Norm(s string) string {
	return strings.Map(func(r rune) rune {
		switch r {
		case '-', '_', '.':
			return -1
		}
		if 'A' <= r && r <= 'Z' {
			return r + 'a' - 'A'
		}
		return r
	}, s)
}

// The result names of an image, the contract's vocabulary (DESIGN.md).
var imageResults = []string{"IMAGE_URL", "IMAGE_DIGEST"}

// Load reads the build pipelines `<dir>/<name>/<name>.yaml` (or those of
// `<dir>/pipelines/` when dir is a repository). Templates (a taskRef
// named `$REPLACE_ME`) and files that are not a loadable Pipeline are
// listed in Ignored. Tasks are resolved in the directory's parent.
func Load(dir string) (*Contract, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	if st, err := os.Stat(filepath.Join(abs, "pipelines")); err == nil && st.IsDir() {
		abs = filepath.Join(abs, "pipelines")
	}
	st, err := os.Stat(abs)
	if err != nil {
		return nil, fmt.Errorf("build pipelines: %v", err)
	}
	if !st.IsDir() {
		return nil, fmt.Errorf("build pipelines: %s is not a directory", dir)
	}
	c := &Contract{Dir: abs, Root: filepath.Dir(abs)}
	entries, err := os.ReadDir(abs)
	if err != nil {
		return nil, fmt.Errorf("build pipelines: %v", err)
	}
	base := filepath.Base(abs)
	for _, e := range entries {
		name := e.Name()
		rel := path.Join(base, name, name+".yaml")
		if !e.IsDir() && e.Type()&os.ModeSymlink == 0 {
			continue
		}
		if _, err := os.Stat(filepath.Join(c.Root, filepath.FromSlash(rel))); err != nil {
			continue // a directory without <name>.yaml: kustomize sources only
		}
		b, why := c.load(rel)
		if b == nil {
			c.Ignored = append(c.Ignored, rel+": "+why)
			continue
		}
		c.Pipelines = append(c.Pipelines, b)
	}
	return c, nil
}

// taskRef.version is not a Tekton field: upstream replaces it by a bundles
// resolver ref before pushing. The loader reports it as unknown; it is
// data here (it names the Task version), so that problem is expected.
var versionField = regexp.MustCompile(`^unknown field "spec\.(tasks|finally)\[\d+\]\.taskRef\.version"$`)

func (c *Contract) load(rel string) (*Build, string) {
	f := manifest.Load(c.Root, rel, manifest.DefaultLimits)
	for _, p := range f.Problems {
		if p.Rule == manifest.RuleSchema && versionField.MatchString(p.Message) {
			continue
		}
		return nil, fmt.Sprintf("line %d: %s", p.Line, p.Message)
	}
	if f.Pipeline == nil {
		return nil, fmt.Sprintf("not a Tekton Pipeline (kind %q, apiVersion %q)", f.Kind, f.APIVersion)
	}
	// the directory names a build pipeline (core-services/ holds another
	// "docker-build")
	b := &Build{Name: path.Base(path.Dir(rel)), File: f, Pipeline: f.Pipeline, Tasks: map[string]*TaskInfo{}, Inputs: map[string]Input{}, specs: &c.specs}
	for _, list := range []struct {
		field   string
		tasks   []v1.PipelineTask
		finally bool
	}{{"tasks", f.Pipeline.Spec.Tasks, false}, {"finally", f.Pipeline.Spec.Finally, true}} {
		for i, pt := range list.tasks {
			ti := &TaskInfo{Name: pt.Name, Finally: list.finally, Results: map[string]v1.ResultsType{}}
			if pt.TaskRef != nil {
				ti.Ref = pt.TaskRef.Name
				if strings.Contains(ti.Ref, "$") {
					return nil, fmt.Sprintf("a template (task %q refers to %q, filled in by scripts)", pt.Name, ti.Ref)
				}
				if n := f.Node("spec." + list.field + "[" + strconv.Itoa(i) + "].taskRef.version"); n != nil {
					ti.Version = n.Value
				}
			}
			c.resolve(ti)
			ti.Declared = map[string]bool{}
			if ti.Path != "" {
				for r := range ti.Results {
					ti.Declared[r] = true
				}
			}
			b.Tasks[pt.Name] = ti
		}
	}
	b.collectReferences()
	b.emitting = map[string][]*TaskInfo{}
	for _, ti := range b.Tasks {
		ti.indexResults()
		if !ti.Finally {
			for n := range ti.byNorm {
				b.emitting[n] = append(b.emitting[n], ti)
			}
		}
	}
	for _, p := range f.Pipeline.Spec.Params {
		b.paramNorm = append(b.paramNorm, Norm(p.Name))
	}
	b.findProducer()
	b.findChecks()
	b.findSourceWorkspace()
	b.findPlaces()
	return b, ""
}

// ValidateWhole makes every composition validate the whole composed
// Pipeline, and each pipeline's own errors come from validating it whole:
// the oracle the task-by-task validation is tested against.
func (c *Contract) ValidateWhole() {
	for _, b := range c.Pipelines {
		b.full = true
	}
}

// base is Tekton's verdict on the pipeline itself (by error text),
// taken task by task (or whole, ValidateWhole) when a composition first
// needs it: a composition with errors, or the second one (see
// validateComposed). A pipeline no Task is composed into costs nothing.
func (b *Build) base() map[string]bool {
	b.settle.Do(func() {
		var errs []string
		if b.full {
			errs = errorList(Validate(b.Pipeline))
		} else {
			errs = b.decompose()
		}
		b.baseErrors = map[string]bool{}
		for _, e := range errs {
			b.baseErrors[e] = true
		}
	})
	return b.baseErrors
}

// resolve finds the Task a taskRef {name, version} names in the repository:
// task/<name>/<version>/<name>.yaml, else
// external-sources/*/*/task/<name>/<version>/<name>.yaml.
func (c *Contract) resolve(ti *TaskInfo) {
	if ti.Ref == "" || ti.Version == "" {
		return
	}
	key := ti.Ref + ":" + ti.Version
	if r, ok := c.resolved[key]; ok {
		ti.Path = r.Path
		for k, v := range r.Results {
			ti.Results[k] = v
		}
		return
	}
	if c.resolved == nil {
		c.resolved = map[string]*TaskInfo{}
	}
	defer func() {
		r := &TaskInfo{Path: ti.Path, Results: map[string]v1.ResultsType{}}
		for k, v := range ti.Results {
			r.Results[k] = v
		}
		c.resolved[key] = r
	}()
	tail := path.Join("task", ti.Ref, ti.Version, ti.Ref+".yaml")
	candidates := []string{tail}
	if m, _ := filepath.Glob(filepath.Join(c.Root, "external-sources", "*", "*", filepath.FromSlash(tail))); len(m) > 0 {
		sort.Strings(m)
		for _, abs := range m {
			if rel, err := filepath.Rel(c.Root, abs); err == nil {
				candidates = append(candidates, filepath.ToSlash(rel))
			}
		}
	}
	for _, rel := range candidates {
		if _, err := os.Stat(filepath.Join(c.Root, filepath.FromSlash(rel))); err != nil {
			continue
		}
		results, ok := taskResults(manifest.LoadOwn(c.Root, rel, manifest.DefaultLimits))
		if !ok {
			continue
		}
		ti.Path = rel
		for name, t := range results {
			ti.Results[name] = t
		}
		return
	}
}

// taskResults reads the results a Task of the repository declares, the
// only part of it a composition needs, from its YAML (decoding the whole
// Task into Tekton's types cost half the loading of the contract). ok is
// false when the file is no Tekton Task or its results do not decode.
func taskResults(f *manifest.File) (results map[string]v1.ResultsType, ok bool) {
	if f.Root == nil || f.Kind != "Task" || (f.APIVersion != "tekton.dev/v1" && f.APIVersion != "tekton.dev/v1beta1") {
		return nil, false
	}
	var doc struct {
		Spec struct {
			Results []struct {
				Name string         `yaml:"name"`
				Type v1.ResultsType `yaml:"type"`
			} `yaml:"results"`
		} `yaml:"spec"`
	}
	if err := f.Root.Decode(&doc); err != nil {
		return nil, false
	}
	results = map[string]v1.ResultsType{}
	for _, r := range doc.Spec.Results {
		if r.Type == "" {
			r.Type = v1.ResultsTypeString
		}
		results[r.Name] = r.Type
	}
	return results, true
}

// resultRef matches `$(tasks.<task>.results.<result>` in any expression.
var resultRef = regexp.MustCompile(`\$\(tasks\.([a-z0-9][-a-z0-9]*)\.results\.([A-Za-z0-9_-]+)`)

// refs returns the (task, result) pairs a value mentions.
func refs(v any) [][2]string {
	raw, _ := json.Marshal(v)
	var out [][2]string
	for _, m := range resultRef.FindAllStringSubmatch(string(raw), -1) {
		out = append(out, [2]string{m[1], m[2]})
	}
	return out
}

// collectReferences adds every result the pipeline references to its
// producer's known results: for Tasks not in the repository these are
// all that is known.
func (b *Build) collectReferences() {
	add := func(v any) {
		for _, r := range refs(v) {
			if ti := b.Tasks[r[0]]; ti != nil {
				if _, ok := ti.Results[r[1]]; !ok {
					ti.Results[r[1]] = v1.ResultsTypeString
				}
			}
		}
	}
	for _, pt := range b.Pipeline.Spec.Tasks {
		add(pt)
	}
	for _, pt := range b.Pipeline.Spec.Finally {
		add(pt)
	}
	add(b.Pipeline.Spec.Results)
}

// findProducer names the task the image comes from: the one the
// pipeline's own IMAGE_URL/IMAGE_DIGEST results point at, else the last
// (in DAG order) task producing both.
func (b *Build) findProducer() {
	for _, r := range b.Pipeline.Spec.Results {
		if Norm(r.Name) != Norm(imageResults[0]) {
			continue
		}
		for _, ref := range refs(r.Value) {
			if ti := b.Tasks[ref[0]]; ti != nil && !ti.Finally && hasAll(ti, imageResults) {
				b.Producer = ref[0]
				return
			}
		}
	}
	var producers []string
	for _, pt := range b.Pipeline.Spec.Tasks {
		if hasAll(b.Tasks[pt.Name], imageResults) {
			producers = append(producers, pt.Name)
		}
	}
	for _, p := range producers {
		last := true
		for _, q := range producers {
			if q != p && b.dependsOn(q, p) {
				last = false
			}
		}
		if last {
			b.Producer = p
			return
		}
	}
}

func hasAll(ti *TaskInfo, names []string) bool {
	for _, n := range names {
		if ti.result(n) == "" {
			return false
		}
	}
	return true
}

// result finds a result by normalized name and returns its exact name
// (the least when several normalize alike).
func (ti *TaskInfo) result(name string) string { return ti.resultNorm(Norm(name)) }

func (ti *TaskInfo) resultNorm(n string) string {
	if ti.byNorm != nil {
		return ti.byNorm[n]
	}
	best := ""
	for r := range ti.Results {
		if Norm(r) == n && (best == "" || r < best) {
			best = r
		}
	}
	return best
}

// indexResults makes result a lookup: binding asks it for every param
// of every Task against every pipeline task.
func (ti *TaskInfo) indexResults() {
	ti.byNorm = nil
	idx := map[string]string{}
	for r := range ti.Results {
		idx[Norm(r)] = ti.result(r)
	}
	ti.byNorm = idx
}

// dependsOn reports whether task a runs after task target (runAfter or a
// result reference, transitively).
func (b *Build) dependsOn(a, target string) bool {
	b.depsOnce.Do(b.computeDeps)
	return b.upstream[a][target]
}

// computeDeps finds, once per pipeline (the contract is read-only once
// loaded), the tasks each task names in runAfter or reads results of, and
// every task it runs after.
func (b *Build) computeDeps() {
	direct := map[string][]string{}
	for _, list := range [][]v1.PipelineTask{b.Pipeline.Spec.Tasks, b.Pipeline.Spec.Finally} {
		for _, pt := range list {
			deps := append([]string{}, pt.RunAfter...)
			for _, r := range refs(pt) {
				deps = append(deps, r[0])
			}
			direct[pt.Name] = deps
		}
	}
	b.upstream = map[string]map[string]bool{}
	for name := range direct {
		up := map[string]bool{}
		var walk func(string)
		walk = func(n string) {
			for _, d := range direct[n] {
				if !up[d] {
					up[d] = true
					walk(d)
				}
			}
		}
		walk(name)
		b.upstream[name] = up
	}
}

func (b *Build) task(name string) *v1.PipelineTask {
	for i := range b.Pipeline.Spec.Tasks {
		if b.Pipeline.Spec.Tasks[i].Name == name {
			return &b.Pipeline.Spec.Tasks[i]
		}
	}
	for i := range b.Pipeline.Spec.Finally {
		if b.Pipeline.Spec.Finally[i].Name == name {
			return &b.Pipeline.Spec.Finally[i]
		}
	}
	return nil
}

// findChecks finds the tasks that consume the producer's image, the
// `when` most of them share (the gate a new check copies) and what they
// pass for each param.
func (b *Build) findChecks() {
	if b.Producer == "" {
		return
	}
	var checks []*v1.PipelineTask
	for i := range b.Pipeline.Spec.Tasks {
		pt := &b.Pipeline.Spec.Tasks[i]
		if pt.Name == b.Producer {
			continue
		}
		for _, r := range refs(pt.Params) {
			if r[0] == b.Producer {
				checks = append(checks, pt)
				break
			}
		}
	}
	// a gate is a when expression a strict majority of the checks carry
	count := map[string]int{}
	first := map[string]v1.WhenExpression{}
	var order []string
	for _, pt := range checks {
		for _, w := range pt.When {
			k := whenKey(w)
			if count[k] == 0 {
				first[k] = w
				order = append(order, k)
			}
			count[k]++
		}
	}
	for _, k := range order {
		if 2*count[k] > len(checks) {
			b.Gate = append(b.Gate, first[k])
		}
	}
	for _, pt := range checks {
		for _, k := range order {
			if 2*count[k] > len(checks) && hasWhen(pt.When, first[k]) {
				b.GateFrom = append(b.GateFrom, pt.Name)
				break
			}
		}
	}
	// inputs: the value most checks pass for a param (first seen on
	// ties); the gated tasks are the checks proper when there is a gate
	voters := checks
	if len(b.Gate) > 0 {
		voters = nil
		for _, pt := range checks {
			if hasWhen(pt.When, b.Gate[0]) {
				voters = append(voters, pt)
			}
		}
	}
	votes := map[string]map[string]int{}
	for _, pt := range voters {
		for _, p := range pt.Params {
			n := Norm(p.Name)
			raw, _ := json.Marshal(p.Value)
			if votes[n] == nil {
				votes[n] = map[string]int{}
			}
			votes[n][string(raw)]++
			if cur, ok := b.Inputs[n]; !ok || votes[n][string(raw)] > votes[n][mustJSON(cur.Value)] {
				b.Inputs[n] = Input{Param: p.Name, Value: p.Value, From: pt.Name}
			}
		}
	}
}

func mustJSON(v any) string {
	raw, _ := json.Marshal(v)
	return string(raw)
}

func whenKey(w v1.WhenExpression) string { return mustJSON(w) }

func hasWhen(ws v1.WhenExpressions, w v1.WhenExpression) bool {
	for _, x := range ws {
		if whenKey(x) == whenKey(w) {
			return true
		}
	}
	return false
}

// findSourceWorkspace picks the non-optional pipeline workspace the tasks
// bind most: the shared source volume of the classic pipelines.
func (b *Build) findSourceWorkspace() {
	uses := map[string]int{}
	for _, list := range [][]v1.PipelineTask{b.Pipeline.Spec.Tasks, b.Pipeline.Spec.Finally} {
		for _, pt := range list {
			for _, w := range pt.Workspaces {
				name := w.Workspace
				if name == "" {
					name = w.Name
				}
				uses[name]++
			}
		}
	}
	best := -1
	for _, w := range b.Pipeline.Spec.Workspaces {
		if !w.Optional && uses[w.Name] > best {
			b.SourceWorkspace, best = w.Name, uses[w.Name]
		}
	}
}

// Place is where a build pipeline runs one of its own Tasks: after which
// tasks, fed with what, under which `when`, and which of its results the
// rest of the pipeline reads. A Task taking the place must meet that.
type Place struct {
	Info *TaskInfo
	Role Slot            // ImageCheck, SourceCheck, Builder, PostBuild or Finally
	Spec v1.PipelineTask // as the pipeline writes it
	// Consumed are the results the other tasks or the pipeline's own
	// results read from this task: what a Task replacing it must emit.
	Consumed []string
	// Emits are the results its own Task declares (when resolved).
	Emits map[string]bool
	Index int // in spec.tasks, or spec.finally for Finally

	fedNorm []string // Norm of each of Spec.Params' names
}

// findPlaces classifies every pipeline task by where it stands: finally;
// a check (after the image producer, its results read by nobody, gated
// like the checks or declaring TEST_OUTPUT); a builder (its results feed
// the rest of the pipeline); else a post-build task (apply-tags,
// push-dockerfile: after the producer, read by nobody, not a check).
func (b *Build) findPlaces() {
	consumed := map[string]map[string]bool{}
	note := func(v any) {
		for _, r := range refs(v) {
			if consumed[r[0]] == nil {
				consumed[r[0]] = map[string]bool{}
			}
			consumed[r[0]][r[1]] = true
		}
	}
	for _, pt := range b.Pipeline.Spec.Tasks {
		note(pt)
	}
	for _, pt := range b.Pipeline.Spec.Finally {
		note(pt)
	}
	note(b.Pipeline.Spec.Results)
	for _, list := range []struct {
		tasks   []v1.PipelineTask
		finally bool
	}{{b.Pipeline.Spec.Tasks, false}, {b.Pipeline.Spec.Finally, true}} {
		for i, pt := range list.tasks {
			pl := &Place{Info: b.Tasks[pt.Name], Spec: pt, Index: i, Emits: map[string]bool{}}
			for _, p := range pt.Params {
				pl.fedNorm = append(pl.fedNorm, Norm(p.Name))
			}
			for r := range pl.Info.Declared {
				pl.Emits[r] = true
			}
			for r := range consumed[pt.Name] {
				// what the pipeline reads and its own Task does not emit is
				// the pipeline's own bug: not asked of a replacement
				if pl.Info.Path == "" || pl.Emits[r] {
					pl.Consumed = append(pl.Consumed, r)
				}
			}
			sort.Strings(pl.Consumed)
			afterImage := b.Producer != "" && pt.Name != b.Producer && b.dependsOn(pt.Name, b.Producer)
			gated := len(b.Gate) > 0 && hasWhen(pt.When, b.Gate[0])
			switch {
			case list.finally:
				pl.Role = Finally
			case afterImage && len(pl.Consumed) == 0 && (gated || pl.Emits[testOutput]):
				pl.Role = ImageCheck
				if len(pt.Workspaces) > 0 || hasParam(pt.Params, "SOURCE_ARTIFACT") {
					pl.Role = SourceCheck
				}
			case afterImage && len(pl.Consumed) == 0:
				pl.Role = PostBuild
			default:
				pl.Role = Builder
			}
			b.Places = append(b.Places, pl)
		}
	}
}

func hasParam(ps v1.Params, name string) bool {
	for _, p := range ps {
		if Norm(p.Name) == Norm(name) {
			return true
		}
	}
	return false
}

// Context is what Tekton's admission webhook validates with: the default
// feature flags and defaults.
func Context() context.Context {
	ctx := context.Background()
	return config.ToContext(ctx, config.FromContextOrDefaults(ctx))
}

// Validate runs Tekton's own SetDefaults and Validate on a copy of p.
func Validate(p *v1.Pipeline) *apis.FieldError {
	ctx := Context()
	cp := p.DeepCopy()
	cp.SetDefaults(ctx)
	return cp.Validate(ctx)
}

// errorList flattens a FieldError into one string per error and path.
func errorList(errs *apis.FieldError) []string {
	if errs == nil {
		return nil
	}
	var out []string
	for _, e := range errs.WrappedErrors() {
		out = append(out, e.Error())
	}
	return out
}

// Pipeline returns a loaded build pipeline by name, or nil.
func (c *Contract) Pipeline(name string) *Build {
	for _, b := range c.Pipelines {
		if b.Name == name {
			return b
		}
	}
	return nil
}

// Names lists the loaded pipelines.
func (c *Contract) Names() []string {
	var out []string
	for _, b := range c.Pipelines {
		out = append(out, b.Name)
	}
	return out
}
