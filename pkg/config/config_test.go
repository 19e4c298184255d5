package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestParse(t *testing.T) {
	c, err := Parse([]byte("disable: [layout/readme]\nseverity:\n  tekton/conventions: info\nimages:\n  allowedRegistries: [quay.io/konflux-ci]\n"))
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Disable) != 1 || c.Severity["tekton/conventions"] != "info" || c.Images.AllowedRegistries[0] != "quay.io/konflux-ci" {
		t.Errorf("decoded %+v", c)
	}
	if c, err := Parse(nil); err != nil || len(c.Disable) != 0 {
		t.Errorf("an empty file is an empty configuration: %+v %v", c, err)
	}
	for _, bad := range []string{"disabel: [x]\n", "images:\n  allowedRegistry: [x]\n", "disable: 3\n", "[1, 2]\n"} {
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
