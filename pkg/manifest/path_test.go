package manifest

import (
	"reflect"
	"testing"

	"gopkg.in/yaml.v3"
)

func TestParsePath(t *testing.T) {
	got := ParsePath("spec.steps[1].env[0].value")
	want := []Segment{{Field: "spec"}, {Field: "steps"}, {Index: 1, IsIndex: true}, {Field: "env"}, {Index: 0, IsIndex: true}, {Field: "value"}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %+v", got)
	}
	got = ParsePath("metadata.annotations[tekton.dev/pipelines.minVersion]")
	want = []Segment{{Field: "metadata"}, {Field: "annotations"}, {Key: "tekton.dev/pipelines.minVersion", IsKey: true}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %+v", got)
	}
	if got := ParsePath("a[unclosed"); len(got) != 2 || got[1].Field != "unclosed" {
		t.Errorf("unclosed bracket: %+v", got)
	}
}

const located = `apiVersion: tekton.dev/v1
kind: Task
metadata:
  name: t
  annotations:
    tekton.dev/pipelines.minVersion: "0.50"
spec:
  params:
    - name: IMAGE
      type: string
  steps:
    - name: first
      image: alpine
    - name: second
      Image: busybox
      env:
        - name: A
          value: b
`

func TestLocate(t *testing.T) {
	var doc yaml.Node
	if err := yaml.Unmarshal([]byte(located), &doc); err != nil {
		t.Fatal(err)
	}
	root := doc.Content[0]
	for _, tc := range []struct {
		path      string
		line, col int
		exact     bool
	}{
		{"spec.steps[1].env[0].value", 18, 18, true},
		{"spec.params[IMAGE]", 9, 7, true},       // element by name
		{"spec.params.IMAGE.type", 10, 13, true}, // name used as a field
		{"spec.steps.image", 13, 14, true},       // no index: first element that has it
		{"spec.steps[1].image", 15, 14, true},    // Go-cased key in YAML
		{"spec.steps[0].Image", 13, 14, true},    // Go-cased path
		{"metadata.annotations[tekton.dev/pipelines.minVersion]", 6, 38, true},
		{"spec.steps[5].image", 12, 5, false},  // past the end: the list
		{"spec.steps[0].script", 12, 7, false}, // missing field: its parent
		{"", 1, 1, true},
	} {
		n, exact := Locate(root, tc.path)
		if n.Line != tc.line || n.Column != tc.col || exact != tc.exact {
			t.Errorf("%q: got %d:%d exact=%v, want %d:%d exact=%v", tc.path, n.Line, n.Column, exact, tc.line, tc.col, tc.exact)
		}
	}
	if n, _ := Locate(nil, "spec"); n != nil {
		t.Error("nil root must give nil")
	}
}
