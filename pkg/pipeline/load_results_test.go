package pipeline

import (
	"maps"
	"testing"

	v1 "github.com/tektoncd/pipeline/pkg/apis/pipeline/v1"
	"taskgate.dev/taskgate/pkg/manifest"
)

// A referenced Task's results are read from its YAML, in either API
// version; a file that is no Task, or whose results do not decode, gives none.
func TestTaskResults(t *testing.T) {
	const head = "kind: Task\nmetadata:\n  name: t\nspec:\n"
	cases := []struct {
		name, src string
		want      map[string]v1.ResultsType
	}{
		{"v1", "apiVersion: tekton.dev/v1\n" + head + "  results:\n    - name: IMAGE_URL\n    - name: SBOM\n      type: object\n  steps: [{name: s, image: x}]\n",
			map[string]v1.ResultsType{"IMAGE_URL": v1.ResultsTypeString, "SBOM": v1.ResultsTypeObject}},
		{"v1beta1", "apiVersion: tekton.dev/v1beta1\n" + head + "  results:\n    - name: LIST\n      type: array\n",
			map[string]v1.ResultsType{"LIST": v1.ResultsTypeArray}},
		{"merge key", "apiVersion: tekton.dev/v1\n" + head + "  results:\n    - &r {name: A}\n    - <<: *r\n      type: array\n",
			map[string]v1.ResultsType{"A": v1.ResultsTypeArray}},
		{"no results", "apiVersion: tekton.dev/v1\n" + head + "  steps: [{name: s, image: x}]\n", map[string]v1.ResultsType{}},
		{"results not a list", "apiVersion: tekton.dev/v1\n" + head + "  results: IMAGE_URL\n", nil},
		{"a Pipeline", "apiVersion: tekton.dev/v1\nkind: Pipeline\nmetadata:\n  name: t\nspec:\n  results:\n    - name: IMAGE_URL\n      value: x\n", nil},
		{"another API", "apiVersion: example.com/v1\n" + head + "  results:\n    - name: IMAGE_URL\n", nil},
		{"not YAML", "apiVersion: [\n", nil},
	}
	for _, c := range cases {
		got, ok := taskResults(manifest.Parse("t.yaml", []byte(c.src), manifest.DefaultLimits))
		if ok != (c.want != nil) || !maps.Equal(got, c.want) {
			t.Errorf("%s: got %v, %v; want %v", c.name, got, ok, c.want)
		}
	}
}
