package budget

import (
	"strings"
	"testing"
)

func TestRunMeasuresTheChild(t *testing.T) {
	r := Run(t, t.TempDir(), Limits{}, "rules")
	if r.Code != 0 || !strings.Contains(r.Stdout, "tekton/schema") {
		t.Fatalf("taskgate rules: exit %d\n%s%s", r.Code, r.Stdout, r.Stderr)
	}
	if r.MaxRSS <= 0 || r.CPU <= 0 {
		t.Errorf("no usage measured: %+v", r)
	}
	r.Within(t)
}
