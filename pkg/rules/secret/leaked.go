// Package secret holds the rules on credentials in a submission: secrets
// written into the manifest, and credentials passed as plain params.
package secret

import (
	"fmt"
	"io"
	"maps"
	"slices"
	"sort"
	"strings"
	"sync"
	"unicode/utf8"

	ahocorasick "github.com/BobuSumisu/aho-corasick"
	"github.com/pelletier/go-toml/v2"
	"github.com/rs/zerolog"
	"github.com/zricethezav/gitleaks/v8/config"
	"github.com/zricethezav/gitleaks/v8/detect"
	"github.com/zricethezav/gitleaks/v8/logging"
	"taskgate.dev/taskgate/pkg/check"
)

// Checks are the secret rules, in catalog order.
var Checks = []*check.Check{Leaked, AsParam, InEnv}

// The scanner is built once per process, when a first manifest holds a
// keyword of gitleaks' rules: reading gitleaks' default config (its own
// embedded TOML, decoded as gitleaks' viper would, in a few ms) and a trie
// of the rules' keywords. Each rule's regular expressions are compiled
// the first time a manifest holds one of its keywords: compiling all 222
// rules cost ~57 ms of every run, and a Task holds the keywords of a few.
var (
	scannerOnce sync.Once
	theScanner  *scanner
	scannerErr  error
)

// scanner is gitleaks' default rules, compiled rule by rule as needed,
// with a trie of their keywords to find the lines worth scanning.
type scanner struct {
	vc       config.ViperConfig
	keywords *ahocorasick.Trie
	rules    map[string][]int // keyword → the rules (indices in vc.Rules) that have it
	always   []int            // rules without keywords: gitleaks runs them on every text

	mu       sync.Mutex
	globals  []*config.Allowlist
	compiled map[int]config.Rule
	current  *detect.Detector
	all      *config.Config // the whole config, when rules refer to each other
}

// gitleaks returns the process's scanner.
func gitleaks() (*scanner, error) {
	scannerOnce.Do(func() {
		logging.Logger = zerolog.New(io.Discard) // the library logs to stderr
		theScanner, scannerErr = newScanner()
	})
	return theScanner, scannerErr
}

func newScanner() (*scanner, error) {
	var vc config.ViperConfig
	if err := toml.Unmarshal([]byte(config.DefaultConfig), &vc); err != nil {
		return nil, fmt.Errorf("reading gitleaks' default rules: %v", err)
	}
	s := &scanner{vc: vc, rules: map[string][]int{}, compiled: map[int]config.Rule{}}
	for i, r := range vc.Rules {
		if len(r.Keywords) == 0 && r.Regex != "" { // a rule of paths only never matches a text
			s.always = append(s.always, i)
		}
		for _, k := range r.Keywords {
			k = strings.ToLower(k)
			s.rules[k] = append(s.rules[k], i)
		}
	}
	s.keywords = ahocorasick.NewTrieBuilder().AddStrings(slices.Collect(maps.Keys(s.rules))).Build()
	return s, nil
}

// detector returns a gitleaks detector holding at least the rules that
// have one of the keywords found (and those without keywords): the rules
// gitleaks itself would run on a text holding these keywords. It holds
// every rule compiled so far (a rule whose keywords a text lacks does
// not run on it), and is built again only when a rule is added: a
// detector per set of rules, each with its keyword trie, held 4 MB over
// the catalog.
func (s *scanner) detector(found map[string]bool) (*detect.Detector, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.prepare(); err != nil {
		return nil, err
	}
	need := slices.Clone(s.always)
	for k := range found {
		need = append(need, s.rules[k]...)
	}
	added := false
	for _, i := range need {
		if _, ok := s.compiled[i]; !ok && s.all == nil {
			if err := s.compile(i); err != nil {
				return nil, err
			}
			added = true
		}
	}
	if s.current == nil || added {
		cfg, err := s.config()
		if err != nil {
			return nil, err
		}
		d := detect.NewDetector(cfg)
		// a `gitleaks:allow` comment is no way past the gate: skipping a
		// rule takes the taskgate.dev/skip annotation, with a reason
		d.IgnoreGitleaksAllow = true
		s.current = d
	}
	return s.current, nil
}

// compile compiles rule i of the default config through gitleaks' own
// Translate (s.mu held, s.prepare done).
func (s *scanner) compile(i int) error {
	one := s.vc
	one.Rules, one.AllowList, one.Allowlists = s.vc.Rules[i:i+1], nil, nil
	c, err := one.Translate()
	if err != nil {
		return err
	}
	s.compiled[i] = c.Rules[s.vc.Rules[i].ID]
	return nil
}

// prepare compiles the global allowlists, once (s.mu held). A config
// whose rules or allowlists refer to other rules is translated whole.
func (s *scanner) prepare() error {
	if s.all != nil || s.globals != nil {
		return nil
	}
	linked := false
	for _, r := range s.vc.Rules {
		linked = linked || len(r.Required) > 0
	}
	for _, a := range s.vc.Allowlists {
		linked = linked || len(a.TargetRules) > 0
	}
	if linked {
		all, err := s.vc.Translate()
		if err != nil {
			return err
		}
		s.all = &all
		return nil
	}
	none := s.vc
	none.Rules = nil
	c, err := none.Translate()
	if err != nil {
		return err
	}
	s.globals = append([]*config.Allowlist{}, c.Allowlists...)
	return nil
}

// config assembles a gitleaks config of the rules compiled so far (s.mu
// held, s.prepare done).
func (s *scanner) config() (config.Config, error) {
	if s.all != nil {
		return *s.all, nil
	}
	cfg := config.Config{Rules: map[string]config.Rule{}, Keywords: map[string]struct{}{}, Allowlists: s.globals}
	for _, i := range slices.Sorted(maps.Keys(s.compiled)) {
		r := s.compiled[i]
		cfg.Rules[r.RuleID] = r
		cfg.OrderedRules = append(cfg.OrderedRules, r.RuleID)
		for _, k := range r.Keywords {
			cfg.Keywords[k] = struct{}{}
		}
	}
	return cfg, nil
}

// leak is one secret found: its 1-based line and the secret itself.
type leak struct {
	line         int
	rule, secret string
}

// scan runs gitleaks over the runs of lines that hold a rule keyword (and
// the line after each: a value may follow its key's line), not over the
// whole text. Every default rule has keywords and its matches hold
// them, so the verdict is the same; the cost is not: gitleaks would run
// the generic-api-key regex over a whole manifest as soon as the word
// "key" appears anywhere in it. A PEM block spans many lines: a text
// with one is scanned whole.
func (s *scanner) scan(text string) ([]leak, error) {
	lines := strings.Split(text, "\n")
	keep := make([]bool, len(lines))
	starts := make([]int, len(lines))
	for i, off := 1, 0; i < len(lines); i++ {
		off += len(lines[i-1]) + 1
		starts[i] = off
	}
	lower := strings.ToLower(text)
	found := map[string]bool{}
	s.keywords.Walk([]byte(lower), func(end, n, _ int64) bool {
		found[lower[end-n+1:end+1]] = true
		i := sort.SearchInts(starts, int(end-n+1)+1) - 1
		for j := i; j <= min(len(lines)-1, i+1); j++ {
			keep[j] = true
		}
		return true
	})
	if len(found) == 0 && len(s.always) == 0 {
		return nil, nil // no rule can match: nothing to compile
	}
	if strings.Contains(text, "-----BEGIN") {
		for i := range keep {
			keep[i] = true
		}
	}
	d, err := s.detector(found)
	if err != nil {
		return nil, err
	}
	var out []leak
	for i := 0; i < len(lines); {
		if !keep[i] {
			i++
			continue
		}
		j := i
		for j < len(lines) && keep[j] {
			j++
		}
		for _, f := range d.DetectString(strings.Join(lines[i:j], "\n")) {
			out = append(out, leak{line: i + f.StartLine + 1, rule: f.RuleID, secret: f.Secret}) // gitleaks counts lines from 0
		}
		i = j
	}
	return out, nil
}

// Leaked finds credentials written anywhere in the manifest, with
// gitleaks' default rules.
var Leaked = &check.Check{
	ID:       "secret/leaked",
	Doc:      "credentials in the manifest: scripts, env values, param defaults, annotations (gitleaks rules)",
	Severity: check.Error,
	Help:     "remove the credential from the file and revoke it (it is in the git history now); give the Task the credential at run time from a Secret: a secret volume, an env `valueFrom.secretKeyRef`, or a workspace",
	Bad: `apiVersion: tekton.dev/v1
kind: Task
metadata:
  name: notify
spec:
  steps:
    - name: post
      image: registry.access.redhat.com/ubi9/ubi-minimal@sha256:95413c8dacaac773421428947a431c1cb099d19b4b1125df77d5d1cd2f463ab8
      env:
        - name: GITHUB_TOKEN
          value: ghp_` + "R2n9xQ7vLk4mW8pZ3sT6yB1cD5fH0jA9eU2i" /* fake; split so that scanners pass this file */ + `
      script: |
        curl -H "Authorization: token $GITHUB_TOKEN" https://api.github.com/user
`,
	Fixed: `apiVersion: tekton.dev/v1
kind: Task
metadata:
  name: notify
spec:
  steps:
    - name: post
      image: registry.access.redhat.com/ubi9/ubi-minimal@sha256:95413c8dacaac773421428947a431c1cb099d19b4b1125df77d5d1cd2f463ab8
      env:
        - name: GITHUB_TOKEN
          valueFrom:
            secretKeyRef:
              name: github-token
              key: token
              optional: true
      script: |
        curl -H "Authorization: token $GITHUB_TOKEN" https://api.github.com/user
`,
	Run: func(pass *check.Pass) []check.Finding {
		s := pass.Submission

		m := s.Manifest
		if m == nil || len(m.Data) == 0 {
			return nil
		}
		d, err := gitleaks()
		var leaks []leak
		if err == nil {
			leaks, err = d.scan(string(m.Data))
		}
		if err != nil {
			return []check.Finding{check.InFile(m.Path, "the secret scanner (gitleaks) could not start, so secret/leaked did not run: %v", err).
				WithHelp("this is a taskgate bug: report it; the gate fails because the check's verdict is unknown")}
		}
		lines := strings.Split(string(m.Data), "\n")
		var out []check.Finding
		seen := map[leak]bool{}
		for _, l := range leaks {
			if seen[l] || l.line < 1 || l.line > len(lines) {
				continue
			}
			seen[l] = true
			col := 1
			first, _, _ := strings.Cut(l.secret, "\n")
			if i := strings.Index(lines[l.line-1], first); i >= 0 {
				col = utf8.RuneCountInString(lines[l.line-1][:i]) + 1
			}
			out = append(out, check.Finding{File: m.Path, Line: l.line, Column: col,
				Message: fmt.Sprintf("a credential is written in the manifest: %s (gitleaks rule %s)", Redact(l.secret), l.rule)})
		}
		return out
	},
}

// Redact shows the first few characters of a secret and hides the rest:
// enough to find it, not enough to use it. Short secrets show less.
func Redact(secret string) string {
	n := 4
	if c := utf8.RuneCountInString(secret); c < 16 {
		n = c / 4
	}
	i := 0
	for k := 0; k < n; k++ {
		_, size := utf8.DecodeRuneInString(secret[i:])
		i += size
	}
	return secret[:i] + "…"
}
