package security

import (
	"strings"
	"testing"

	"taskgate.dev/taskgate/pkg/check"
)

// credTask mounts a secret at /etc/secret, a secret env TOKEN, and an
// optional credential workspace `creds`; the script starts at line 26.
func credTask(script string) string {
	return taskYAML(`workspaces:
  - name: creds
    optional: true
volumes:
  - name: sec
    secret:
      secretName: s
      optional: true
steps:
  - name: use
    image: ` + pinnedImg + `
    volumeMounts:
      - name: sec
        mountPath: /etc/secret
    env:
      - name: TOKEN
        valueFrom:
          secretKeyRef: {name: s, key: token, optional: true}
      - name: BOUND
        value: $(workspaces.creds.bound)
    script: |
` + indent(script, "      "))
}

const scriptLine = 26 // the line of `script: |` in credTask

func TestNoSkipGuards(t *testing.T) {
	for _, c := range []struct {
		name, script string
		line         int    // script line of the first unguarded use, 0 for none
		what         string // the credential reported
	}{
		{"wrapped", "if [ -f /etc/secret/t ]; then\n  cat /etc/secret/t\nfi", 0, ""},
		{"or-exit", "[ -f /etc/secret/t ] || exit 0\ncat /etc/secret/t", 0, ""},
		{"negated exit", "if [ ! -f /etc/secret/t ]; then\n  echo skip\n  exit 0\nfi\ncat /etc/secret/t", 0, ""},
		{"block exit", "test -d /etc/secret || { echo skip; exit 0; }\ncat /etc/secret/t", 0, ""},
		{"else exit", "if [ -s /etc/secret/t ]; then\n  X=1\nelse\n  exit 0\nfi\ncat /etc/secret/t", 0, ""},
		{"env -z", "if [ -z \"${TOKEN:-}\" ]; then exit 0; fi\ncurl -H \"Authorization: $TOKEN\" x", 0, ""},
		{"env [[ -n ]]", "[[ -n \"$TOKEN\" ]] || exit 0\ncurl -u \"$TOKEN\" x", 0, ""},
		{"env && use", "[ -n \"$TOKEN\" ] && curl -u \"$TOKEN\" x", 0, ""},
		{"bound wrapped", "if [ \"$(workspaces.creds.bound)\" = \"true\" ]; then\n  cp $(workspaces.creds.path)/x .\nfi", 0, ""},
		{"bound exit", "if [ \"$(workspaces.creds.bound)\" != \"true\" ]; then exit 0; fi\ncp \"$(workspaces.creds.path)/x\" .", 0, ""},
		{"bound via env", "if [ \"$BOUND\" == true ]; then cp $(workspaces.creds.path)/x .; fi", 0, ""},
		{"alias", "P=/etc/secret/t\nif [ ! -s \"$P\" ]; then exit 0; fi\ncat \"$P\"", 0, ""},
		{"probe", "if grep -q x /etc/secret/t; then cat /etc/secret/t; fi", 0, ""},
		{"function after guard", "f() {\n  cat /etc/secret/t\n}\n[ -f /etc/secret/t ] || exit 0\nf", 0, ""},
		{"quoted heredoc", "cat > run.sh <<'EOF'\ncat /etc/secret/t\nEOF", 0, ""},
		{"directory only", "ls /etc/secret/ || true", 0, ""},
		{"python", "#!/usr/bin/env python3\nprint('no credentials here')", 0, ""},

		{"unguarded", "set -e\necho start\ncat /etc/secret/t", 3, `secret volume "sec"`},
		{"exit 1 is not clean", "[ -f /etc/secret/t ] || exit 1\ncat /etc/secret/t", 2, `secret volume "sec"`},
		{"else after a positive test", "if [ -f /etc/secret/a ]; then\n  cat /etc/secret/a\nelse\n  cat /etc/secret/b\nfi", 4, `secret volume "sec"`},
		{"guard after use", "cat /etc/secret/t\n[ -f /etc/secret/t ] || exit 0", 1, `secret volume "sec"`},
		{"exit in a subshell", "( [ -f /etc/secret/t ] || exit 0 )\ncat /etc/secret/t", 2, `secret volume "sec"`},
		{"exit when present", "if [ -f /etc/secret/t ]; then exit 0; fi\ncat /etc/secret/t", 2, `secret volume "sec"`},
		{"read into a variable", "T=$(cat /etc/secret/t)", 1, `secret volume "sec"`},
		{"env unguarded", "curl -u \"$TOKEN\" x", 1, "env TOKEN"},
		{"workspace unguarded", "echo hi\n  cp \"$(workspaces.creds.path)/x\" .", 2, `workspace "creds"`},
		{"tekton var masked", "echo \"$(params.x)\"; cat /etc/secret/$(params.key)", 1, `secret volume "sec"`},
	} {
		t.Run(c.name, func(t *testing.T) {
			fs := run(NoSkip, handmade(t, credTask(c.script), nil))
			if c.line == 0 {
				if len(fs) > 0 {
					t.Errorf("want no finding:\n%s", dump(fs))
				}
				return
			}
			wantLines(t, fs, check.Error, scriptLine+c.line)
			mustContain(t, fs, c.what)
		})
	}
}

// The column of a finding in a script is the column in the YAML file.
func TestNoSkipColumn(t *testing.T) {
	s := handmade(t, credTask("echo hi\nsha256sum  /etc/secret/t"), nil)
	fs := run(NoSkip, s)
	wantLines(t, fs, check.Error, scriptLine+2)
	line := strings.Split(string(s.Manifest.Data), "\n")[scriptLine+1]
	if want := strings.Index(line, "/etc/secret/t") + 1; fs[0].Column != want {
		t.Errorf("column %d, want %d in %q", fs[0].Column, want, line)
	}
}

// A step without a script cannot skip.
func TestNoSkipArgs(t *testing.T) {
	s := handmade(t, taskYAML(`volumes:
  - name: sec
    secret: {secretName: s, optional: true}
steps:
  - name: use
    image: `+pinnedImg+`
    volumeMounts: [{name: sec, mountPath: /etc/secret}]
    env:
      - name: TOKEN
        valueFrom: {secretKeyRef: {name: s, key: t, optional: true}}
    command: [tool]
    args: ["--config=/etc/secret/config.json", "--token=$(TOKEN)", "--dir=/etc/secret"]
`), nil)
	fs := run(NoSkip, s)
	wantLines(t, fs, check.Error, 17, 17)
	mustContain(t, fs, "env TOKEN", "in its args")
}
