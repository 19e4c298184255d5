package script

import (
	"strings"

	"taskgate.dev/taskgate/pkg/check"
)

// Shebang finds scripts that do not say which interpreter runs them.
var Shebang = &check.Check{
	ID:       "script/shebang",
	Doc:      "a `script` without a `#!` line: Tekton runs it with /bin/sh, which is bash on some images and dash or busybox on others",
	Severity: check.Info,
	Help:     "start the script with the interpreter it is written for: `#!/bin/sh` (POSIX), `#!/bin/bash` (and `set -euo pipefail`), or `#!/usr/bin/env python3`",
	Bad: `apiVersion: tekton.dev/v1
kind: Task
metadata:
  name: hello
spec:
  steps:
    - name: hello
      image: registry.access.redhat.com/ubi9/ubi-minimal@sha256:95413c8dacaac773421428947a431c1cb099d19b4b1125df77d5d1cd2f463ab8
      script: |
        echo hello
`,
	Fixed: `apiVersion: tekton.dev/v1
kind: Task
metadata:
  name: hello
spec:
  steps:
    - name: hello
      image: registry.access.redhat.com/ubi9/ubi-minimal@sha256:95413c8dacaac773421428947a431c1cb099d19b4b1125df77d5d1cd2f463ab8
      script: |
        #!/bin/sh
        echo hello
`,
	Requires: []*check.Input{Parsed},
	Run: func(pass *check.Pass) []check.Finding {
		return forScripts(pass, func(sc *Script) []check.Finding {
			if sc.Shebang || !strings.HasSuffix(sc.Field, ".script") {
				return nil
			}
			if v := Vars(strings.TrimSpace(sc.Text)); len(v) > 0 && v[0][0] == 0 {
				return nil // `script: $(params.SCRIPT)`: the caller's value brings its own first line
			}
			return []check.Finding{sc.At(0, "the script of %s has no shebang: Tekton runs it with /bin/sh, whatever shell that is in the image", sc.Where)}
		})
	},
}
