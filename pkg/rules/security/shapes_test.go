package security

import (
	"strings"
	"testing"

	"taskgate.dev/taskgate/pkg/check"
)

// A partner scan in the shapes real Tasks use credentials in:
// `[[ -z ... || ! -s ... ]]`, `test` with one, two and three words, uses
// inside while, for, case, a subshell and `time`.
// Every use is guarded: no credentials/no-skip finding. Unguard one and
// that use is the finding.
func TestNoSkipShapes(t *testing.T) {
	const script = `#!/bin/bash
        set -euo pipefail
        if [[ -z "${TOKEN:-}" || ! -s /etc/scan/config.json ]]; then
          printf '{"result":"SKIPPED","timestamp":"%s","successes":0,"failures":0,"warnings":0}' "$(date -u +%FT%TZ)" > "$(results.TEST_OUTPUT.path)"
          exit 0
        fi
        [ -n "$TOKEN" ] || exit 0
        test "$TOKEN" != "" || exit 0
        [ "$TOKEN" ] || exit 0
        while read -r repo; do
          curl -sf -H "Authorization: Bearer $TOKEN" "https://scan.example/$repo" >> /tmp/out
        done < /etc/scan/config.json
        for mode in fast slow; do
          case "$mode" in
            fast) curl -sf -H "Authorization: Bearer $TOKEN" https://scan.example/fast ;;
            *) (cd /tmp && curl -sf -H "Authorization: Bearer $TOKEN" https://scan.example/slow) ;;
          esac
        done
        time curl -sf -u "scan:$TOKEN" https://scan.example/report
        printf '{"result":"SUCCESS","timestamp":"%s","successes":1,"failures":0,"warnings":0}' "$(date -u +%FT%TZ)" > "$(results.TEST_OUTPUT.path)"
`
	task := func(script string) string {
		return `apiVersion: tekton.dev/v1
kind: Task
metadata:
  name: x
spec:
  params:
    - name: image-url
  results:
    - name: TEST_OUTPUT
  volumes:
    - name: scan-config
      secret: {secretName: scan-config, optional: true}
  steps:
    - name: scan
      image: ` + pinnedImg + `
      env:
        - name: TOKEN
          valueFrom:
            secretKeyRef: {name: scan-token, key: token, optional: true}
      volumeMounts:
        - {name: scan-config, mountPath: /etc/scan}
      script: |
        ` + script
	}
	if fs := run(NoSkip, handmade(t, task(script), nil)); len(fs) != 0 {
		t.Errorf("every use is guarded:\n%s", dump(fs))
	}
	unguarded := strings.Replace(script, `        if [[ -z`, `        curl -sf -H "Authorization: Bearer $TOKEN" https://scan.example/early
        if [[ -z`, 1)
	fs := run(NoSkip, handmade(t, task(unguarded), nil))
	if len(fs) != 1 || fs[0].Severity != check.Error {
		t.Errorf("one unguarded use, before the first guard: want one error\n%s", dump(fs))
	}
}

// A builder image the script runs (`podman run "$BUILDER"`, the env set
// from a param) is judged at the param's default: unpinned there.
func TestImageRunByScript(t *testing.T) {
	s := handmade(t, `apiVersion: tekton.dev/v1
kind: Task
metadata:
  name: x
spec:
  params:
    - name: BUILDER_IMAGE
      default: quay.io/coreos-assembler/coreos-assembler:latest
  steps:
    - name: build
      image: `+pinnedImg+`
      env:
        - {name: BUILDER, value: $(params.BUILDER_IMAGE)}
      script: |
        #!/bin/sh
        podman run --rm "$BUILDER" build
`, nil)
	fs := run(Unpinned, s)
	if len(fs) != 1 || fs[0].Line != 8 || !strings.Contains(fs[0].Message, "podman run") {
		t.Errorf("want the param default, run by podman, unpinned:\n%s", dump(fs))
	}
}
