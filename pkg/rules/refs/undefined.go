package refs

import (
	"fmt"
	"regexp"
	"sort"
	"strings"

	"taskgate.dev/taskgate/pkg/check"
	"taskgate.dev/taskgate/pkg/manifest"
)

// validatedByTekton are the fields whose param references Tekton's own
// validation already judges (tekton/schema reports them).
var validatedByTekton = regexp.MustCompile(`^spec(\.(steps|stepTemplate)(\[\d+\])?)?\.(image|command\[\d+\]|args\[\d+\]|script|workingDir|env\[\d+\]\.value)$`)

// paramDefault: Tekton substitutes nothing in a param's default; a
// reference there is a hint to pipeline authors, not one a TaskRun resolves.
var paramDefault = regexp.MustCompile(`^spec\.params\[\d+\]\.default`)

// declared lists the names a manifest declares under spec.<list>.
func declared(m *manifest.File, list string) map[string]bool {
	out := map[string]bool{}
	seq := value(value(m.Root, "spec"), list)
	if seq == nil {
		return out
	}
	for _, n := range seq.Content {
		if name := value(n, "name"); name != nil {
			out[name.Value] = true
		}
	}
	return out
}

func judged(m *manifest.File) bool {
	return m != nil && m.Root != nil && (m.Kind == "Task" || m.Kind == "StepAction")
}

// Undefined finds references to params, results and workspaces the Task
// does not declare.
var Undefined = &check.Check{
	ID:       "tekton/undefined-ref",
	Doc:      "a `$(params.*)`, `$(results.*)` or `$(workspaces.*)` reference in any field (secretKeyRef names, volumes, sidecars, workingDir…) names nothing the Task declares",
	Severity: check.Error,
	Help:     "declare it (under spec.params, spec.results or spec.workspaces) or fix the name; Tekton leaves an unknown reference as literal text, so the secret, volume or path it names does not exist and the TaskRun fails",
	Bad: `apiVersion: tekton.dev/v1
kind: Task
metadata:
  name: push
spec:
  params:
    - name: secret
  steps:
    - name: push
      image: ` + image + `
      env:
        - name: TOKEN
          valueFrom:
            secretKeyRef:
              name: $(params.token-secret)
              key: token
              optional: true
      script: echo push
`,
	Fixed: `apiVersion: tekton.dev/v1
kind: Task
metadata:
  name: push
spec:
  params:
    - name: secret
  steps:
    - name: push
      image: ` + image + `
      env:
        - name: TOKEN
          valueFrom:
            secretKeyRef:
              name: $(params.secret)
              key: token
              optional: true
      script: echo push
`,
	Run: func(pass *check.Pass) []check.Finding {
		m := pass.Submission.Manifest
		if !judged(m) {
			return nil
		}
		decl := map[string]map[string]bool{"params": declared(m, "params"), "results": declared(m, "results"), "workspaces": declared(m, "workspaces")}
		var out []check.Finding
		for _, r := range references(m) {
			if decl[r.kind][r.name] || (r.kind == "params" && validatedByTekton.MatchString(r.path)) || paramDefault.MatchString(r.path) {
				continue
			}
			if r.kind == "workspaces" && m.Kind == "StepAction" {
				continue // a StepAction sees the workspaces of the Task that runs it
			}
			f := check.AtNode(m.Path, r.node, "$(%s.%s) names %s %q, which the %s does not declare (%s)", r.kind, r.name, strings.TrimSuffix(r.kind, "s"), r.name, m.Kind, known(decl[r.kind], r.kind))
			f.Line, f.Column = r.pos()
			out = append(out, f)
		}
		return out
	},
}

func known(names map[string]bool, kind string) string {
	if len(names) == 0 {
		return "it declares no " + kind
	}
	var l []string
	for n := range names {
		l = append(l, n)
	}
	sort.Strings(l)
	return fmt.Sprintf("%s: %s", kind, strings.Join(l, ", "))
}
