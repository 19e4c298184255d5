package main

import (
	"os"
	"runtime/debug"
)

// tuneGC sets the collector for a gate run over n submissions, unless
// GOGC or GOMEMLIMIT say otherwise. Most of what a run allocates is
// garbage within one submission (Tekton's validation compiles regexps per
// field), so a heap allowed to grow to three times what is live (GOGC=200)
// saves the collector passes; a soft limit keeps the peak down: a working
// set of 110 MiB, and 8 KiB per submission for the verdicts each finished
// one keeps for the report (~10 KiB, so that a large catalog is not
// collected over and over against a limit its verdicts fill: a fixed
// limit doubled the CPU of 30 times the catalog). Measured (CPU, peak RSS):
// the 292 catalog Tasks 0.93 s and 113 MiB against 1.02 s and 95 MiB;
// 2920 Tasks 9.3 s and 176 MiB against 10.5 s and 155 MiB; 8760 Tasks
// 32 s and 224 MiB against 30 s and 307 MiB.
func tuneGC(n int) {
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(200)
	}
	if os.Getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(110<<20 + int64(n)*8<<10)
	}
}
