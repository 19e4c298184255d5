package check

// NotRun says why a check did not run, or did not finish, on a
// submission: every report names it, and never calls such a check passed.
type NotRun string

// Why a check did not run. Status.Skipped says it in a sentence.
const (
	// Disabled: switched off in .taskgate.yaml (disable:, severity: off),
	// or left out by the command as invoked (Pass.Disabled).
	Disabled NotRun = "disabled"
	// Waived: the maintainers' waiver (Status.Waiver says which).
	Waived NotRun = "waived"
	// TaskSkipped: the Task's own taskgate.dev/skip annotation, with its reason.
	TaskSkipped NotRun = "skipped"
	// Unavailable: what the check needs is absent (a tool such as
	// shellcheck, the build pipelines, a cluster): Pass.NotRun.
	Unavailable NotRun = "unavailable"
	// NeedsCluster: the check judges what a cluster says, and this
	// command connects to none (taskgate dry-run does): by design, not a
	// gap in this run (Pass.NeedsCluster).
	NeedsCluster NotRun = "needs-cluster"
	// Refused: the submission was not read (a symlinked directory).
	Refused NotRun = "refused"
	// Unfinished: the check ran out of its time budget, crashed, or left
	// part of its input unchecked (Finding.Unchecked): an error, the gate fails.
	Unfinished NotRun = "unfinished"
)

// Ran says whether the check ran to the end on the submission: only then
// may a report call it passed. A status with a reason but no kind (made
// by hand) did not run either.
func (s Status) Ran() bool { return s.NotRun == "" && s.Skipped == "" }

// Outcome is the check's verdict in one word: "passed", "failed" (an
// error finding) or "not-run" (Status.NotRun and Skipped say why).
func (s Status) Outcome() string {
	switch {
	case !s.Ran():
		return "not-run"
	case s.Errors > 0:
		return "failed"
	}
	return "passed"
}
