package check

import (
	"strings"

	"taskgate.dev/taskgate/pkg/catalog"
)

// SkipCheckID is the rule that judges skip annotations; it cannot be skipped.
const SkipCheckID = "config/skip"

// skipEntry is one parsed skip annotation.
type skipEntry struct {
	rules  []string
	reason string
}

func parseSkip(v string) skipEntry {
	spec, reason, _ := strings.Cut(v, "#")
	e := skipEntry{reason: strings.TrimSpace(reason)}
	for _, r := range strings.FieldsFunc(spec, func(r rune) bool { return r == ',' || r == ' ' || r == '\t' }) {
		e.rules = append(e.rules, r)
	}
	return e
}

func skipAnnotation(s *catalog.Submission) (string, bool) {
	if s.Manifest == nil || s.Manifest.Root == nil {
		return "", false
	}
	n := s.Manifest.Node("metadata.annotations[" + SkipAnnotation + "]")
	if n == nil {
		return "", false
	}
	return n.Value, true
}

// Skips returns the rules a submission skips, each with its reason. A skip
// without a reason skips nothing (SkipCheck reports it).
func Skips(s *catalog.Submission) map[string]string {
	v, ok := skipAnnotation(s)
	if !ok {
		return nil
	}
	e := parseSkip(v)
	if e.reason == "" {
		return nil
	}
	out := map[string]string{}
	for _, r := range e.rules {
		out[r] = e.reason
	}
	return out
}

// SkipCheck judges the skip annotation itself.
var SkipCheck = &Check{
	ID:       SkipCheckID,
	Doc:      "a " + SkipAnnotation + " annotation without a reason, or naming a rule that does not exist",
	Severity: Error,
	Help:     "write `" + SkipAnnotation + `: "<rule>[,<rule>] # <why this Task may break the rule>"` + "`; reviewers read the reason",
	Bad: `# partners/hello/0.1/hello.yaml
apiVersion: tekton.dev/v1
kind: Task
metadata:
  name: hello
  annotations:
    taskgate.dev/skip: "tekton/conventions" # no reason: nothing is skipped
spec:
  steps:
    - name: hello
      image: registry.access.redhat.com/ubi9/ubi-minimal@sha256:95413c8dacaac773421428947a431c1cb099d19b4b1125df77d5d1cd2f463ab8
      script: echo hello
`,
	Fixed: `# partners/hello/0.1/hello.yaml
apiVersion: tekton.dev/v1
kind: Task
metadata:
  name: hello
  annotations:
    taskgate.dev/skip: "tekton/conventions # generated from upstream; Hub metadata is added at release"
spec:
  steps:
    - name: hello
      image: registry.access.redhat.com/ubi9/ubi-minimal@sha256:95413c8dacaac773421428947a431c1cb099d19b4b1125df77d5d1cd2f463ab8
      script: echo hello
`,
	Run: func(pass *Pass) []Finding {
		s := pass.Submission

		v, ok := skipAnnotation(s)
		if !ok {
			return nil
		}
		at := func(format string, args ...any) Finding {
			return At(s.Manifest, "metadata.annotations["+SkipAnnotation+"]", format, args...)
		}
		e := parseSkip(v)
		var out []Finding
		if e.reason == "" {
			out = append(out, at("%s names rules but gives no reason after `#`, so nothing is skipped", SkipAnnotation))
		}
		if len(e.rules) == 0 {
			out = append(out, at("%s names no rule", SkipAnnotation))
		}
		for _, r := range e.rules {
			switch {
			case r == SkipCheckID:
				out = append(out, at("%s cannot be skipped", SkipCheckID))
			case Lookup(r) == nil:
				out = append(out, at("%s names unknown rule %q (see `taskgate rules`)", SkipAnnotation, r))
			}
		}
		return out
	},
}
