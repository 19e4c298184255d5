// Package gate defines one run of the gate, used by every command: a
// repository, optionally a change to it, and the options of the run give
// the submissions to judge and, once run, the verdict.
package gate

import (
	"fmt"
	"strings"

	"taskgate.dev/taskgate/pkg/cache"
	"taskgate.dev/taskgate/pkg/catalog"
	"taskgate.dev/taskgate/pkg/check"
	"taskgate.dev/taskgate/pkg/cluster"
	_ "taskgate.dev/taskgate/pkg/rules" // registers every check
	"taskgate.dev/taskgate/pkg/rules/owners"
	"taskgate.dev/taskgate/pkg/rules/revoke"
)

// Options say what a run judges.
type Options struct {
	Root         string // the catalog repository
	PipelinesDir string // the build pipelines (default: Root/pipelines)
	// ChangedFrom limits the run to what the change since the merge base
	// with this revision touches (plus uncommitted and untracked files).
	ChangedFrom string
	// ConfigFromBase reads .taskgate.yaml as of the merge base: a pull
	// request cannot switch rules off for itself. Needs ChangedFrom.
	ConfigFromBase bool
	Author         string // the pull request's author (needs ChangedFrom)
	Maintainers    string // logins, or a maintainers file (see owners.LoadMaintainers)
	// Event is what the run judges in a pipeline: EventPullRequest needs
	// the author (an empty or malformed one fails owners closed, never
	// skips them); EventPush is merged work, with no author to judge.
	// Empty: a run by hand, owners judged when Author is given.
	Event string
	// Rules, when set, are the only rules the run judges (`taskgate
	// dry-run`: cluster.Rules); the versions the change deletes and the
	// rest of the change get those of their rules listed.
	Rules []string
	// Cluster is what the cluster rules run against; without one they
	// are not run, and say so.
	Cluster *cluster.Target
	// Cache is a directory keeping verdicts between runs (pkg/cache):
	// a submission whose inputs did not change is not checked again.
	Cache string
}

// The events of Options.Event.
const (
	EventPullRequest = "pull_request"
	EventPush        = "push"
)

// Plan is a run before its checks: what will be judged, and how.
type Plan struct {
	Repo     *catalog.Repo
	Change   *catalog.Change // nil without ChangedFrom
	Checks   []*check.Check
	Settings *check.Settings
	// Submissions are the Task versions to check, listed and not read
	// (Run streams them through the checks; Load reads one); Deleted the
	// versions the change removes (only whether they are still used is
	// judged); Rest the changed files outside any submission (owners
	// only), or nil.
	Submissions []*catalog.Submission
	Deleted     []*catalog.Submission
	Rest        *catalog.Submission
	// Note says why there is nothing to judge, when there is not.
	Note string
}

// Prepare opens the repository and works out what a run judges. An error
// is bad usage or unreadable input, not a finding.
func Prepare(o Options) (*Plan, error) {
	switch o.Event {
	case "", EventPush:
	case EventPullRequest:
		if o.ChangedFrom == "" {
			return nil, fmt.Errorf("--event %s needs --changed-from REV (the pull request's base)", o.Event)
		}
	default:
		return nil, fmt.Errorf("--event %q: want %s or %s", o.Event, EventPullRequest, EventPush)
	}
	if o.ChangedFrom == "" {
		switch {
		case o.ConfigFromBase:
			return nil, fmt.Errorf("--config-from-base needs --changed-from REV")
		case o.Author != "":
			return nil, fmt.Errorf("--author needs --changed-from REV (who may change what depends on what the change touches)")
		}
	}
	if o.Root == "" {
		o.Root = "."
	}
	var opts []catalog.Option
	if o.ConfigFromBase { // the working tree's .taskgate.yaml is never opened
		opts = append(opts, catalog.ConfigAt(o.ChangedFrom))
	}
	repo, err := catalog.Open(o.Root, opts...)
	if err != nil {
		return nil, err
	}
	repo.PipelinesDir = o.PipelinesDir
	checks, err := only(o.Rules)
	if err != nil {
		return nil, err
	}
	p := &Plan{Repo: repo, Checks: checks}
	if p.Submissions, err = repo.List(); err != nil {
		return nil, err
	}
	if o.ChangedFrom != "" {
		if err := p.applyChange(o); err != nil {
			return nil, err
		}
	} else if len(p.Submissions) == 0 {
		p.Note = fmt.Sprintf("no submission found under %s (looked for %s/<task>/<version>/)", o.Root, strings.Join(catalog.Layouts, "/, "))
	}
	// the configuration may name any registered rule, not only those run
	if p.Settings, err = check.Resolve(repo.Config, check.All()); err != nil {
		return nil, err
	}
	p.Settings.Budget = check.DefaultBudget
	if o.Cluster != nil {
		p.Settings.Given = map[*check.Input]any{cluster.Connection: o.Cluster}
		// a cluster check waits for the API server and the run's pods: it
		// is bounded by its own deadline (the run's timeout), not by the
		// seconds an in-process check gets
		p.Settings.Budget = check.Budget{}
	}
	if o.Cache != "" {
		if p.Settings.Memo, err = cache.Open(o.Cache); err != nil {
			return nil, err
		}
	}
	return p, nil
}

// only returns the registered checks with the given ids (every one when
// none is given); an unknown id is an error.
func only(ids []string) ([]*check.Check, error) {
	if len(ids) == 0 {
		return check.All(), nil
	}
	var out []*check.Check
	for _, id := range ids {
		c := check.Lookup(id)
		if c == nil {
			return nil, fmt.Errorf("unknown rule %q (see `taskgate rules`)", id)
		}
		out = append(out, c)
	}
	return out, nil
}

// selected keeps the checks of cs the plan runs.
func (p *Plan) selected(cs ...*check.Check) []*check.Check {
	var out []*check.Check
	for _, c := range cs {
		for _, pc := range p.Checks {
			if pc == c {
				out = append(out, c)
				break
			}
		}
	}
	return out
}

// For plans a run over given submissions of an open repository, with its
// configuration (bundle gates the one Task it builds).
func For(repo *catalog.Repo, subs ...*catalog.Submission) (*Plan, error) {
	p := &Plan{Repo: repo, Checks: check.All(), Submissions: subs}
	var err error
	if p.Settings, err = check.Resolve(repo.Config, p.Checks); err != nil {
		return nil, err
	}
	p.Settings.Budget = check.DefaultBudget
	return p, nil
}

func (p *Plan) applyChange(o Options) error {
	repo := p.Repo
	change, err := repo.ChangedFrom(o.ChangedFrom)
	if err != nil {
		return err
	}
	p.Change = change
	p.Submissions = change.Touched(p.Submissions)
	repo.Change, repo.Author = change, o.Author
	repo.AuthorRequired = o.Event == EventPullRequest
	if repo.Maintainers, err = owners.LoadMaintainers(repo, o.Maintainers); err != nil {
		return err
	}
	p.Rest = owners.Repository(repo, p.Submissions)
	if p.Deleted, err = revoke.Deleted(repo, change); err != nil {
		return err
	}
	if len(p.Submissions)+len(p.Deleted) == 0 && p.Rest == nil {
		p.Note = fmt.Sprintf("the change from %s touches no submission (%d file(s) changed): nothing to validate", o.ChangedFrom, len(change.Paths))
	}
	return nil
}

// Run runs the checks: every check on each submission, whether a deleted
// version is still used, and who may change the rest.
func (p *Plan) Run() *check.Result {
	res := check.Run(p.Submissions, p.Checks, p.Settings)
	// what is not a submission's own files (a deletion's references, the
	// rest of a change) is judged afresh: no cache
	fresh := *p.Settings
	fresh.Memo = nil
	// a deleted version has no files left to check: only whether it is still used
	if cs := p.selected(revoke.StillReferenced); len(cs) > 0 {
		res.Submissions = append(res.Submissions, check.Run(p.Deleted, cs, &fresh).Submissions...)
	}
	if cs := p.selected(owners.Checks...); p.Rest != nil && len(cs) > 0 {
		res.Submissions = append(res.Submissions, check.Run([]*catalog.Submission{p.Rest}, cs, &fresh).Submissions...)
	}
	return res
}
