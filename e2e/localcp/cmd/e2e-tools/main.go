// Command e2e-tools builds (or finds cached) every binary the e2e suite
// runs, so that `make e2e` spends its test timeout on tests, not builds.
// It first checks what the cluster needs of the machine (root, Debian's
// packages), so a missing package fails before a long build, not after.
package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sort"

	"taskgate.dev/taskgate/e2e/localcp"
)

func main() {
	toolsDir := "e2e/tools"
	if len(os.Args) > 1 {
		toolsDir = os.Args[1]
	}
	if err := localcp.Prerequisites(); err != nil {
		fmt.Fprintln(os.Stderr, "e2e-tools:", err)
		os.Exit(1)
	}
	bins, err := localcp.Binaries(context.Background(), toolsDir, os.Stderr)
	if err != nil {
		fmt.Fprintln(os.Stderr, "e2e-tools:", err)
		os.Exit(1)
	}
	names := make([]string, 0, len(bins))
	for n := range bins {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Println(filepath.Clean(bins[n]))
	}
}
