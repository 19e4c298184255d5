package check

import (
	"strings"
	"time"

	"taskgate.dev/taskgate/pkg/catalog"
	"taskgate.dev/taskgate/pkg/config"
)

// SkipCheckID is the rule that judges skip annotations; it cannot be skipped.
const SkipCheckID = "config/skip"

// protectedFamilies are the rule families a Task cannot skip for itself:
// the security rules (what a Task may do in a tenant's build, what it
// runs, fetches and sends, what it takes from the namespace, how it
// runs in the sandbox), who may change what, and the configuration. Only the catalog maintainers waive
// them (.taskgate.yaml `waivers:`, read from the base branch).
var protectedFamilies = []string{"privilege/", "image/", "script/", "secret/", "credentials/", "supply/", "execution/", "workspace/", "resources/", "cluster/", "owners/", "config/"}

// Protected says whether a Task's own skip annotation may not skip a rule.
func Protected(rule string) bool {
	for _, f := range protectedFamilies {
		if strings.HasPrefix(rule, f) {
			return true
		}
	}
	return false
}

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
// without a reason skips nothing, nor does a skip of a protected rule
// (SkipCheck reports both).
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
		if !Protected(r) {
			out[r] = e.reason
		}
	}
	return out
}

func protectedHelp(s *catalog.Submission, rule string) string {
	h := "remove " + rule + " from " + SkipAnnotation + " and fix what it finds"
	if rule == "script/shellcheck" {
		h += " (a `# shellcheck disable=SCnnnn` comment in the script silences one finding, for reviewers to read)"
	}
	return h + "; if the Task truly needs an exception, ask the catalog maintainers for a waiver in " + config.FileName +
		" on the base branch: `waivers: [{task: " + s.Name + ", versions: [\"" + s.Version + "\"], rule: " + rule + ", reason: ..., expires: YYYY-MM-DD}]`"
}

// SkipCheck judges the skip annotation itself.
var SkipCheck = &Check{
	ID:       SkipCheckID,
	Doc:      "a " + SkipAnnotation + " annotation without a reason, naming a rule that does not exist, or a security, owners or config rule (waived only by maintainers)",
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
			case Protected(r) && (Lookup(r) != nil || r == SkipCheckID || r == WaiverCheckID):
				out = append(out, at("%s cannot be skipped by a Task: the security rules (privilege, image, script, secret, credentials, supply, execution, workspace, resources), owners and config are waived only by the catalog maintainers, so %s runs", r, r).
					WithHelp(protectedHelp(s, r)))
			case Lookup(r) == nil:
				out = append(out, at("%s names unknown rule %q (see `taskgate rules`)", SkipAnnotation, r))
			}
		}
		return out
	},
}

// WaiverCheckID is the rule that judges the maintainers' waivers.
const WaiverCheckID = "config/waiver"

// WaiverCheck reports an expired waiver on every submission it names: the
// rule it waived runs again, and the maintainers renew or remove it.
var WaiverCheck = &Check{
	ID:       WaiverCheckID,
	Doc:      "a waiver in " + config.FileName + " that has expired (the rule it waived runs again)",
	Severity: Error,
	Help:     "fix what the rule finds, or ask the catalog maintainers to renew the waiver (a new `expires:` date, reviewed again) in " + config.FileName + " on the base branch",
	Bad: `# .taskgate.yaml (base branch), read on 2026-12-02
waivers:
  - task: buildah-partner
    versions: ["0.1"]
    rule: privilege/privileged
    reason: "builds images in the step until the rootless builder lands"
    expires: 2026-06-30
`,
	Fixed: `# .taskgate.yaml (base branch): renewed after review
waivers:
  - task: buildah-partner
    versions: ["0.1"]
    rule: privilege/privileged
    reason: "builds images in the step until the rootless builder lands (reviewed 2026-11-30)"
    expires: 2027-03-31
`,
	Run: func(pass *Pass) []Finding {
		s := pass.Submission
		if s.Repo == nil || s.Repo.Config == nil {
			return nil
		}
		now := time.Now()
		var out []Finding
		for _, w := range s.Repo.Config.Waivers {
			if w.Covers(s.Layout, s.Name, s.Version) && w.Expired(now) {
				out = append(out, Finding{File: config.FileName, Line: w.Line, Column: 1,
					Message: "the waiver of " + w.Rule + " for " + s.ID() + " expired on " + w.Expires + ", so " + w.Rule + " runs again (reason given: " + w.Reason + ")"})
			}
		}
		return out
	},
	Environment: Clock, // judged against today
}
