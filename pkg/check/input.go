package check

import (
	"fmt"
	"sync"
	"sync/atomic"

	"taskgate.dev/taskgate/pkg/catalog"
)

// Input is something several checks read: computed once by the driver
// and handed to every check that Requires it through Pass.ResultOf, the
// way golang.org/x/tools/go/analysis passes an analyzer's result to the
// analyzers that require it.
type Input struct {
	Name string // for messages: "build pipelines", "integration analysis"
	// PerRun inputs are computed once per run and repository (Pass has no
	// Submission then); the others once per submission.
	PerRun   bool
	Requires []*Input
	Compute  func(*Pass) (any, error)
	// Report, when set, adds what the input found to the submission's
	// result (the integration summary).
	Report func(value any, r *SubmissionResult)
	// Digest fingerprints a per-run input's value: everything in it the
	// checks can see. A check that requires a per-run input without one
	// is never served from a memo.
	Digest func(value any) string
	// Absent, when set, says why a check cannot run without the input's
	// value (a cluster only the run can give): the checks requiring it
	// are not run, with that reason, and their later inputs are never
	// computed.
	Absent func(value any) string
	// Announce, on a per-run input, is shown each submission of the run
	// that a check requiring the input will judge, when the submission is
	// loaded, ahead of its checks: an input that batches work for an
	// external tool (shellcheck) collects it before a check waits for it.
	// The pass holds the submission and the results of AnnounceRequires
	// (per-submission inputs, computed once as for the checks). It must
	// not block.
	Announce         func(value any, p *Pass)
	AnnounceRequires []*Input
}

// absent is why a check's required input has no value.
type absent struct{ reason string }

func (a absent) Error() string { return a.reason }

// Pass is what a check (or an input) runs with: the submission and the
// results of the inputs it requires.
type Pass struct {
	Repo       *catalog.Repo
	Submission *catalog.Submission
	ResultOf   map[*Input]any

	notRun     string
	notRunKind NotRun
}

// NotRun records that the check could not judge the submission (what it
// needs is absent), with the reason: the reports say so, never "passed".
func (p *Pass) NotRun(reason string) { p.notRun, p.notRunKind = reason, Unavailable }

// Disabled records that the command, as invoked, leaves the check out
// (`taskgate dry-run` runs a Task only with --run): a choice, like a rule
// disabled in .taskgate.yaml, not a gap in the run.
func (p *Pass) Disabled(reason string) { p.notRun, p.notRunKind = reason, Disabled }

// NeedsCluster records that the check did not run because this command
// connects to no cluster; command is the one that runs it ("taskgate
// dry-run"). Reports say so without calling the run incomplete.
func (p *Pass) NeedsCluster(command string) {
	p.notRun, p.notRunKind = "needs a cluster ("+command+")", NeedsCluster
}

// inputs computes each input once: the per-run ones in a store the whole
// run shares (by repository), the others in the submission's own store,
// dropped with it.
type inputs struct {
	shared, own *store
	given       map[*Input]any // supplied by the run (Settings.Given)
}

// store holds computed inputs, concurrency-safe.
type store struct {
	mu    sync.Mutex
	m     map[inputKey]*inputEntry
	order []inputKey // first use first: report in a stable order
}

type inputKey struct {
	in   *Input
	repo *catalog.Repo // per-run inputs only
}

type inputEntry struct {
	once sync.Once
	done atomic.Bool // val and err are written (a check past its deadline may still be computing)
	val  any
	err  error
}

func (st *store) entry(k inputKey) *inputEntry {
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.m == nil {
		st.m = map[inputKey]*inputEntry{}
	}
	e := st.m[k]
	if e == nil {
		e = &inputEntry{}
		st.m[k] = e
		st.order = append(st.order, k)
	}
	return e
}

// resultOf computes what a check or input requires for a submission,
// dependencies first. The error names the first input that failed.
func (c *inputs) resultOf(reqs []*Input, s *catalog.Submission) (map[*Input]any, error) {
	out := map[*Input]any{}
	for _, in := range reqs {
		v, err := c.get(in, s)
		if err != nil {
			return out, err
		}
		if in.Absent != nil {
			if why := in.Absent(v); why != "" {
				return out, absent{why}
			}
		}
		out[in] = v
	}
	return out, nil
}

func (c *inputs) get(in *Input, s *catalog.Submission) (any, error) {
	if v, ok := c.given[in]; ok {
		return v, nil
	}
	var e *inputEntry
	if in.PerRun {
		e = c.shared.entry(inputKey{in, s.Repo})
	} else {
		e = c.own.entry(inputKey{in: in})
	}
	e.once.Do(func() {
		defer e.done.Store(true)
		defer func() {
			if r := recover(); r != nil {
				e.err = fmt.Errorf("computing the %s crashed (%v): this is a taskgate bug", in.Name, r)
			}
		}()
		deps, err := c.resultOf(in.Requires, s)
		if err != nil {
			e.err = err
			return
		}
		p := &Pass{Repo: s.Repo, ResultOf: deps}
		if !in.PerRun {
			p.Submission = s
		}
		e.val, e.err = in.Compute(p)
		if e.err != nil {
			e.err = fmt.Errorf("%s: %w", in.Name, e.err)
		}
	})
	return e.val, e.err
}

// announce shows a submission to the per-run inputs with Announce that
// the checks about to run on it require, directly or through an input.
// What fails here is not reported: the checks compute the same inputs
// and report their failure.
func (c *inputs) announce(s *catalog.Submission, checks []*Check) {
	seen := map[*Input]bool{}
	var walk func([]*Input)
	walk = func(ins []*Input) {
		for _, in := range ins {
			if seen[in] {
				continue
			}
			seen[in] = true
			walk(in.Requires)
			if !in.PerRun || in.Announce == nil {
				continue
			}
			v, err := c.get(in, s)
			if err != nil {
				continue
			}
			deps, err := c.resultOf(in.AnnounceRequires, s)
			if err != nil {
				continue
			}
			func() {
				defer func() { _ = recover() }() // the check that needs it reports the crash
				in.Announce(v, &Pass{Repo: s.Repo, Submission: s, ResultOf: deps})
			}()
		}
	}
	for _, chk := range checks {
		walk(chk.Requires)
	}
}

// report lets the inputs computed for the submission add to its result.
func (c *inputs) report(r *SubmissionResult) {
	c.own.mu.Lock()
	defer c.own.mu.Unlock()
	for _, k := range c.own.order {
		if e := c.own.m[k]; k.in.Report != nil && e.done.Load() && e.err == nil {
			k.in.Report(e.val, r)
		}
	}
}

// Apply runs one check on one submission with freshly computed inputs
// (tests, and commands that need one verdict).
func Apply(c *Check, s *catalog.Submission) []Finding {
	out, _ := runOne(&inputs{shared: &store{}, own: &store{}}, s, c)
	return out
}
