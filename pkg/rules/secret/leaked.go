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
	"github.com/rs/zerolog"
	"github.com/zricethezav/gitleaks/v8/detect"
	"github.com/zricethezav/gitleaks/v8/logging"
	"taskgate.dev/taskgate/pkg/check"
)

// Checks are the secret rules, in catalog order.
var Checks = []*check.Check{Leaked, AsParam, InEnv}

var (
	detectorOnce sync.Once
	detector     *scanner
	detectorErr  error
)

// scanner is gitleaks' detector with its default rules, and a trie of the
// rules' keywords to find the lines worth scanning.
type scanner struct {
	d        *detect.Detector
	keywords *ahocorasick.Trie
}

// gitleaks builds the scanner once: compiling the default rules costs far
// more than scanning a manifest with them.
func gitleaks() (*scanner, error) {
	detectorOnce.Do(func() {
		logging.Logger = zerolog.New(io.Discard) // the library logs to stderr
		d, err := detect.NewDetectorDefaultConfig()
		if err != nil {
			detectorErr = err
			return
		}
		// a `gitleaks:allow` comment is no way past the gate: skipping a
		// rule takes the taskgate.dev/skip annotation, with a reason
		d.IgnoreGitleaksAllow = true
		detector = &scanner{d: d, keywords: ahocorasick.NewTrieBuilder().AddStrings(slices.Collect(maps.Keys(d.Config.Keywords))).Build()}
	})
	return detector, detectorErr
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
func (s *scanner) scan(text string) []leak {
	lines := strings.Split(text, "\n")
	keep := make([]bool, len(lines))
	if strings.Contains(text, "-----BEGIN") {
		for i := range keep {
			keep[i] = true
		}
	} else {
		starts := make([]int, len(lines))
		for i, off := 1, 0; i < len(lines); i++ {
			off += len(lines[i-1]) + 1
			starts[i] = off
		}
		s.keywords.Walk([]byte(strings.ToLower(text)), func(end, n, _ int64) bool {
			i := sort.SearchInts(starts, int(end-n+1)+1) - 1
			for j := i; j <= min(len(lines)-1, i+1); j++ {
				keep[j] = true
			}
			return true
		})
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
		for _, f := range s.d.DetectString(strings.Join(lines[i:j], "\n")) {
			out = append(out, leak{line: i + f.StartLine + 1, rule: f.RuleID, secret: f.Secret}) // gitleaks counts lines from 0
		}
		i = j
	}
	return out
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
		if err != nil {
			return []check.Finding{check.InFile(m.Path, "the secret scanner (gitleaks) could not start, so secret/leaked did not run: %v", err).
				WithHelp("this is a taskgate bug: report it; the gate fails because the check's verdict is unknown")}
		}
		lines := strings.Split(string(m.Data), "\n")
		var out []check.Finding
		seen := map[leak]bool{}
		for _, l := range d.scan(string(m.Data)) {
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
