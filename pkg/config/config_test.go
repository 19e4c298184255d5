package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestParse(t *testing.T) {
	c, err := Parse([]byte("disable: [layout/readme]\nseverity:\n  tekton/conventions: info\nimages:\n  allowedRegistries: [quay.io/konflux-ci]\n"))
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Disable) != 1 || c.Severity["tekton/conventions"] != "info" || c.Images.AllowedRegistries[0] != "quay.io/konflux-ci" {
		t.Errorf("decoded %+v", c)
	}
	if c, err := Parse([]byte("resources:\n  maxCPU: 500m\n  maxMemory: 2Gi\n")); err != nil || c.Resources.MaxCPU != "500m" || c.Resources.MaxMemory != "2Gi" {
		t.Errorf("resources: %+v %v", c, err)
	}
	if c, err := Parse(nil); err != nil || len(c.Disable) != 0 {
		t.Errorf("an empty file is an empty configuration: %+v %v", c, err)
	}
	for _, bad := range []string{"disabel: [x]\n", "images:\n  allowedRegistry: [x]\n", "disable: 3\n", "[1, 2]\n", "resources:\n  maxCPU: lots\n", "resources:\n  maxMem: 8Gi\n"} {
		if _, err := Parse([]byte(bad)); err == nil || !strings.Contains(err.Error(), FileName) {
			t.Errorf("%q: want an error naming %s, got %v", bad, FileName, err)
		}
	}
	if _, err := Parse([]byte(strings.Repeat("#", 1<<20+1))); err == nil {
		t.Error("an oversized configuration must be refused")
	}
}

func TestLoad(t *testing.T) {
	dir := t.TempDir()
	if c, err := Load(dir); err != nil || c == nil {
		t.Fatalf("no file: %+v %v", c, err)
	}
	if err := os.WriteFile(filepath.Join(dir, FileName), []byte("disable: [a/b]\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if c, err := Load(dir); err != nil || c.Disable[0] != "a/b" {
		t.Errorf("%+v %v", c, err)
	}
}

func TestSandboxEgress(t *testing.T) {
	c, err := Parse([]byte("sandbox:\n  egress:\n    - {task: icr-scan, cidr: 203.0.113.0/24, ports: [443, 8443]}\n    - {task: other, cidr: 2001:db8::/32, ports: [443]}\n"))
	if err != nil {
		t.Fatal(err)
	}
	if got := c.EgressFor("icr-scan"); len(got) != 1 || got[0].CIDR != "203.0.113.0/24" || len(got[0].Ports) != 2 {
		t.Errorf("icr-scan: %+v", got)
	}
	if got := c.EgressFor("hello"); len(got) != 0 {
		t.Errorf("a Task nobody allowed gets %+v", got)
	}
	for bad, want := range map[string]string{
		"sandbox:\n  egress:\n    - {cidr: 203.0.113.0/24, ports: [443]}\n":                  "name the Task",
		"sandbox:\n  egress:\n    - {task: t, cidr: api.partner.example, ports: [443]}\n":    "not an address range",
		"sandbox:\n  egress:\n    - {task: t, cidr: 203.0.113.0/24}\n":                       "list the TCP ports",
		"sandbox:\n  egress:\n    - {task: t, cidr: 203.0.113.0/24, ports: [0]}\n":           "port 0",
		"sandbox:\n  egress:\n    - {task: t, cidr: 203.0.113.0/24, ports: [443], udp: 1}\n": "udp",
	} {
		if _, err := Parse([]byte(bad)); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: want an error with %q, got %v", bad, want, err)
		}
	}
}

func TestWaivers(t *testing.T) {
	c, err := Parse([]byte(`disable: []
waivers:
  - task: hello
    versions: ["0.1", "0.2"]
    rule: privilege/privileged
    reason: builds images with buildah
    expires: 2027-06-30
  - {task: partners/other, versions: ["*"], rule: image/registry, reason: mirrored, expires: "2027-01-01T12:00:00Z"}
`))
	if err != nil {
		t.Fatal(err)
	}
	w := c.Waivers[0]
	if w.Line != 3 || w.Expires != "2027-06-30" || !w.Until.Equal(time.Date(2027, 6, 30, 0, 0, 0, 0, time.UTC)) || c.Waivers[1].Line != 8 {
		t.Errorf("decoded %+v", c.Waivers)
	}
	if !w.Covers("partners", "hello", "0.2") || w.Covers("partners", "hello", "0.3") || w.Covers("partners", "other", "0.1") {
		t.Error("a waiver covers the versions of the task it names")
	}
	if o := c.Waivers[1]; !o.Covers("partners", "other", "9.9") || o.Covers("task", "other", "0.1") {
		t.Error("layout/task names one layout; * every version")
	}
	if w.Expired(time.Date(2027, 6, 29, 23, 59, 0, 0, time.UTC)) || !w.Expired(time.Date(2027, 6, 30, 0, 0, 0, 0, time.UTC)) {
		t.Error("a waiver expires at the start of its expires date")
	}
	for _, bad := range []string{
		"waivers:\n  - {versions: [\"0.1\"], rule: a/b, reason: r, expires: 2027-01-01}\n",
		"waivers:\n  - {task: t, rule: a/b, reason: r, expires: 2027-01-01}\n",
		"waivers:\n  - {task: t, versions: [\"0.1\"], reason: r, expires: 2027-01-01}\n",
		"waivers:\n  - {task: t, versions: [\"0.1\"], rule: a/b, expires: 2027-01-01}\n",
		"waivers:\n  - {task: t, versions: [\"0.1\"], rule: a/b, reason: r}\n",
		"waivers:\n  - {task: t, versions: [\"0.1\"], rule: a/b, reason: r, expires: next year}\n",
		"waivers:\n  - {task: t, versions: [\"0.1\"], rule: a/b, reason: r, expires: 2027-01-01, until: 2028-01-01}\n",
		"waivers:\n  - {task: t, versions: [\"\"], rule: a/b, reason: r, expires: 2027-01-01}\n",
	} {
		if _, err := Parse([]byte(bad)); err == nil || !strings.Contains(err.Error(), FileName) {
			t.Errorf("%q: want an error naming %s, got %v", bad, FileName, err)
		}
	}
}

// The configuration is read under the loader's rules: never a device, a
// FIFO or a file outside the repository, whatever a symlink says.
func TestLoadRefusesWhatTheLoaderRefuses(t *testing.T) {
	for _, target := range []string{"/dev/zero", "/etc/hostname"} {
		dir := t.TempDir()
		if err := os.Symlink(target, filepath.Join(dir, FileName)); err != nil {
			t.Fatal(err)
		}
		_, err := Load(dir)
		if err == nil || !strings.Contains(err.Error(), "leaves the repository") {
			t.Errorf("%s: want a refusal, got %v", target, err)
		}
		if data, _ := os.ReadFile("/etc/hostname"); len(data) > 1 && err != nil && strings.Contains(err.Error(), strings.TrimSpace(string(data))+"\n") {
			t.Errorf("the refusal prints the file's content: %v", err)
		}
	}
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "real.yaml"), []byte("disable: [a/b]\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("real.yaml", filepath.Join(dir, FileName)); err != nil {
		t.Fatal(err)
	}
	if c, err := Load(dir); err != nil || c.Disable[0] != "a/b" {
		t.Errorf("a symlink inside the repository is read: %+v %v", c, err)
	}
}

// docBase is where readers find taskgate's rule reference: an absolute
// http(s) URL, since neither a PR comment nor SARIF resolves a relative
// one to taskgate's docs; each rule adds its own fragment.
func TestDocBase(t *testing.T) {
	const base = "https://github.com/acme/taskgate/blob/v1.2.0/docs/rules.md"
	if c, err := Parse([]byte("docBase: " + base + "\n")); err != nil || c.DocBase != base {
		t.Errorf("docBase: %+v %v", c, err)
	}
	for bad, want := range map[string]string{
		"docBase: docs/rules.md\n":                       "not an absolute http(s) URL",
		"docBase: ../taskgate/docs/rules.md\n":           "not an absolute http(s) URL",
		"docBase: file:///srv/taskgate/docs/rules.md\n":  "not an absolute http(s) URL",
		"docBase: https://x.example/rules.md#top\n":      "has a fragment",
		"docBase: \"https://x.example/a b%zz\"\n":        "not a URL",
		"docBase: [https://x.example/rules.md]\n":        FileName,
		"docbase: https://x.example/taskgate/rules.md\n": "docbase",
	} {
		if _, err := Parse([]byte(bad)); err == nil || !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), FileName) {
			t.Errorf("%q: want an error naming %s with %q, got %v", bad, FileName, want, err)
		}
	}
}
