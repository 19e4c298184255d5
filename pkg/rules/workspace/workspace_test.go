package workspace

import (
	"strings"
	"testing"

	"taskgate.dev/taskgate/internal/ruletest"
)

func TestExamples(t *testing.T) {
	c := WritesSource
	if c.Doc == "" || c.Help == "" || c.Bad == "" || c.Fixed == "" {
		t.Fatal("Doc, Help, Bad and Fixed are required")
	}
	if fs := ruletest.Of(ruletest.Run(c, ruletest.Sub(t, c.Bad)), c.ID); len(fs) != 1 {
		t.Errorf("Bad:\n%s", ruletest.Dump(fs))
	}
	if fs := ruletest.Of(ruletest.Run(c, ruletest.Sub(t, c.Fixed)), c.ID); len(fs) != 0 {
		t.Errorf("Fixed fires %s:\n%s", c.ID, ruletest.Dump(fs))
	}
}

// check wraps one step (indented by four) in a check Task with a source
// workspace.
func checkTask(ws, step string) string {
	return `apiVersion: tekton.dev/v1
kind: Task
metadata:
  name: x
spec:
  workspaces:
    - name: source
` + ws + `  results:
    - name: TEST_OUTPUT
  steps:
    - name: s
      image: x
` + step
}

func TestWrites(t *testing.T) {
	script := func(lines ...string) string {
		return "      script: |\n        #!/bin/bash\n        " + strings.Join(lines, "\n        ") + "\n"
	}
	for _, tc := range []struct {
		name, ws, step string
		want           int
	}{
		{"append", "", script(`echo x >> "$(workspaces.source.path)/Dockerfile"`), 1},
		{"sed -i", "", script(`sed -i 's/a/b/' $(workspaces.source.path)/Dockerfile`), 1},
		{"cp into", "", script(`cp /tmp/evil $(workspaces.source.path)/bin/tool`), 1},
		{"tee", "", script(`echo x | tee -a $(workspaces.source.path)/go.mod`), 1},
		{"rm", "", script(`rm -rf "$(workspaces.source.path)/tests"`), 1},
		{"shell var", "", script(`SRC=$(workspaces.source.path)/app`, `echo x > "${SRC}/main.go"`), 1},
		{"env var", "", "      env: [{name: SRC, value: $(workspaces.source.path)}]\n" + script(`mv /tmp/x "$SRC/x"`), 1},
		{"relative in workingDir", "", "      workingDir: $(workspaces.source.path)\n" + script(`echo x > out.json`), 1},
		// reading, writing elsewhere, the Task's own directory, read-only
		{"reads", "", script(`cat $(workspaces.source.path)/Dockerfile > /tmp/d`, `cp $(workspaces.source.path)/a /tmp/a`), 0},
		{"sed without -i", "", script(`sed 's/a/b/' $(workspaces.source.path)/Dockerfile > /tmp/x`), 0},
		{"own dir", "", "      workingDir: $(workspaces.source.path)/hacbs/$(context.task.name)\n" + script(`echo x > out.json`), 0},
		{"results", "", "      workingDir: $(workspaces.source.path)\n" + script(`echo x > "$(results.TEST_OUTPUT.path)"`, `curl -s https://x > >(head -1)`), 0},
		{"read-only", "      readOnly: true\n", script(`echo x >> "$(workspaces.source.path)/Dockerfile"`), 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fs := ruletest.Of(ruletest.Run(WritesSource, ruletest.Sub(t, checkTask(tc.ws, tc.step))), WritesSource.ID)
			if len(fs) != tc.want {
				t.Errorf("%d findings, want %d:\n%s", len(fs), tc.want, ruletest.Dump(fs))
			}
		})
	}
	// a builder (no TEST_OUTPUT) writes its workspace by design
	builder := strings.Replace(checkTask("", script(`echo x > $(workspaces.source.path)/out`)), "  results:\n    - name: TEST_OUTPUT\n", "", 1)
	if fs := ruletest.Of(ruletest.Run(WritesSource, ruletest.Sub(t, builder)), WritesSource.ID); len(fs) != 0 {
		t.Errorf("builder:\n%s", ruletest.Dump(fs))
	}
}
