package check

import (
	"errors"
	"fmt"
	"runtime"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"taskgate.dev/taskgate/pkg/catalog"
	"taskgate.dev/taskgate/pkg/config"
	"taskgate.dev/taskgate/pkg/manifest"
)

// SkipAnnotation lets a Task skip rules, with a mandatory reason:
// `taskgate.dev/skip: "image/registry # mirrored by the partner's proxy"`.
const SkipAnnotation = "taskgate.dev/skip"

// Status of one check on one submission.
type Status struct {
	Check    string
	Errors   int
	Warnings int
	Infos    int
	Skipped  string // why the check did not run (disabled, skip annotation, waiver, what it needs is absent)
	NotRun   NotRun // the kind of reason ("": it ran to the end)
	// Waiver is the maintainers' waiver the check did not run under; its
	// status is "waived", never "passed".
	Waiver *config.Waiver
}

// SubmissionResult is everything the gate says about one submission.
type SubmissionResult struct {
	ID      string // partners/<task>/<version>
	Name    string
	Version string
	File    string // the manifest, or the expected path when missing
	// Checks is every check's status, in the run's order. A run shares
	// equal statuses between submissions (a catalog's thousands of
	// submissions hold a few hundred distinct ones): never mutate one.
	Checks   []*Status
	Findings []Finding
	// Integration says which build pipelines the submission fits (nil
	// when the integration rules did not run).
	Integration *Integration
}

// Integration is a submission's integration summary: a few lines for
// people, and one verdict per build pipeline considered.
type Integration struct {
	Lines []string `json:"-"`
	Fits  []Fit    `json:"fits"`
}

// Fit is the verdict on one build pipeline.
type Fit struct {
	Pipeline string `json:"pipeline"`
	Fits     bool   `json:"fits"`
	Slot     string `json:"slot,omitempty"`
	Reason   string `json:"reason"`
}

// Errors counts error-level findings.
func (r *SubmissionResult) Errors() int { return count(r.Findings, Error) }

// Result is the gate's verdict over a set of submissions.
type Result struct {
	Checks      []*Check
	Submissions []SubmissionResult
}

// Findings returns every finding in deterministic order.
func (r *Result) Findings() []Finding {
	n := 0
	for _, s := range r.Submissions {
		n += len(s.Findings)
	}
	if n == 0 {
		return nil
	}
	out := make([]Finding, 0, n)
	for _, s := range r.Submissions {
		out = append(out, s.Findings...)
	}
	Sort(out)
	return out
}

// Count counts findings of a severity over all submissions.
func (r *Result) Count(sev Severity) int {
	n := 0
	for _, s := range r.Submissions {
		n += count(s.Findings, sev)
	}
	return n
}

func count(fs []Finding, sev Severity) int {
	n := 0
	for _, f := range fs {
		if f.Severity == sev {
			n++
		}
	}
	return n
}

// Sort orders findings by file, line, column, rule, message.
func Sort(fs []Finding) {
	sort.SliceStable(fs, func(i, j int) bool {
		a, b := fs[i], fs[j]
		switch {
		case a.File != b.File:
			return a.File < b.File
		case a.Line != b.Line:
			return a.Line < b.Line
		case a.Column != b.Column:
			return a.Column < b.Column
		case a.Rule != b.Rule:
			return a.Rule < b.Rule
		}
		return a.Message < b.Message
	})
}

// Settings is a configuration resolved against the registered checks.
type Settings struct {
	disabled map[string]bool
	severity map[string]Severity
	waivers  []*config.Waiver
	Budget   Budget // zero: unbounded
	// Given are the values a run supplies for inputs it cannot compute
	// from the repository (the cluster `taskgate dry-run` connects to);
	// an input without one is computed.
	Given map[*Input]any
	// Memo, when set, keeps verdicts between runs and serves those whose
	// inputs did not change.
	Memo Memo
}

// Budget bounds the time of a run. The checks of one submission get at
// most PerSubmission of wall clock, from when the first of them starts,
// and none runs past Total from the start of the run. A check that cannot
// finish in time is an error naming what was not checked, never a pass.
type Budget struct {
	PerSubmission time.Duration
	Total         time.Duration
}

// DefaultBudget is a backstop, not the promise. The promise (a submission
// judged in under 5 s and 500 MB whatever it holds) is kept by bounding
// the input before each stage (file, alias and script limits, shellcheck
// rlimits), and tests measure it on hostile input. Wall-clock deadlines
// this tight would fail ordinary Tasks on a loaded machine (the example
// catalog took 4 s of wall clock for 0.6 s of CPU at load 22 on 2 cores),
// so a submission's checks get twice the promise, and a run of hundreds of
// submissions still fits a CI step.
var DefaultBudget = Budget{PerSubmission: 10 * time.Second, Total: 10 * time.Minute}

// clock hands out each submission's deadline.
type clock struct {
	share, total time.Duration
	end          time.Time // of the whole run; zero: none
	mu           sync.Mutex
	deadline     map[int]time.Time // by submission, from its first check
	byRun        map[int]bool      // the run's end set the deadline, not the share
}

func newClock(b Budget) *clock {
	c := &clock{share: b.PerSubmission, total: b.Total}
	if b.Total > 0 {
		c.end = time.Now().Add(b.Total)
	}
	return c
}

// of returns a submission's deadline (zero: none), starting its clock:
// its share, and never past the run's end. A share is not shrunk by the
// number of submissions: a large catalog must not fail a heavy Task that
// a small one passes; the run's end bounds the whole.
func (c *clock) of(i int) (time.Time, bool) {
	if c.share == 0 && c.end.IsZero() {
		return time.Time{}, false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.deadline == nil {
		c.deadline, c.byRun = map[int]time.Time{}, map[int]bool{}
	}
	if _, ok := c.deadline[i]; !ok {
		d, byRun := time.Now().Add(c.share), false
		if c.share == 0 || (!c.end.IsZero() && d.After(c.end)) {
			d, byRun = c.end, true
		}
		c.deadline[i], c.byRun[i] = d, byRun
	}
	return c.deadline[i], c.byRun[i]
}

// done forgets a finished submission's deadline.
func (c *clock) done(i int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.deadline, i)
	delete(c.byRun, i)
}

// runWithin runs a check until the submission's deadline. A check past
// it is left to finish unheard: the verdict cannot wait for it.
func (c *clock) runWithin(i int, run func() ([]Finding, notRunBy), chk *Check) (found []Finding, notRun notRunBy) {
	deadline, byRun := c.of(i)
	if deadline.IsZero() {
		return run()
	}
	late := func(what string) ([]Finding, notRunBy) {
		why := fmt.Sprintf("this submission's share (%s) of the gate's time budget", c.share)
		if byRun {
			why = fmt.Sprintf("the run's time budget (%s, shared by every submission)", c.total)
		}
		return []Finding{Finding{Rule: chk.ID, Message: fmt.Sprintf("%s %s %s: the submission is not checked for %s", chk.ID, what, why, chk.Doc),
			Help: "the gate judges a submission in bounded time whatever it holds: make the Task smaller or simpler (fewer, shorter scripts); if an ordinary Task hits this, report it to the taskgate maintainers"}.Unchecked()}, notRunBy{}
	}
	left := time.Until(deadline)
	if left <= 0 {
		return late("was not run: the other checks of the submission used up")
	}
	type result struct {
		found  []Finding
		notRun notRunBy
	}
	done := make(chan result, 1)
	go func() {
		fs, why := run()
		done <- result{fs, why}
	}()
	timer := time.NewTimer(left)
	defer timer.Stop()
	select {
	case r := <-done:
		return r.found, r.notRun
	case <-timer.C:
		return late("did not finish within")
	}
}

// waiverFor returns the waiver in effect for a rule on a submission, or
// nil; an expired waiver is not (config/waiver reports it).
func (set *Settings) waiverFor(s *catalog.Submission, rule string, now time.Time) *config.Waiver {
	for _, w := range set.waivers {
		if w.Rule == rule && w.Covers(s.Layout, s.Name, s.Version) && !w.Expired(now) {
			return w
		}
	}
	return nil
}

// Resolve checks a repository configuration against the checks: naming a
// rule that does not exist is an error (a typo would silently keep a
// rule on, or off).
func Resolve(cfg *config.Config, checks []*Check) (*Settings, error) {
	known := map[string]bool{}
	for _, c := range checks {
		known[c.ID] = true
	}
	s := &Settings{disabled: map[string]bool{}, severity: map[string]Severity{}}
	if cfg == nil {
		return s, nil
	}
	for _, id := range cfg.Disable {
		if !known[id] {
			return nil, fmt.Errorf("%s: disable: unknown rule %q (see `taskgate rules`)", config.FileName, id)
		}
		s.disabled[id] = true
	}
	for id, level := range cfg.Severity {
		if !known[id] {
			return nil, fmt.Errorf("%s: severity: unknown rule %q (see `taskgate rules`)", config.FileName, id)
		}
		if strings.EqualFold(level, "off") {
			s.disabled[id] = true
			continue
		}
		sev, err := ParseSeverity(level)
		if err != nil {
			return nil, fmt.Errorf("%s: severity of %s: %v", config.FileName, id, err)
		}
		s.severity[id] = sev
	}
	for i := range cfg.Waivers {
		w := &cfg.Waivers[i]
		switch {
		case !known[w.Rule]:
			return nil, fmt.Errorf("%s:%d: waivers: unknown rule %q (see `taskgate rules`)", config.FileName, w.Line, w.Rule)
		case strings.HasPrefix(w.Rule, "config/"):
			return nil, fmt.Errorf("%s:%d: waivers: %s judges the configuration and the Tasks' annotations and cannot be waived; waive the rule they are about", config.FileName, w.Line, w.Rule)
		}
		s.waivers = append(s.waivers, w)
	}
	return s, nil
}

// Run runs every check on every submission, in parallel, and returns the
// findings in a deterministic order. A check that panics becomes an
// error finding: a check never silently fails to run.
//
// Submissions only listed (catalog.Repo.List) are streamed: each is
// loaded by the first of its checks to run, and once its last check is
// done its result is kept and its files and inputs are dropped, so memory
// follows the submissions in flight, not the catalog.
func Run(subs []*catalog.Submission, checks []*Check, set *Settings) *Result {
	if set == nil {
		set = &Settings{}
	}
	res := &Result{Checks: checks, Submissions: make([]SubmissionResult, len(subs))}
	r := &run{checks: checks, set: set, now: time.Now(), clock: newClock(set.Budget), shared: &store{}, res: res}
	if set.Memo != nil {
		r.memo = &memoRun{memo: set.Memo}
	}
	jobs := make(chan job)
	var wg sync.WaitGroup
	for w := 0; w < runtime.GOMAXPROCS(0); w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for jb := range jobs {
				r.do(jb)
			}
		}()
	}
	units := make([]*unit, len(subs))
	for i, s := range subs {
		units[i] = &unit{i: i, listed: s}
	}
	for i, u := range units {
		if len(checks) == 0 {
			r.finish(u.open(r))
			continue
		}
		// a few submissions are loaded ahead of their checks, so that
		// inputs batching work across submissions (shellcheck) have it
		// before a check waits for it
		for _, next := range units[i:min(i+lookAhead, len(units))] {
			next.open(r)
		}
		u.left.Store(int32(len(checks)))
		for j := range checks {
			jobs <- job{u, j}
		}
	}
	close(jobs)
	wg.Wait()
	return res
}

// lookAhead is how many submissions are loaded ahead of the checks: ~40
// scripts of the catalog's Tasks, so that shellcheck's batches fill up
// (at 16, a run started 4 times as many shellchecks); memory still
// follows the submissions in flight, not the catalog.
const lookAhead = 64

// run is what the jobs of one Run share.
type run struct {
	checks []*Check
	set    *Settings
	now    time.Time
	clock  *clock
	shared *store // per-run inputs
	res    *Result
	memo   *memoRun // nil: no memo

	mu       sync.Mutex
	statuses map[Status]*Status // every distinct status finished so far
}

// status is the run's one copy of st.
func (r *run) status(st Status) *Status {
	r.mu.Lock()
	defer r.mu.Unlock()
	if p, ok := r.statuses[st]; ok {
		return p
	}
	if r.statuses == nil {
		r.statuses = map[Status]*Status{}
	}
	p := &st
	r.statuses[st] = p
	return p
}

// job is one check on one submission.
type job struct {
	u *unit
	c int
}

// unit is one submission in flight: loaded by its first job, finished
// by its last.
type unit struct {
	i      int
	listed *catalog.Submission
	once   sync.Once
	left   atomic.Int32 // jobs not done

	s       *catalog.Submission // loaded; nil once finished
	inputs  *inputs
	skipped []string
	kinds   []NotRun
	waived  []*config.Waiver
	found   [][]Finding
	notRun  []notRunBy

	key         string          // in the memo; "" when nothing of it is kept
	kept        map[string]bool // checks the memo keeps
	served      []bool          // by check: from the memo, not run
	integration *KeptIntegration
}

// open loads the submission and decides which checks do not run on it.
func (u *unit) open(r *run) *unit {
	u.once.Do(func() {
		s := u.listed.Load()
		u.s, u.inputs = s, &inputs{shared: r.shared, own: &store{}, given: r.set.Given}
		n := len(r.checks)
		u.skipped, u.kinds, u.waived, u.found, u.notRun = make([]string, n), make([]NotRun, n), make([]*config.Waiver, n), make([][]Finding, n), make([]notRunBy, n)
		skips := Skips(s)
		for j, c := range r.checks {
			switch w := r.set.waiverFor(s, c.ID, r.now); {
			case s.Refused && c.ID != manifest.RuleLimits:
				u.skipped[j], u.kinds[j] = s.Dir+" is a symlink, so nothing of it was read ("+manifest.RuleLimits+")", Refused
			case r.set.disabled[c.ID]:
				u.skipped[j], u.kinds[j] = "disabled in "+config.FileName, Disabled
			case w != nil:
				u.waived[j] = w
				u.skipped[j], u.kinds[j] = fmt.Sprintf("waived by %s:%d until %s: %s", config.FileName, w.Line, w.Expires, w.Reason), Waived
			case skips[c.ID] != "" && !Protected(c.ID):
				u.skipped[j], u.kinds[j] = "skipped by "+SkipAnnotation+": "+skips[c.ID], TaskSkipped
			}
		}
		if r.memo != nil {
			u.recall(r)
		}
		var run []*Check
		for j, c := range r.checks {
			if u.skipped[j] == "" && (u.served == nil || !u.served[j]) {
				run = append(run, c)
			}
		}
		u.inputs.announce(s, run)
	})
	return u
}

func (r *run) do(jb job) {
	u := jb.u.open(r)
	if u.skipped[jb.c] == "" && (u.served == nil || !u.served[jb.c]) {
		// a check past its deadline runs on after finish lets go of u
		c, in, s := r.checks[jb.c], u.inputs, u.s
		u.found[jb.c], u.notRun[jb.c] = r.clock.runWithin(u.i, func() ([]Finding, notRunBy) { return runOne(in, s, c) }, c)
	}
	if u.left.Add(-1) == 0 { // the last job: every other one has written its part
		r.finish(u)
	}
}

// finish builds a submission's result and lets go of its files and inputs.
func (r *run) finish(u *unit) {
	s := u.s
	sr := SubmissionResult{ID: s.ID(), Name: s.Name, Version: s.Version, File: s.TaskPath, Checks: make([]*Status, 0, len(r.checks))}
	if s.Manifest != nil {
		sr.File = s.Manifest.Path
	}
	for j, c := range r.checks {
		st := Status{Check: c.ID, Skipped: u.skipped[j], NotRun: u.kinds[j], Waiver: u.waived[j]}
		if nr := u.notRun[j]; nr.reason != "" {
			st.Skipped, st.NotRun = nr.reason, nr.kind
		}
		for _, f := range u.found[j] {
			if f.unchecked && st.NotRun != Unfinished {
				// what went unchecked says why, before any other reason
				st.Skipped, st.NotRun = f.Message, Unfinished
			}
			f = normalize(f, c, s, sr.File, r.set)
			switch f.Severity {
			case Error:
				st.Errors++
			case Warning:
				st.Warnings++
			default:
				st.Infos++
			}
			sr.Findings = append(sr.Findings, f)
		}
		sr.Checks = append(sr.Checks, r.status(st))
	}
	Sort(sr.Findings)
	u.inputs.report(&sr)
	if sr.Integration == nil && u.integration != nil {
		sr.Integration = &Integration{Lines: u.integration.Lines, Fits: u.integration.Fits}
	}
	if u.key != "" {
		u.remember(r, &sr)
	}
	r.res.Submissions[u.i] = sr
	r.clock.done(u.i)
	// only the result stays: a catalog's run holds one per submission
	u.s, u.inputs, u.found = nil, nil, nil
	u.skipped, u.kinds, u.waived, u.notRun, u.served, u.kept, u.integration = nil, nil, nil, nil, nil, nil, nil
}

// notRunBy is what a check said when it did not run (Pass.NotRun).
type notRunBy struct {
	reason string
	kind   NotRun
}

func runOne(in *inputs, s *catalog.Submission, c *Check) (out []Finding, notRun notRunBy) {
	defer func() {
		if r := recover(); r != nil {
			out = []Finding{Finding{Rule: c.ID, Message: fmt.Sprintf("the check crashed on this submission (%v): this is a taskgate bug", r),
				Help: "report it to the taskgate maintainers with this file; the check's verdict is unknown, so the gate fails"}.Unchecked()}
		}
	}()
	deps, err := in.resultOf(c.Requires, s)
	var missing absent
	if errors.As(err, &missing) {
		// what an input lacks is the run's (a cluster): by design
		return nil, notRunBy{missing.reason, NeedsCluster}
	}
	if err != nil {
		return []Finding{Finding{Rule: c.ID, Message: fmt.Sprintf("the check could not run: %v", err),
			Help: "the check's verdict is unknown, so the gate fails; fix what the message names, or report a taskgate bug"}.Unchecked()}, notRunBy{}
	}
	p := &Pass{Repo: s.Repo, Submission: s, ResultOf: deps}
	out = c.Run(p)
	return out, notRunBy{p.notRun, p.notRunKind}
}

// normalize fills in what a check may leave out and applies the
// repository's severity override.
func normalize(f Finding, c *Check, s *catalog.Submission, file string, set *Settings) Finding {
	if f.Rule == "" {
		f.Rule = c.ID
	}
	if f.Help == "" {
		f.Help = c.Help
	}
	if f.File == "" {
		f.File = file
	}
	if f.Line < 1 {
		f.Line, f.Column = 1, 1
	}
	if f.Column < 1 {
		f.Column = 1
	}
	if f.Severity == 0 {
		f.Severity = c.Severity
	}
	if sev, ok := set.severity[c.ID]; ok && !f.unchecked {
		f.Severity = sev
	}
	f.Submission = s.ID()
	return f
}
