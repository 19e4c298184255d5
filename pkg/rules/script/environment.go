package script

import (
	"fmt"
	"os"
	"path/filepath"
)

// shellcheckEnvironment fingerprints the shellcheck the check would run
// (a cache key): absent, or which binary, by path, size and time. A
// verdict kept without shellcheck is not served once it is installed.
func shellcheckEnvironment() (string, bool) {
	p, err := LookShellcheck()
	if err != nil {
		return "absent", true
	}
	if real, err := filepath.EvalSymlinks(p); err == nil {
		p = real
	}
	st, err := os.Stat(p)
	if err != nil {
		return "", false
	}
	return fmt.Sprintf("%s %d %d", p, st.Size(), st.ModTime().UnixNano()), true
}
