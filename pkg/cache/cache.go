// Package cache keeps the gate's verdicts on disk between runs
// (`validate --cache DIR`), content-addressed: an entry's name is the hash
// of everything the verdict depends on (the submission's files, the
// per-run inputs its checks read, the settings, the build of the gate),
// so a partner, who controls file contents, cannot choose which entry a
// submission reads. An entry is checked whole on every read; a corrupt,
// truncated or malformed one is a miss, never a crash or a pass.
//
// The directory is trusted like the binary: keep it writable by the gate
// only (an entry's checksum detects damage, not forgery).
package cache

import (
	"bytes"
	"crypto/sha256"
	"debug/elf"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"unicode/utf8"

	"taskgate.dev/taskgate/pkg/check"
)

// MaxEntry bounds an entry (the largest verdict of the corpus is a few KiB).
const MaxEntry = 8 << 20

const header = "taskgate-cache 1\n"

// Cache is a cache directory.
type Cache struct {
	dir  string
	tool string
}

// Open opens (creating it) a cache directory for the running build.
func Open(dir string) (*Cache, error) {
	tool, err := buildID()
	if err != nil {
		return nil, fmt.Errorf("--cache: cannot identify this build of taskgate (%v), so no verdict could be trusted to come from it", err)
	}
	return OpenFor(dir, tool)
}

// OpenFor opens a cache directory for a build named tool (tests).
func OpenFor(dir, tool string) (*Cache, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("--cache: %v", err)
	}
	st, err := os.Stat(dir)
	if err != nil || !st.IsDir() {
		return nil, fmt.Errorf("--cache: %s is not a directory", dir)
	}
	return &Cache{dir: dir, tool: tool}, nil
}

// Tool is the build the cache serves: entries of another build are
// never read (the build is part of every key).
func (c *Cache) Tool() string { return c.tool }

type entry struct {
	Key     string        `json:"key"`
	Verdict check.Verdict `json:"verdict"`
}

func (c *Cache) path(key string) (string, bool) {
	if len(key) != 64 || strings.Trim(key, "0123456789abcdef") != "" {
		return "", false
	}
	return filepath.Join(c.dir, key[:2], key), true
}

// Get returns the verdict kept under key, if a whole one is there.
func (c *Cache) Get(key string) (*check.Verdict, bool) {
	p, ok := c.path(key)
	if !ok {
		return nil, false
	}
	data, err := readEntry(p)
	if err != nil {
		return nil, false
	}
	v, err := decode(key, data)
	if err != nil {
		return nil, false
	}
	return v, true
}

// readEntry reads a regular file (never a link, a FIFO or a device) of
// at most MaxEntry bytes.
func readEntry(p string) ([]byte, error) {
	st, err := os.Lstat(p)
	if err != nil || !st.Mode().IsRegular() || st.Size() > MaxEntry+int64(len(header))+65 {
		return nil, errors.New("not an entry")
	}
	f, err := os.OpenFile(p, os.O_RDONLY, 0)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return io.ReadAll(io.LimitReader(f, MaxEntry+int64(len(header))+65))
}

// decode checks an entry whole: header, checksum, strict JSON, the key
// it was written under, and values a check could have returned.
func decode(key string, data []byte) (*check.Verdict, error) {
	rest, ok := bytes.CutPrefix(data, []byte(header))
	if !ok {
		return nil, errors.New("no header")
	}
	sum, body, ok := bytes.Cut(rest, []byte("\n"))
	if body, ok = bytes.CutSuffix(body, []byte("\n")); !ok {
		return nil, errors.New("truncated")
	}
	want := sha256.Sum256(body)
	if string(sum) != hex.EncodeToString(want[:]) {
		return nil, errors.New("checksum mismatch")
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	var e entry
	if err := dec.Decode(&e); err != nil {
		return nil, err
	}
	if dec.More() {
		return nil, errors.New("trailing data")
	}
	if e.Key != key {
		return nil, errors.New("entry of another key")
	}
	if e.Verdict.Checks == nil {
		return nil, errors.New("no checks")
	}
	for id, cv := range e.Verdict.Checks {
		if id == "" || !validText(id) {
			return nil, fmt.Errorf("check %q", id)
		}
		for _, f := range cv.Findings {
			if err := validFinding(f); err != nil {
				return nil, err
			}
		}
		if !validText(cv.NotRun) {
			return nil, errors.New("not-run reason")
		}
	}
	if in := e.Verdict.Integration; in != nil {
		for _, l := range in.Lines {
			if !validText(l) {
				return nil, errors.New("integration line")
			}
		}
	}
	return &e.Verdict, nil
}

func validFinding(f check.KeptFinding) error {
	switch {
	case f.Severity < 0 || f.Severity > int(check.Info):
		return fmt.Errorf("severity %d", f.Severity)
	case f.Line < 0 || f.Column < 0:
		return errors.New("position")
	case filepath.IsAbs(f.File) || strings.HasPrefix(f.File, "/") || f.File == ".." || strings.HasPrefix(f.File, "../"):
		return fmt.Errorf("file %q", f.File)
	case !validText(f.Rule) || !validText(f.File) || !validText(f.Message) || !validText(f.Help):
		return errors.New("text")
	}
	return nil
}

func validText(s string) bool { return utf8.ValidString(s) }

// Put keeps a verdict under key. A cache that cannot be written is only
// slower: errors are dropped.
func (c *Cache) Put(key string, v *check.Verdict) {
	p, ok := c.path(key)
	if !ok {
		return
	}
	body, err := json.Marshal(entry{Key: key, Verdict: *v})
	if err != nil || len(body) > MaxEntry {
		return
	}
	sum := sha256.Sum256(body)
	data := append(append([]byte(header+hex.EncodeToString(sum[:])+"\n"), body...), '\n')
	if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
		return
	}
	tmp, err := os.CreateTemp(filepath.Dir(p), ".tmp-*")
	if err != nil {
		return
	}
	_, werr := tmp.Write(data)
	if cerr := tmp.Close(); werr != nil || cerr != nil {
		os.Remove(tmp.Name())
		return
	}
	if err := os.Rename(tmp.Name(), p); err != nil { // atomic: readers see the old entry or the new
		os.Remove(tmp.Name())
	}
}

// buildID names the running binary's build: Go's build ID (which changes
// with any change to the code or the toolchain), else the hash of the
// executable.
func buildID() (string, error) {
	exe, err := os.Executable()
	if err != nil {
		return "", err
	}
	if f, err := elf.Open(exe); err == nil {
		defer f.Close()
		if sec := f.Section(".note.go.buildid"); sec != nil {
			if data, err := sec.Data(); err == nil && len(data) > 16 {
				return "go-buildid " + hex.EncodeToString(data), nil
			}
		}
	}
	fh, err := os.Open(exe)
	if err != nil {
		return "", err
	}
	defer fh.Close()
	h := sha256.New()
	if _, err := io.Copy(h, fh); err != nil {
		return "", err
	}
	return "sha256 " + hex.EncodeToString(h.Sum(nil)), nil
}
