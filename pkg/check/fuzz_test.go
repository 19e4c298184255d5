package check

import (
	"strconv"
	"strings"
	"sync"
	"testing"

	"taskgate.dev/taskgate/pkg/catalog"
)

var registerFuzz sync.Once

// FuzzSkip: any skip annotation is judged without a crash, every finding
// has a place, and no protected rule is ever skipped.
func FuzzSkip(f *testing.F) {
	for _, s := range []string{
		"image/registry # mirrored by the partner's proxy",
		"privilege/privileged # trust me",
		"secret/leaked,privilege/test-privileged,tekton/conventions#x",
		"config/skip # no",
		"# only a reason",
		"a b\tc # d # e",
		"test/per-step",
		"\u202eprivilege/privileged # x",
	} {
		f.Add(s)
	}
	registerFuzz.Do(func() { registerPrivileged.Do(func() { Register(privileged) }) })
	f.Fuzz(func(t *testing.T, value string) {
		// a YAML double-quoted scalar takes Go's escapes
		s := submission(t, "a", task("    taskgate.dev/skip: "+strconv.Quote(value)+"\n"))
		if s.Manifest.Root == nil {
			return // not YAML after all (Go's quoting of odd runes): the loader reports it
		}
		for _, fd := range Apply(SkipCheck, s) {
			if fd.Line < 1 || fd.Column < 1 || fd.Message == "" {
				t.Fatalf("finding without a place: %+v", fd)
			}
		}
		for rule := range Skips(s) {
			if Protected(rule) {
				t.Fatalf("%q skips protected %s", value, rule)
			}
			if strings.ContainsAny(rule, ", \t#") {
				t.Fatalf("%q: rule %q holds a separator", value, rule)
			}
		}
		_ = Run([]*catalog.Submission{s}, []*Check{privileged, SkipCheck}, nil)
	})
}
