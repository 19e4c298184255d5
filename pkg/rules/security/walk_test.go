package security

import (
	"strings"
	"testing"

	"taskgate.dev/taskgate/pkg/check"
)

func stepAction(name, spec string) string {
	return "apiVersion: tekton.dev/v1beta1\nkind: StepAction\nmetadata:\n  name: " + name + "\nspec:\n" + indent(spec, "  ")
}

// A step's ref to a StepAction of the repository is resolved and judged
// as Tekton runs it: the StepAction's securityContext with the Task's
// stepTemplate merged in.
func TestStepActionResolved(t *testing.T) {
	task := taskYAML(`stepTemplate:
  securityContext:
    runAsUser: 0
steps:
  - name: scan
    ref:
      name: scanner
`)
	sa := stepAction("scanner", `image: `+pinnedImg+`
securityContext:
  privileged: true
script: echo hi
`)
	s := handmade(t, task, map[string]string{"stepactions/scanner/0.1/scanner.yaml": sa})
	fs := run(Privileged, s)
	wantLines(t, fs, check.Error, 8)
	if fs[0].File != "stepactions/scanner/0.1/scanner.yaml" {
		t.Errorf("want the finding in the StepAction's file: %s", fs[0])
	}
	mustContain(t, fs, `step "scan" (StepAction scanner)`)
	fs = run(Root, s)
	wantLines(t, fs, check.Error, 8)
	mustContain(t, fs, "stepTemplate", `inherited by step "scan" (StepAction scanner)`)
	if fs[0].File != "partners/x/0.1/x.yaml" {
		t.Errorf("want the finding at the Task's stepTemplate: %s", fs[0])
	}
}

// A StepAction shipped with the submission wins over others of that name.
func TestStepActionLocalFirst(t *testing.T) {
	task := taskYAML(`steps:
  - name: scan
    ref:
      name: scanner
`)
	good := stepAction("scanner", "image: "+pinnedImg+"\n")
	bad := stepAction("scanner", "image: quay.io/org/scanner:latest\n")
	s := handmade(t, task, map[string]string{"partners/x/0.1/scanner.yaml": good, "stepactions/scanner/0.1/scanner.yaml": bad})
	if fs := run(Unpinned, s); len(fs) > 0 {
		t.Errorf("the submission's own StepAction is pinned:\n%s", dump(fs))
	}
	s = handmade(t, task, map[string]string{"other/a.yaml": good, "stepactions/scanner/0.1/scanner.yaml": bad})
	fs := run(Unpinned, s)
	wantLines(t, fs, check.Error, 6)
	if fs[0].File != "stepactions/scanner/0.1/scanner.yaml" {
		t.Errorf("every StepAction of that name is judged: %s", fs[0])
	}
}

// A StepAction submitted on its own is a container too.
func TestStepActionSubmission(t *testing.T) {
	s := handmade(t, stepAction("x", `image: quay.io/org/tool:1.0
securityContext:
  runAsNonRoot: false
`), nil)
	wantLines(t, run(Root, s), check.Error, 8)
	wantLines(t, run(Unpinned, s), check.Error, 6)
	wantLines(t, run(Escalation, s), check.Warning, 7)
}

// Inputs the rules cannot read give no crash and no silent pass.
func TestBadInput(t *testing.T) {
	// a script that does not parse: the gate says it cannot verify it
	s := handmade(t, credTask("if [ -f /etc/secret/t ]; then\ncat /etc/secret/t"), nil)
	fs := run(NoSkip, s)
	wantLines(t, fs, check.Warning, scriptLine+1)
	mustContain(t, fs, "does not parse")
	// a manifest that did not decode is tekton/schema's to report
	s = handmadeAny(t, taskYAML("steps: 3\n"), nil)
	if s.Manifest.Task != nil {
		t.Fatal("steps: 3 decoded")
	}
	for _, c := range Checks {
		if fs := run(c, s); len(fs) > 0 {
			t.Errorf("%s on an undecoded Task:\n%s", c.ID, dump(fs))
		}
	}
	// odd but decodable shapes: no check may crash on them
	for _, spec := range []string{
		"steps:\n  - name: a\n    script: \"\"\n",
		"steps:\n  - name: a\n    ref: {}\n",
		"stepTemplate: {}\nsidecars:\n  - {}\nvolumes:\n  - name: v\n    projected: {sources: [{}]}\n",
		"steps:\n  - name: a\n    image: $(params.a)\n    script: \"#!\"\nparams:\n  - name: a\n    type: array\n    default: [x]\n",
	} {
		s = handmadeAny(t, taskYAML(spec), nil)
		for _, c := range Checks {
			for _, f := range run(c, s) {
				if strings.Contains(f.Message, "crashed") {
					t.Errorf("%s on %q: %s", c.ID, spec, f)
				}
			}
		}
	}
}
