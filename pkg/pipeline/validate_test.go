package pipeline

import (
	"fmt"
	"io/fs"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	v1 "github.com/tektoncd/pipeline/pkg/apis/pipeline/v1"
	"taskgate.dev/taskgate/internal/testrepo"
	"taskgate.dev/taskgate/pkg/manifest"
)

// verdict is what a composition tells: where, and Tekton's errors, those
// it adds to the pipeline's and all of them (more than the gate shows).
func verdict(f *Fit) string {
	var errs, all []string
	for _, e := range f.Errors {
		errs = append(errs, fmt.Sprintf("%s|%s|%v|%v", e.Message, e.Details, e.Level, e.Paths))
	}
	if f.Composed != nil {
		for _, e := range f.Build.validateComposed(f.Composed, f.InFinally, f.Index, f.Replace) {
			all = append(all, fmt.Sprintf("%s|%s|%v|%v", e.Message, e.Details, e.Level, e.Paths))
		}
	}
	return fmt.Sprintf("%s %s %d %v ok=%v %q %q all %q", f.Slot, f.TaskName, f.Index, f.InFinally, f.OK(), f.Problems(), errs, all)
}

// sameVerdicts judges every Task against every pipeline of dir twice,
// task by task and whole, and wants the same verdicts: Judge's, and
// FitAt's at every place of the pipelines (a bad Task goes through the
// places a good one stops before).
func sameVerdicts(t *testing.T, dir string, tasks []*v1.Task, everyPlace bool) {
	t.Helper()
	fast, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	whole, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	whole.ValidateWhole()
	for i, b := range fast.Pipelines {
		w := whole.Pipelines[i]
		if !mapsEqual(b.base(), w.base()) {
			t.Errorf("%s: the pipeline's own errors differ:\ntask by task %v\nwhole        %v", b.Name, keys(b.base()), keys(w.base()))
		}
		if b.parts.whole != "" {
			t.Logf("%s: validated whole: %s", b.Name, b.parts.whole)
		}
	}
	n := 0
	for _, task := range tasks {
		slot, _, err := InferSlot(task)
		if err != nil {
			continue
		}
		_, declared := task.Annotations[SlotAnnotation]
		m, _ := ParseMapping(task.Annotations[BindAnnotation])
		for i, b := range fast.Pipelines {
			w := whole.Pipelines[i]
			n++
			if got, want := verdict(b.Judge(task, slot, declared, m)), verdict(w.Judge(task, slot, declared, m)); got != want {
				t.Errorf("%s in %s:\ntask by task %s\nwhole        %s", task.Name, b.Name, got, want)
			}
			if !everyPlace {
				continue
			}
			for j, pl := range b.Places {
				if got, want := verdict(b.FitAt(task, pl, m)), verdict(w.FitAt(task, w.Places[j], m)); got != want {
					t.Errorf("%s at %s of %s:\ntask by task %s\nwhole        %s", task.Name, pl.Spec.Name, b.Name, got, want)
				}
			}
		}
	}
	t.Logf("%s: %d compositions judged both ways", dir, n)
}

func mapsEqual(a, b map[string]bool) bool {
	if len(a) != len(b) {
		return false
	}
	for k := range a {
		if !b[k] {
			return false
		}
	}
	return true
}

func keys(m map[string]bool) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// tasksUnder loads every Task file under root/sub.
func tasksUnder(t *testing.T, root, sub string) []*v1.Task {
	t.Helper()
	var out []*v1.Task
	err := filepath.WalkDir(filepath.Join(root, sub), func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(p, ".yaml") {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		if f := manifest.Load(root, filepath.ToSlash(rel), manifest.DefaultLimits); f.Task != nil {
			out = append(out, f.Task)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// The same on the fixtures shipped here, at every place of their
// pipelines, with hand-made bad Tasks.
func TestTaskByTaskIsWholeOnFixtures(t *testing.T) {
	var tasks []*v1.Task
	for _, f := range []string{"image-check.yaml", "source-workspace.yaml"} {
		tasks = append(tasks, task(t, "testdata", f))
	}
	tasks = append(tasks, tasksUnder(t, "../rules/integration/testdata", ".")...)
	tasks = append(tasks, tasksUnder(t, mini(t, ""), "task")...)
	tasks = append(tasks, badTasks(t)...)
	sameVerdicts(t, mini(t, "pipelines"), tasks, true)
	sameVerdicts(t, "testdata/compose/pipelines", tasks, true)
}

// badTasks are the hand-made Tasks of testdata/compose/tasks: what Tekton
// checks across tasks, provoked.
func badTasks(t *testing.T) []*v1.Task {
	tasks := tasksUnder(t, "testdata/compose", "tasks")
	if len(tasks) < 10 {
		t.Fatalf("only %d hand-made Tasks", len(tasks))
	}
	return tasks
}

// A pipeline of more tasks than parts are worth is validated whole, with
// the same verdicts.
func TestLargePipelineIsValidatedWhole(t *testing.T) {
	var b strings.Builder
	b.WriteString("apiVersion: tekton.dev/v1\nkind: Pipeline\nmetadata:\n  name: big-build\nspec:\n  params:\n  - name: skip-checks\n    default: \"false\"\n")
	b.WriteString("  results:\n  - name: IMAGE_URL\n    value: $(tasks.build.results.IMAGE_URL)\n  - name: IMAGE_DIGEST\n    value: $(tasks.build.results.IMAGE_DIGEST)\n")
	b.WriteString("  tasks:\n  - name: build\n    taskRef:\n      name: buildah\n")
	for i := range maxParts {
		fmt.Fprintf(&b, "  - name: step-%d\n    runAfter: [build]\n    taskRef:\n      name: lint\n", i)
	}
	dir := t.TempDir()
	testrepo.Write(t, dir, map[string]string{"pipelines/big-build/big-build.yaml": b.String()})
	c, err := Load(filepath.Join(dir, "pipelines"))
	if err != nil || len(c.Pipelines) != 1 {
		t.Fatalf("big-build did not load: %v %v", err, c.Ignored)
	}
	c.Pipelines[0].base()
	if why := c.Pipelines[0].parts.whole; !strings.Contains(why, "tasks") {
		t.Errorf("a %d-task pipeline is validated task by task (%q)", maxParts+1, why)
	}
	sameVerdicts(t, filepath.Join(dir, "pipelines"), badTasks(t)[:3], false)
}
