package cache

import (
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"syscall"
	"testing"

	"taskgate.dev/taskgate/pkg/check"
)

const key = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

func verdict() *check.Verdict {
	return &check.Verdict{Checks: map[string]check.CheckVerdict{
		"image/unpinned":      {Findings: []check.KeptFinding{{Rule: "image/unpinned", File: "partners/a/0.1/a.yaml", Line: 9, Column: 14, Message: "not pinned"}}},
		"script/syntax":       {Findings: []check.KeptFinding{}},
		"integration/compose": {Findings: []check.KeptFinding{}, NotRun: "no build pipelines"},
	}, Integration: &check.KeptIntegration{Lines: []string{"fits 1 of 1"}, Fits: []check.Fit{{Pipeline: "p", Fits: true, Slot: "check", Reason: "r"}}}}
}

func open(t *testing.T) *Cache {
	t.Helper()
	c, err := OpenFor(t.TempDir(), "build-1")
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestRoundTrip(t *testing.T) {
	c := open(t)
	if _, ok := c.Get(key); ok {
		t.Fatal("a hit in an empty cache")
	}
	c.Put(key, verdict())
	got, ok := c.Get(key)
	if !ok || !reflect.DeepEqual(got, verdict()) {
		t.Fatalf("Get = %+v, %v; want what was put", got, ok)
	}
	if _, ok := c.Get(strings.Replace(key, "0", "1", 1)); ok {
		t.Error("a hit under another key")
	}
}

// Whatever is in the directory, Get is a miss or the verdict that was
// put: never a crash, never a verdict of another key.
func TestBadEntriesAreMisses(t *testing.T) {
	entryPath := func(c *Cache) string { p, _ := c.path(key); return p }
	cases := map[string]func(t *testing.T, c *Cache, p string){
		"truncated": func(t *testing.T, c *Cache, p string) {
			data, _ := os.ReadFile(p)
			os.WriteFile(p, data[:len(data)-10], 0o600)
		},
		"one byte changed": func(t *testing.T, c *Cache, p string) {
			data, _ := os.ReadFile(p)
			data[len(data)-20] ^= 1
			os.WriteFile(p, data, 0o600)
		},
		"empty": func(t *testing.T, c *Cache, p string) { os.WriteFile(p, nil, 0o600) },
		"another key's entry": func(t *testing.T, c *Cache, p string) {
			other := strings.Replace(key, "a", "b", 1)
			c.Put(other, &check.Verdict{Checks: map[string]check.CheckVerdict{}})
			op, _ := c.path(other)
			os.Rename(op, p)
		},
		"forged checksum over a bad severity": func(t *testing.T, c *Cache, p string) {
			writeBody(p, `{"key":"`+key+`","verdict":{"checks":{"x/y":{"findings":[{"rule":"x/y","severity":7,"file":"a","line":1,"column":1,"message":"m","help":"h"}]}}}}`)
		},
		"forged checksum over an absolute path": func(t *testing.T, c *Cache, p string) {
			writeBody(p, `{"key":"`+key+`","verdict":{"checks":{"x/y":{"findings":[{"rule":"x/y","severity":1,"file":"/etc/passwd","line":1,"column":1,"message":"m","help":"h"}]}}}}`)
		},
		"forged checksum over unknown fields": func(t *testing.T, c *Cache, p string) {
			writeBody(p, `{"key":"`+key+`","verdict":{"checks":{}},"passed":true}`)
		},
		"forged checksum without checks": func(t *testing.T, c *Cache, p string) {
			writeBody(p, `{"key":"`+key+`","verdict":{}}`)
		},
		"two documents": func(t *testing.T, c *Cache, p string) {
			writeBody(p, `{"key":"`+key+`","verdict":{"checks":{}}}{}`)
		},
		"a symlink": func(t *testing.T, c *Cache, p string) {
			target := filepath.Join(t.TempDir(), "elsewhere")
			data, _ := os.ReadFile(p)
			os.WriteFile(target, data, 0o600)
			os.Remove(p)
			os.Symlink(target, p)
		},
		"a FIFO": func(t *testing.T, c *Cache, p string) {
			os.Remove(p)
			if err := syscall.Mkfifo(p, 0o600); err != nil {
				t.Skip(err)
			}
		},
		"a directory": func(t *testing.T, c *Cache, p string) { os.Remove(p); os.Mkdir(p, 0o700) },
		"too large": func(t *testing.T, c *Cache, p string) {
			f, _ := os.OpenFile(p, os.O_WRONLY|os.O_APPEND, 0)
			f.Truncate(MaxEntry + 4096)
			f.Close()
		},
	}
	for name, spoil := range cases {
		t.Run(name, func(t *testing.T) {
			c := open(t)
			c.Put(key, verdict())
			spoil(t, c, entryPath(c))
			if v, ok := c.Get(key); ok {
				t.Errorf("a spoilt entry was served: %+v", v)
			}
		})
	}
}

// writeBody writes an entry with a valid checksum over body: what only
// someone who can write the directory could do; values a check could
// not have returned are still refused.
func writeBody(p, body string) {
	os.WriteFile(p, []byte(header+sha(body)+"\n"+body+"\n"), 0o600)
}

func TestOpenNamesTheBuild(t *testing.T) {
	c, err := Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(c.Tool(), "go-buildid ") && !strings.HasPrefix(c.Tool(), "sha256 ") || len(c.Tool()) < 40 {
		t.Errorf("Tool() = %q: want the binary's build ID", c.Tool())
	}
	if _, err := OpenFor(filepath.Join(t.TempDir(), "f"), "x"); err != nil {
		t.Errorf("a missing directory is created: %v", err)
	}
	file := filepath.Join(t.TempDir(), "file")
	os.WriteFile(file, nil, 0o600)
	if _, err := OpenFor(file, "x"); err == nil {
		t.Error("a file as the cache directory: no error")
	}
}

func FuzzDecode(f *testing.F) {
	c, _ := OpenFor(f.TempDir(), "b")
	c.Put(key, verdict())
	p, _ := c.path(key)
	good, _ := os.ReadFile(p)
	f.Add(good)
	f.Add([]byte(header))
	f.Fuzz(func(t *testing.T, data []byte) {
		v, err := decode(key, data)
		if err == nil && v.Checks == nil {
			t.Error("decoded an entry without checks")
		}
	})
}

func sha(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}
