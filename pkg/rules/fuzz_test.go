package rules_test

import (
	"encoding/json"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"

	"gopkg.in/yaml.v3"
	"taskgate.dev/taskgate/internal/testrepo"
	"taskgate.dev/taskgate/pkg/catalog"
	"taskgate.dev/taskgate/pkg/check"
	"taskgate.dev/taskgate/pkg/manifest"
	"taskgate.dev/taskgate/pkg/rules/script"
	"taskgate.dev/taskgate/pkg/rules/secret"
	"taskgate.dev/taskgate/pkg/rules/security"
)

// scriptTask embeds a script in a Task that holds a credential (so the
// guard analysis runs), as a literal block, a quoted string or the
// command string of `sh -c`.
func scriptTask(text string, style byte) []byte {
	step := map[string]any{
		"name":         "s",
		"image":        "registry.access.redhat.com/ubi9/ubi-minimal@sha256:95413c8dacaac773421428947a431c1cb099d19b4b1125df77d5d1cd2f463ab8",
		"env":          []any{map[string]any{"name": "TOKEN", "valueFrom": map[string]any{"secretKeyRef": map[string]any{"name": "$(params.secret)", "key": "token", "optional": true}}}},
		"volumeMounts": []any{map[string]any{"name": "creds", "mountPath": "/creds"}},
	}
	switch style % 3 {
	case 0, 1:
		step["script"] = text
	case 2:
		step["command"] = []any{"bash", "-ec", text}
	}
	task := map[string]any{
		"apiVersion": "tekton.dev/v1", "kind": "Task",
		"metadata": map[string]any{"name": "fuzz"},
		"spec": map[string]any{
			"params":  []any{map[string]any{"name": "secret", "default": "creds"}, map[string]any{"name": "url", "type": "string"}},
			"volumes": []any{map[string]any{"name": "creds", "secret": map[string]any{"secretName": "$(params.secret)", "optional": true}}},
			"steps":   []any{step},
		},
	}
	if style%3 == 1 { // YAML, the script as a literal block where yaml.v3 can write one
		var doc yaml.Node
		if err := doc.Encode(task); err == nil {
			setLiteral(&doc)
			if out, err := yaml.Marshal(&doc); err == nil {
				return out
			}
		}
	}
	out, _ := json.Marshal(task)
	return out
}

func setLiteral(n *yaml.Node) {
	for i, c := range n.Content {
		if n.Kind == yaml.MappingNode && i%2 == 1 && n.Content[i-1].Value == "script" {
			c.Style = yaml.LiteralStyle
		}
		setLiteral(c)
	}
}

// FuzzScript runs every in-process rule that reads scripts (masking,
// parsing, Tekton variables, guards, secrets) on arbitrary scripts: no
// panic, no stack overflow, every finding placed in the file.
func FuzzScript(f *testing.F) {
	for _, s := range []string{
		"echo $(params.url)",
		"#!/bin/bash\nif [ -z \"$TOKEN\" ]; then echo skip; exit 0; fi\ncurl -H \"$TOKEN\" $(params.url)",
		"#!/bin/sh\n[ -f /creds/token ] || exit 0\nssh host \"$(cat /creds/token)\"",
		strings.Repeat("(", 3000) + strings.Repeat(")", 3000),
		strings.Repeat("if true; then\n", 2500) + strings.Repeat("fi\n", 2500),
		"cat <<'EOF'\n'\nEOF\n((((\n'",
		"podman run --privileged -v /:/host $(params.url)\nsudo rm -rf /",
		"#!/usr/bin/env python3\nprint(1)",
		"eval \"$X\"; sh -c \"$TOKEN\"",
	} {
		f.Add(s, byte(0))
		f.Add(s, byte(1))
	}
	n := 0
	filepath.WalkDir(testrepo.Testdata(f, "build-definitions"), func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(p, ".yaml") {
			return nil
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return nil
		}
		for _, sc := range script.Scripts(manifest.Parse(p, data, manifest.DefaultLimits)) {
			f.Add(sc.Text, byte(n%3))
			n++
		}
		return nil
	})
	checks := []*check.Check{script.Syntax, script.ParamInjection}
	checks = append(checks, secret.Checks...)
	checks = append(checks, security.Checks...)
	f.Fuzz(func(t *testing.T, text string, style byte) {
		data := scriptTask(text, style)
		m := manifest.Parse("partners/fuzz/0.1/fuzz.yaml", data, manifest.DefaultLimits)
		if m.Root == nil {
			return
		}
		s := &catalog.Submission{Repo: &catalog.Repo{}, Layout: "partners", Name: "fuzz", Version: "0.1", Dir: "partners/fuzz/0.1", TaskPath: m.Path, Manifest: m}
		lines := strings.Count(string(data), "\n") + 1
		for _, c := range checks {
			if len(c.Requires) > 0 {
				continue // the driver computes inputs; these checks read the manifest alone
			}
			for _, fd := range c.Run(&check.Pass{Repo: s.Repo, Submission: s}) {
				if fd.Line < 0 || fd.Line > lines || fd.Column < 0 || fd.Message == "" || !utf8.ValidString(fd.Message) {
					t.Fatalf("%s: bad finding %+v (file of %d lines)", c.ID, fd, lines)
				}
			}
		}
	})
}
