package cluster

import (
	"errors"
	"strings"
	"testing"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/validation/field"
	"taskgate.dev/taskgate/pkg/check"
	"taskgate.dev/taskgate/pkg/manifest"
)

const taskYAML = `apiVersion: tekton.dev/v1
kind: Task
metadata:
  name: Bad_Name
spec:
  steps:
    - name: hello
      image: 42
      imagee: registry.example/hello
      script: echo hi
`

func parse(t *testing.T, path, data string) *manifest.File {
	t.Helper()
	f := manifest.Parse(path, []byte(data), manifest.DefaultLimits)
	if f.Root == nil {
		t.Fatalf("%s does not parse: %+v", path, f.Problems)
	}
	return f
}

type at struct {
	file      string
	line, col int
	sev       check.Severity
	contains  string
}

func expect(t *testing.T, got []check.Finding, want ...at) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("got %d findings, want %d: %v", len(got), len(want), got)
	}
	for i, w := range want {
		g := got[i]
		if g.File != w.file || g.Line != w.line || g.Column != w.col || g.Severity != w.sev || !strings.Contains(g.Message, w.contains) || g.Help == "" {
			t.Errorf("finding %d = %s (help %q), want %s:%d:%d %s containing %q", i, g, g.Help, w.file, w.line, w.col, w.sev, w.contains)
		}
	}
}

var taskKind = schema.GroupKind{Group: "tekton.dev", Kind: "Task"}

// Invalid (422) causes point at the field they name: the value for an
// invalid value or type, the parent for a missing field.
func TestInvalidCauses(t *testing.T) {
	f := parse(t, "task.yaml", taskYAML)
	err := apierrors.NewInvalid(taskKind, "Bad_Name", field.ErrorList{
		field.Invalid(field.NewPath("metadata", "name"), "Bad_Name", "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters"),
		field.TypeInvalid(field.NewPath("spec", "steps").Index(0).Child("image"), "integer", "spec.steps[0].image in body must be of type string"),
		field.Required(field.NewPath("spec", "steps").Index(0).Child("workingDir"), ""),
	})
	expect(t, Findings(RuleDryRun, err, Same(f)),
		at{"task.yaml", 4, 9, check.Error, `metadata.name: Invalid value: "Bad_Name"`},
		at{"task.yaml", 8, 14, check.Error, "must be of type string"},
		at{"task.yaml", 7, 7, check.Error, "spec.steps[0].workingDir: Required value"},
	)
}

// Strict decoding (fieldValidation=Strict) rejects unknown fields with a
// 400 that names them only in its message: each points at its key.
func TestStrictDecodingError(t *testing.T) {
	f := parse(t, "task.yaml", taskYAML)
	err := apierrors.NewBadRequest(`Task in version "v1" cannot be handled as a Task: strict decoding error: unknown field "spec.steps[0].imagee", unknown field "spec.nope"`)
	expect(t, Findings(RuleDryRun, err, Same(f)),
		at{"task.yaml", 9, 7, check.Error, `unknown field "spec.steps[0].imagee"`},
		at{"task.yaml", 6, 3, check.Error, `unknown field "spec.nope"`}, // absent: where it would go
	)
}

// A 400 naming no field still becomes a finding on the object.
func TestBadRequestWithoutField(t *testing.T) {
	f := parse(t, "task.yaml", taskYAML)
	expect(t, Findings(RuleDryRun, apierrors.NewBadRequest("the namespace of the provided object does not match"), Same(f)),
		at{"task.yaml", 1, 1, check.Error, "does not match"})
}

// Errors that are not about the object (access, no Tekton, no server)
// are findings that the dry-run could not run: never a silent pass.
func TestCannotRun(t *testing.T) {
	f := parse(t, "task.yaml", taskYAML)
	for _, err := range []error{
		apierrors.NewForbidden(schema.GroupResource{Group: "tekton.dev", Resource: "tasks"}, "x", errors.New("RBAC: denied")),
		apierrors.NewNotFound(schema.GroupResource{Group: "tekton.dev", Resource: "tasks"}, ""),
		apierrors.NewInternalError(errors.New(`conversion webhook for tekton.dev/v1beta1, Kind=Task failed: service "tekton-pipelines-webhook" not found`)),
		errors.New("dial tcp 127.0.0.1:1: connect: connection refused"),
	} {
		got := Findings(RuleDryRun, err, Same(f))
		expect(t, got, at{"task.yaml", 1, 1, check.Error, "the dry-run could not run"})
		if !strings.Contains(got[0].Help, "kubeconfig") {
			t.Errorf("help %q does not say what to check", got[0].Help)
		}
	}
	if Findings(RuleDryRun, nil, Same(f)) != nil {
		t.Error("no error must give no finding")
	}
}

const pipelineYAML = `apiVersion: tekton.dev/v1
kind: Pipeline
metadata:
  name: docker-build-with-hello
spec:
  tasks:
    - name: init
      taskRef:
        name: init
    - name: hello
      taskSpec:
        steps:
          - name: hello
            image: 42
`

// Paths inside the embedded partner Task map to the submission; the
// rest of a composed Pipeline stays in the composed file.
func TestEmbeddedMapper(t *testing.T) {
	task := parse(t, "partners/hello/0.1/hello.yaml", taskYAML)
	p := parse(t, "out/pipeline.yaml", pipelineYAML)
	if got := embeddedTask(p, "hello"); got != "spec.tasks[1].taskSpec" {
		t.Fatalf("embeddedTask = %q", got)
	}
	err := apierrors.NewInvalid(schema.GroupKind{Group: "tekton.dev", Kind: "Pipeline"}, "p", field.ErrorList{
		field.TypeInvalid(field.NewPath("spec", "tasks").Index(1).Child("taskSpec", "steps").Index(0).Child("image"), "integer", "must be of type string"),
		field.Invalid(field.NewPath("spec", "tasks").Index(0).Child("name"), "init", "bad"),
		field.Invalid(field.NewPath("spec", "tasks").Index(10).Child("name"), "x", "prefix spec.tasks[1] must not match spec.tasks[10]"),
	})
	expect(t, Findings(RuleDryRun, err, Embedded(p, "spec.tasks[1].taskSpec", task)),
		at{"partners/hello/0.1/hello.yaml", 8, 14, check.Error, "must be of type string"},
		at{"out/pipeline.yaml", 7, 13, check.Error, "spec.tasks[0].name"},
		at{"out/pipeline.yaml", 7, 5, check.Error, "spec.tasks[10].name"}, // no such element: the list
	)
}

func TestWarnings(t *testing.T) {
	f := parse(t, "task.yaml", taskYAML)
	expect(t, Warnings(RuleDryRun, []string{`unknown field "spec.steps[0].imagee"`, "tekton.dev/v1beta1 Task is deprecated"}, Same(f)),
		at{"task.yaml", 9, 7, check.Warning, "imagee"},
		at{"task.yaml", 1, 1, check.Warning, "deprecated"},
	)
}
