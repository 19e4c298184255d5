package check

import (
	"fmt"
	"sync"

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
}

// Pass is what a check (or an input) runs with: the submission and the
// results of the inputs it requires.
type Pass struct {
	Repo       *catalog.Repo
	Submission *catalog.Submission
	ResultOf   map[*Input]any

	notRun string
}

// NotRun records that the check could not judge the submission (what it
// needs is absent), with the reason: the reports say so, never "passed".
func (p *Pass) NotRun(reason string) { p.notRun = reason }

// inputs computes each input once per key (a submission, or a repository
// for per-run inputs), concurrency-safe; it lives for one run.
type inputs struct {
	mu    sync.Mutex
	m     map[inputKey]*inputEntry
	given map[*Input]any
}

type inputKey struct {
	in  *Input
	key any
}

type inputEntry struct {
	once sync.Once
	val  any
	err  error
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
		out[in] = v
	}
	return out, nil
}

func (c *inputs) get(in *Input, s *catalog.Submission) (any, error) {
	if v, ok := c.given[in]; ok {
		return v, nil
	}
	var key any = s
	if in.PerRun {
		key = s.Repo
	}
	c.mu.Lock()
	if c.m == nil {
		c.m = map[inputKey]*inputEntry{}
	}
	e := c.m[inputKey{in, key}]
	if e == nil {
		e = &inputEntry{}
		c.m[inputKey{in, key}] = e
	}
	c.mu.Unlock()
	e.once.Do(func() {
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

// report lets the inputs computed for a submission add to its result.
func (c *inputs) report(s *catalog.Submission, r *SubmissionResult) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for k, e := range c.m {
		if k.key == any(s) && k.in.Report != nil && e.err == nil {
			k.in.Report(e.val, r)
		}
	}
}

// Apply runs one check on one submission with freshly computed inputs
// (tests, and commands that need one verdict).
func Apply(c *Check, s *catalog.Submission) []Finding {
	out, _ := runOne(&inputs{}, s, c)
	return out
}
