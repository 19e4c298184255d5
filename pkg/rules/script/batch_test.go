package script

import (
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"taskgate.dev/taskgate/pkg/catalog"
	"taskgate.dev/taskgate/pkg/check"
)

// logShellcheck puts a wrapper in front of the real shellcheck that
// records how many scripts each run gets and fails a run holding a script
// with BOOM in it; it returns a function that reads the record.
func logShellcheck(t *testing.T) func() []int {
	t.Helper()
	needShellcheck(t)
	real, _ := LookShellcheck()
	dir := t.TempDir()
	runs, wrapper := filepath.Join(dir, "runs"), filepath.Join(dir, "shellcheck")
	if err := os.WriteFile(wrapper, fmt.Appendf(nil, `#!/bin/sh
n=0
for a in "$@"; do case $a in *.sh) n=$((n+1));; esac; done
echo $n >> %q
if grep -q BOOM -- *.sh; then echo 'shellcheck: BOOM' >&2; exit 3; fi
exec %q "$@"
`, runs, real), 0o755); err != nil {
		t.Fatal(err)
	}
	look := LookShellcheck
	t.Cleanup(func() { LookShellcheck = look })
	LookShellcheck = func() (string, error) { return wrapper, nil }
	return func() []int {
		data, _ := os.ReadFile(runs)
		var out []int
		for _, f := range strings.Fields(string(data)) {
			n, _ := strconv.Atoi(f)
			out = append(out, n)
		}
		os.Remove(runs)
		return out
	}
}

// batchSubs are submissions whose scripts repeat across them, in two
// dialects: 3 distinct bash scripts and 5 distinct sh ones.
func batchSubs(t *testing.T, extra ...string) []*catalog.Submission {
	var subs []*catalog.Submission
	for i := range 4 {
		subs = append(subs, sub(t, task+fmt.Sprintf(`      script: |
        #!/bin/bash
        cd /tmp; echo $(ls)
    - name: own
      image: x
      script: |
        echo $%d; [[ -f x ]]
    - name: shared
      image: x
      command: [bash, -c, "echo $%d"]
`, i, i%2)))
	}
	subs = append(subs, sub(t, task+"      script: echo $x\n"))
	for _, s := range extra {
		subs = append(subs, sub(t, task+"      script: "+s+"\n"))
	}
	return subs
}

// each submission's findings, as strings
func findingsOf(res *check.Result) [][]string {
	var out [][]string
	for _, s := range res.Submissions {
		var fs []string
		for _, f := range s.Findings {
			fs = append(fs, f.String())
		}
		out = append(out, fs)
	}
	return out
}

// alone runs script/shellcheck on each submission in a run of its own
// (the way it ran before batching).
func alone(subs []*catalog.Submission) [][]string {
	var out [][]string
	for _, s := range subs {
		out = append(out, findingsOf(check.Run([]*catalog.Submission{s}, []*check.Check{Shellcheck}, nil))...)
	}
	return out
}

// One run checks every distinct script once, many per shellcheck process
// (one per dialect here), with the findings each submission gets alone.
func TestShellcheckBatches(t *testing.T) {
	runs := logShellcheck(t)
	subs := batchSubs(t)
	want := alone(subs)
	if n := len(runs()); n < len(subs) {
		t.Fatalf("alone: %d shellcheck runs for %d submissions", n, len(subs))
	}
	got := findingsOf(check.Run(subs, []*check.Check{Shellcheck}, nil))
	if !reflect.DeepEqual(got, want) {
		t.Errorf("batched findings differ from each submission's alone:\n%q\nwant\n%q", got, want)
	}
	if r := runs(); len(r) != 2 || r[0]+r[1] != 8 {
		t.Errorf("shellcheck runs (scripts each) = %v, want one run per dialect and each of the 8 distinct scripts once", r)
	}

	// batches are bounded: 3 scripts at most per run
	defer func(n int) { maxBatch = n }(maxBatch)
	maxBatch = 3
	if got := findingsOf(check.Run(subs, []*check.Check{Shellcheck}, nil)); !reflect.DeepEqual(got, want) {
		t.Errorf("in batches of 3: findings differ:\n%q\nwant\n%q", got, want)
	}
	r, total := runs(), 0
	for _, n := range r {
		total += n
		if n > 3 {
			t.Errorf("a run of %d scripts", n)
		}
	}
	if total != 8 || len(r) != 3 { // bash: 3; sh: 3 + 2
		t.Errorf("in batches of 3: runs %v, want 3 runs of the 8 scripts", r)
	}
}

// A batch shellcheck fails on is not a pass for any of its scripts: each
// is checked alone, and only the one that fails alone is unchecked.
func TestShellcheckBatchFails(t *testing.T) {
	runs := logShellcheck(t)
	subs := batchSubs(t, "echo BOOM")
	want := alone(subs[:len(subs)-1])
	runs()
	got := findingsOf(check.Run(subs, []*check.Check{Shellcheck}, nil))
	if !reflect.DeepEqual(got[:len(got)-1], want) {
		t.Errorf("the other submissions' findings:\n%q\nwant\n%q", got[:len(got)-1], want)
	}
	if boom := got[len(got)-1]; len(boom) != 1 || !strings.Contains(boom[0], "error script/shellcheck: shellcheck could not check") || !strings.Contains(boom[0], "shellcheck: BOOM") {
		t.Errorf("the script shellcheck fails on: %q", boom)
	}
	// the sh batch (6 scripts) fails, then each of them runs alone
	r := runs()
	ones := 0
	for _, n := range r {
		if n == 1 {
			ones++
		}
	}
	if len(r) != 2+6 || ones != 6 {
		t.Errorf("shellcheck runs (scripts each) = %v, want the two batches and each script of the failed one alone", r)
	}
}

// A run of many more submissions than are loaded ahead still starts few
// shellchecks: while a batch runs, the scripts announced meanwhile wait
// for it and go together, not one shellcheck per check.
func TestShellcheckBatchesFill(t *testing.T) {
	runs := logShellcheck(t)
	var subs []*catalog.Submission
	for i := range 300 {
		subs = append(subs, sub(t, task+fmt.Sprintf("      script: echo \"$%d\" %d\n", i%10, i)))
	}
	res := check.Run(subs, []*check.Check{Shellcheck}, nil)
	for i, fs := range findingsOf(res) {
		if len(fs) != 0 {
			t.Fatalf("submission %d: %q", i, fs)
		}
	}
	r, total := runs(), 0
	for _, n := range r {
		total += n
	}
	// submissions are loaded 64 ahead: a batch of what is announced when
	// a check first asks, then of what came while it ran (a shellcheck
	// per check's batch of ≤32 scripts started 15; starting the scripts
	// waiting at each batch's end, 9)
	if total != 300 || len(r) > 6 {
		t.Errorf("%d shellcheck runs (scripts each: %v) for 300 distinct scripts, want each once, in at most 6 runs", len(r), r)
	}
}
