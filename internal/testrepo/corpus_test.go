//go:build corpus

package testrepo

import (
	"crypto/sha256"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The repository's own test data is written for it, never copied from
// the corpus: no file of testdata/ or examples/ equals a corpus file, and
// none shares more than a third of its longer lines with the corpus file
// of the same name (a near copy).
func TestCorpusTestdataIsNotCopied(t *testing.T) {
	corpus := Corpus(t)
	root, err := moduleRoot()
	if err != nil {
		t.Fatal(err)
	}
	sums := map[[32]byte]string{}
	byName := map[string][]string{}
	walk(t, corpus, func(p string, data []byte) {
		sums[sha256.Sum256(data)] = p
		byName[filepath.Base(p)] = append(byName[filepath.Base(p)], p)
	})
	checked := 0
	for _, dir := range []string{"testdata", "examples"} {
		walk(t, filepath.Join(root, dir), func(p string, data []byte) {
			checked++
			if from, ok := sums[sha256.Sum256(data)]; ok && len(data) > 0 {
				t.Errorf("%s is a copy of %s", p, from)
			}
			mine := longLines(string(data))
			if len(mine) == 0 {
				return
			}
			for _, q := range byName[filepath.Base(p)] {
				theirs, _ := os.ReadFile(q)
				have := map[string]bool{}
				for _, l := range longLines(string(theirs)) {
					have[l] = true
				}
				shared := 0
				for _, l := range mine {
					if have[l] {
						shared++
					}
				}
				if 3*shared > len(mine) {
					t.Errorf("%s shares %d of its %d longer lines with %s: a near copy", p, shared, len(mine), q)
				}
			}
		})
	}
	if checked < 20 {
		t.Errorf("only %d files checked", checked)
	}
}

func walk(t *testing.T, dir string, f func(string, []byte)) {
	t.Helper()
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || !d.Type().IsRegular() {
			return err
		}
		data, err := os.ReadFile(p)
		if err == nil {
			f(p, data)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
}

// longLines are the trimmed lines of 30 characters or more: what a copy
// keeps and a rewrite does not.
func longLines(s string) []string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if l = strings.TrimSpace(l); len(l) >= 30 {
			out = append(out, l)
		}
	}
	return out
}
