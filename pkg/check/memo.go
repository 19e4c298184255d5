package check

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"sort"
	"sync"

	"taskgate.dev/taskgate/pkg/catalog"
)

// Memo keeps verdicts between runs (pkg/cache): a check whose verdict
// depends on nothing that changed since it was kept is not run again.
// Keys are hashes of everything a verdict depends on; what Get returns
// is only a verdict the memo checked is whole (a bad entry is a miss).
type Memo interface {
	// Tool identifies the build of the gate: another build may judge
	// differently.
	Tool() string
	Get(key string) (*Verdict, bool)
	Put(key string, v *Verdict)
}

// Verdict is what a memo keeps of one submission: what each check that
// ran found (as the check returned it, before the repository's severity
// overrides) and the integration summary.
type Verdict struct {
	Checks      map[string]CheckVerdict `json:"checks"`
	Integration *KeptIntegration        `json:"integration,omitempty"`
}

// CheckVerdict is one check's result on one submission.
type CheckVerdict struct {
	Findings []KeptFinding `json:"findings"`
	NotRun   string        `json:"notRun,omitempty"`
	Kind     NotRun        `json:"kind,omitempty"`
}

// KeptFinding is a Finding as a check returned it (its severity may be
// 0: the check's).
type KeptFinding struct {
	Rule     string `json:"rule"`
	Severity int    `json:"severity"`
	File     string `json:"file"`
	Line     int    `json:"line"`
	Column   int    `json:"column"`
	Message  string `json:"message"`
	Help     string `json:"help"`
}

// KeptIntegration is an Integration with its lines.
type KeptIntegration struct {
	Lines []string `json:"lines"`
	Fits  []Fit    `json:"fits"`
}

// Clock is the Environment of a check whose verdict depends on the time
// (an expiry date): it is never served from a memo.
func Clock() (string, bool) { return "", false }

// memoRun is what a run with a memo works out once: each check's
// fingerprint of the run around it, or why it is not kept.
type memoRun struct {
	memo Memo
	mu   sync.Mutex
	keys map[*catalog.Repo]*runKeys
}

type runKeys struct {
	once sync.Once
	key  string          // the run and per-run inputs, for the kept checks
	kept map[string]bool // by check id: served from and kept in the memo
}

// keysFor fingerprints what every submission of a repository shares:
// the tool, the settings, the repository's state beyond the submissions
// (configuration, change, author, maintainers, CODEOWNERS), and each
// per-run input the kept checks read (computed here, once per run).
func (m *memoRun) keysFor(r *run, in *inputs, s *catalog.Submission) *runKeys {
	m.mu.Lock()
	if m.keys == nil {
		m.keys = map[*catalog.Repo]*runKeys{}
	}
	k := m.keys[s.Repo]
	if k == nil {
		k = &runKeys{}
		m.keys[s.Repo] = k
	}
	m.mu.Unlock()
	k.once.Do(func() {
		h := sha256.New()
		put := func(label string, v any) {
			data, err := json.Marshal(v)
			if err != nil { // a fingerprint that cannot be taken: keep nothing
				data = []byte(fmt.Sprintf("unfingerprintable %p", k))
			}
			fmt.Fprintf(h, "%s %d\n%s\n", label, len(data), data)
		}
		put("memo", 1)
		put("tool", m.memo.Tool())
		var ids []string
		for _, c := range r.checks {
			ids = append(ids, c.ID)
		}
		put("checks", ids)
		disabled := []string{}
		for id, off := range r.set.disabled {
			if off {
				disabled = append(disabled, id)
			}
		}
		sort.Strings(disabled)
		put("disabled", disabled)
		put("severity", r.set.severity) // encoding/json sorts map keys
		put("waivers", r.set.waivers)
		put("budget", r.set.Budget)
		repo := s.Repo
		if repo != nil {
			put("root", repo.Root)
			put("pipelines", repo.PipelinesDir)
			put("config", repo.Config)
			put("codeowners", repo.CodeOwners)
			put("limits", repo.Limits)
			put("change", repo.Change)
			put("author", repo.Author)
			put("author-required", repo.AuthorRequired)
			put("maintainers", repo.Maintainers)
		}
		k.kept = map[string]bool{}
		digests := map[*Input]string{}
		for _, c := range r.checks {
			env := "none"
			if c.Environment != nil {
				var ok bool
				if env, ok = c.Environment(); !ok {
					continue
				}
			}
			ok := true
			for _, dep := range perRun(c.Requires) {
				d, seen := digests[dep]
				if !seen {
					d = "" // no digest, or supplied by the run (a cluster): the check is not kept
					if _, given := r.set.Given[dep]; !given && dep.Digest != nil {
						if v, err := in.get(dep, s); err != nil {
							d = "error: " + err.Error()
						} else {
							d = dep.Digest(v)
						}
					}
					digests[dep] = d
				}
				ok = ok && d != ""
			}
			if ok {
				k.kept[c.ID] = true
				put("environment "+c.ID, env)
			}
		}
		var names []string
		for dep, d := range digests {
			names = append(names, dep.Name+" "+d)
		}
		sort.Strings(names)
		put("inputs", names)
		k.key = hex.EncodeToString(h.Sum(nil))
	})
	return k
}

// recall serves what the memo kept of the submission.
func (u *unit) recall(r *run) {
	keys := r.memo.keysFor(r, u.inputs, u.s)
	if len(keys.kept) == 0 {
		return
	}
	u.key, u.kept, u.served = submissionKey(keys.key, u.s), keys.kept, make([]bool, len(r.checks))
	v, ok := r.memo.memo.Get(u.key)
	if !ok {
		return
	}
	for j, c := range r.checks {
		if cv, ok := v.Checks[c.ID]; ok && u.kept[c.ID] && u.skipped[j] == "" {
			u.found[j], u.notRun[j], u.served[j] = unkeep(cv.Findings), notRunBy{cv.NotRun, cv.Kind}, true
		}
	}
	u.integration = v.Integration
}

// remember keeps the verdicts of the kept checks, when some were run.
func (u *unit) remember(r *run, sr *SubmissionResult) {
	v := &Verdict{Checks: map[string]CheckVerdict{}}
	ran := false
	for j, c := range r.checks {
		if !u.kept[c.ID] || u.skipped[j] != "" {
			continue
		}
		fs, ok := keep(u.found[j])
		if !ok {
			continue
		}
		v.Checks[c.ID] = CheckVerdict{Findings: fs, NotRun: u.notRun[j].reason, Kind: u.notRun[j].kind}
		ran = ran || !u.served[j]
	}
	if sr.Integration != nil {
		v.Integration = &KeptIntegration{Lines: sr.Integration.Lines, Fits: sr.Integration.Fits}
	}
	if ran {
		r.memo.memo.Put(u.key, v)
	}
}

// perRun lists the per-run inputs among reqs and what they require.
func perRun(reqs []*Input) []*Input {
	var out []*Input
	seen := map[*Input]bool{}
	var walk func([]*Input)
	walk = func(reqs []*Input) {
		for _, in := range reqs {
			if seen[in] {
				continue
			}
			seen[in] = true
			walk(in.Requires)
			if in.PerRun {
				out = append(out, in)
			}
		}
	}
	walk(reqs)
	return out
}

// submissionKey is the key of a submission's verdict: the run's and the
// submission's own content.
func submissionKey(run string, s *catalog.Submission) string {
	h := sha256.New()
	fmt.Fprintf(h, "%s\n", run)
	h.Write(s.Digest())
	return hex.EncodeToString(h.Sum(nil))
}

func keep(fs []Finding) ([]KeptFinding, bool) {
	out := []KeptFinding{}
	for _, f := range fs {
		if f.unchecked { // ran out of time or memory: judge again next time
			return nil, false
		}
		out = append(out, KeptFinding{Rule: f.Rule, Severity: int(f.Severity), File: f.File, Line: f.Line, Column: f.Column, Message: f.Message, Help: f.Help})
	}
	return out, true
}

func unkeep(ks []KeptFinding) []Finding {
	out := make([]Finding, 0, len(ks))
	for _, k := range ks {
		out = append(out, Finding{Rule: k.Rule, Severity: Severity(k.Severity), File: k.File, Line: k.Line, Column: k.Column, Message: k.Message, Help: k.Help})
	}
	return out
}
