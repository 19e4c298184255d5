package security

import (
	"testing"

	"taskgate.dev/taskgate/pkg/check"
)

// Every rule's Bad example triggers it and its Fixed example does not.
func TestExamples(t *testing.T) {
	for _, c := range Checks {
		t.Run(c.ID, func(t *testing.T) {
			if c.Bad == "" || c.Fixed == "" || c.Help == "" || c.Doc == "" {
				t.Fatal("Doc, Help, Bad and Fixed are required")
			}
			for _, ex := range []struct {
				name, yaml string
				bad        bool
			}{{"Bad", c.Bad, true}, {"Fixed", c.Fixed, false}} {
				s := handmade(t, taskYAML(ex.yaml), nil)
				s.Repo.Config.Images.AllowedRegistries = []string{"quay.io/konflux-ci"}
				fs := run(c, s)
				var errs []check.Finding
				for _, f := range fs {
					if f.Rule == c.ID && f.Severity <= check.Warning {
						errs = append(errs, f)
					}
				}
				if ex.bad && len(errs) == 0 {
					t.Errorf("%s example does not trigger %s:\n%s", ex.name, c.ID, ex.yaml)
				}
				if !ex.bad && len(errs) > 0 {
					t.Errorf("%s example triggers %s:\n%s", ex.name, c.ID, dump(errs))
				}
			}
		})
	}
}
