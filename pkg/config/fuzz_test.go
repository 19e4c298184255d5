package config

import (
	"strings"
	"testing"
)

// FuzzParse: any .taskgate.yaml either decodes or is an error naming the
// file; a decoded waiver has every field and a place.
func FuzzParse(f *testing.F) {
	f.Add([]byte("disable: [layout/readme]\nseverity:\n  tekton/conventions: info\nimages:\n  allowedRegistries: [quay.io/konflux-ci]\n"))
	f.Add([]byte("waivers:\n  - {task: hello, versions: [\"0.1\"], rule: privilege/privileged, reason: r, expires: 2027-06-30}\n"))
	f.Add([]byte("waivers:\n  - &w {task: a, versions: ['*'], rule: x/y, reason: r, expires: '2027-01-01T00:00:00Z'}\n  - *w\n"))
	f.Add([]byte("waivers: [{}]\n"))
	f.Add([]byte("disable: !!binary aGVsbG8=\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := Parse(data)
		if err != nil {
			if !strings.Contains(err.Error(), FileName) {
				t.Fatalf("error without the file name: %v", err)
			}
			return
		}
		for _, w := range c.Waivers {
			if w.Line < 1 || w.Task == "" || w.Rule == "" || w.Reason == "" || len(w.Versions) == 0 || w.Until.IsZero() {
				t.Fatalf("incomplete waiver accepted: %+v", w)
			}
		}
	})
}
