package cluster

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/validation/field"
	"k8s.io/client-go/rest"
	"taskgate.dev/taskgate/pkg/catalog"
	"taskgate.dev/taskgate/pkg/check"
)

const v1beta1Task = `apiVersion: tekton.dev/v1beta1
kind: Task
metadata:
  name: old
  creationTimestamp: null
spec:
  params:
    - name: IMAGE
  steps:
    - name: build
      image: registry.example/build
      resources:
        requests:
          cpu: 100m
`

// A v1 document is sent as written: the server must see the unknown
// field; a v1beta1 Task goes as the v1 Task Tekton converts it to.
func TestObject(t *testing.T) {
	obj, err := Object(parse(t, "task.yaml", taskYAML))
	if err != nil {
		t.Fatal(err)
	}
	steps := obj.Object["spec"].(map[string]any)["steps"].([]any)
	step := steps[0].(map[string]any)
	if step["imagee"] != "registry.example/hello" || step["image"] != int64(42) {
		t.Errorf("v1 document not sent as written: %v", step)
	}

	f := parse(t, "old.yaml", v1beta1Task)
	if !f.Converted {
		t.Fatal("the v1beta1 Task was not converted")
	}
	obj, err = Object(f)
	if err != nil {
		t.Fatal(err)
	}
	if obj.GetAPIVersion() != "tekton.dev/v1" || obj.GetKind() != "Task" || obj.GetName() != "old" {
		t.Errorf("converted object is %s %s %s", obj.GetAPIVersion(), obj.GetKind(), obj.GetName())
	}
	if _, has := obj.Object["metadata"].(map[string]any)["creationTimestamp"]; has {
		t.Error("creationTimestamp: null sent")
	}
	step = obj.Object["spec"].(map[string]any)["steps"].([]any)[0].(map[string]any)
	if _, ok := step["computeResources"]; !ok {
		t.Errorf("v1beta1 resources not converted to v1 computeResources: %v", step)
	}
	if _, err := Object(parse(t, "x.yaml", "kind: Task\n")); err == nil {
		t.Error("an object without apiVersion must not be sent")
	}
}

// The dry-run request carries dryRun=All and fieldValidation=Strict, and
// the server's warnings and rejection come back. The server here is an
// HTTP stub answering like kube-apiserver (e2e/ runs a real one).
func TestDryRunWire(t *testing.T) {
	var query, path, body string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		query, path = r.URL.RawQuery, r.URL.Path
		b, _ := io.ReadAll(r.Body)
		body = string(b)
		st := apierrors.NewInvalid(schema.GroupKind{Group: "tekton.dev", Kind: "Task"}, "Bad_Name",
			field.ErrorList{field.Invalid(field.NewPath("metadata", "name"), "Bad_Name", "a lowercase RFC 1123 subdomain")}).ErrStatus
		st.Kind, st.APIVersion = "Status", "v1"
		w.Header().Set("Content-Type", "application/json")
		w.Header().Add("Warning", `299 - "unknown field \"spec.steps[0].imagee\""`)
		w.WriteHeader(http.StatusUnprocessableEntity)
		json.NewEncoder(w).Encode(st)
	}))
	defer srv.Close()
	c, err := NewForConfig(&rest.Config{Host: srv.URL}, "sandbox")
	if err != nil {
		t.Fatal(err)
	}
	f := parse(t, "task.yaml", taskYAML)
	obj, err := Object(f)
	if err != nil {
		t.Fatal(err)
	}
	warnings, err := c.DryRun(context.Background(), obj)
	if path != "/apis/tekton.dev/v1/namespaces/sandbox/tasks" {
		t.Errorf("POST %s", path)
	}
	for _, q := range []string{"dryRun=All", "fieldValidation=Strict"} {
		if !strings.Contains(query, q) {
			t.Errorf("query %q lacks %s", query, q)
		}
	}
	if !strings.Contains(body, `"imagee"`) || !strings.Contains(body, `"namespace":"sandbox"`) {
		t.Errorf("body %s", body)
	}
	if !apierrors.IsInvalid(err) || len(warnings) != 1 {
		t.Fatalf("err %v, warnings %q", err, warnings)
	}
	got := append(Findings(RuleDryRun, err, Same(f)), Warnings(RuleDryRun, warnings, Same(f))...)
	expect(t, got,
		at{"task.yaml", 4, 9, check.Error, "Bad_Name"},
		at{"task.yaml", 9, 7, check.Warning, "imagee"})
}

// The composed manifests `integrate --out` wrote for a submission are
// sent after its Task, Pipelines before PipelineRuns, and an error inside
// the embedded partner Task points into the submission.
func TestDryRunComposed(t *testing.T) {
	out := t.TempDir()
	dir := filepath.Join(out, "partners", "hello", "0.1", "docker-build")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(dir, "pipeline.yaml"), []byte(pipelineYAML), 0o644)
	os.WriteFile(filepath.Join(dir, "pipelinerun.yaml"), []byte(`apiVersion: tekton.dev/v1
kind: PipelineRun
metadata:
  name: docker-build-with-hello
  labels:
    taskgate.dev/task: hello
spec:
  pipelineRef:
    name: docker-build-with-hello
`), 0o644)
	var paths []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		paths = append(paths, r.URL.Path[strings.LastIndex(r.URL.Path, "/")+1:])
		w.Header().Set("Content-Type", "application/json")
		if strings.HasSuffix(r.URL.Path, "/pipelines") {
			st := apierrors.NewInvalid(schema.GroupKind{Group: "tekton.dev", Kind: "Pipeline"}, "p", field.ErrorList{
				field.TypeInvalid(field.NewPath("spec", "tasks").Index(1).Child("taskSpec", "steps").Index(0).Child("image"), "integer", "must be of type string"),
			}).ErrStatus
			st.Kind, st.APIVersion = "Status", "v1"
			w.WriteHeader(http.StatusUnprocessableEntity)
			json.NewEncoder(w).Encode(st)
			return
		}
		w.WriteHeader(http.StatusCreated)
		io.Copy(w, r.Body)
	}))
	defer srv.Close()
	c, err := NewForConfig(&rest.Config{Host: srv.URL}, "default")
	if err != nil {
		t.Fatal(err)
	}
	task := parse(t, "partners/hello/0.1/hello.yaml", strings.Replace(taskYAML, "Bad_Name", "hello", 1))
	s := &catalog.Submission{Dir: "partners/hello/0.1", Manifest: task}
	got := c.DryRunSubmission(context.Background(), s, out)
	if strings.Join(paths, ",") != "tasks,pipelines,pipelineruns" {
		t.Errorf("sent %v", paths)
	}
	expect(t, got, at{"partners/hello/0.1/hello.yaml", 8, 14, check.Error, "must be of type string"})
	if got := c.DryRunSubmission(context.Background(), s, filepath.Join(out, "nothing-here")); len(got) != 0 {
		t.Errorf("a submission with nothing composed: %v", got)
	}
}
