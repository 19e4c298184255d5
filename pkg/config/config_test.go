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
