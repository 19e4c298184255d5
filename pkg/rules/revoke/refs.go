package revoke

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os/exec"
	"path"
	"path/filepath"
	"sort"
	"strings"

	"gopkg.in/yaml.v3"
	"taskgate.dev/taskgate/pkg/manifest"
)

// Target is a Task version that is going away.
type Target struct {
	Layout, Name, Version string
	// Last is set when no other version of the Task remains: references
	// without a version (taskRef {name} alone) then break too.
	Last bool
}

// Dir is the version directory, e.g. partners/hello/0.1.
func (t Target) Dir() string { return path.Join(t.Layout, t.Name, t.Version) }

func (t Target) String() string { return t.Name + " " + t.Version }

// Reference is a place in the repository that still uses a Target.
type Reference struct {
	File         string // repo-relative
	Line, Column int
	What         string // how it refers, e.g. `taskRef {name: hello, version: "0.1"}`
	Target       Target
}

func (r Reference) String() string {
	return fmt.Sprintf("%s:%d:%d: %s", r.File, r.Line, r.Column, r.What)
}

// References lists every place in the repository's YAML files (pipelines,
// Tasks, their tests, pins, .tekton/) that refers to one of the targets:
// taskRef/ref {name, version} (and kustomize patches that set a taskRef),
// git-resolver pathInRepo, bundles-resolver and legacy bundle refs, and
// one-line `task_bundle:` pins. Files inside the targets' own directories
// do not count.
func References(root string, targets []Target) ([]Reference, error) {
	var out []Reference
	origin := gitOrigin(root)
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		rel = filepath.ToSlash(rel)
		if d.IsDir() {
			if d.Name() == ".git" || inside(rel, targets) {
				return filepath.SkipDir
			}
			return nil
		}
		if !d.Type().IsRegular() || !(strings.HasSuffix(rel, ".yaml") || strings.HasSuffix(rel, ".yml")) {
			return nil
		}
		data, err := manifest.ReadFile(root, rel, manifest.DefaultLimits.MaxFileBytes)
		if err != nil {
			return nil // refused (too big, swapped for a link): input/limits judges such files
		}
		for _, doc := range documents(data) {
			out = append(out, scan(rel, doc, targets, origin)...)
		}
		return nil
	})
	sort.SliceStable(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if a.File != b.File {
			return a.File < b.File
		}
		return a.Line < b.Line
	})
	return out, err
}

func inside(rel string, targets []Target) bool {
	for _, t := range targets {
		if rel == t.Dir() {
			return true
		}
	}
	return false
}

// documents parses every YAML document of a file; a file that does not
// parse holds no reference we could honestly claim (yaml/syntax judges it
// when it is a submission).
func documents(data []byte) (docs []*yaml.Node) {
	defer func() {
		if recover() != nil {
			docs = nil
		}
	}()
	dec := yaml.NewDecoder(strings.NewReader(string(data)))
	for {
		var doc yaml.Node
		err := dec.Decode(&doc)
		if errors.Is(err, io.EOF) || err != nil {
			return docs
		}
		docs = append(docs, &doc)
	}
}

// scan walks one document. Aliases are not followed: a reference is
// written where it is used, and not following them bounds the walk.
func scan(file string, doc *yaml.Node, targets []Target, origin string) []Reference {
	var out []Reference
	var walk func(n *yaml.Node, key string, depth int)
	walk = func(n *yaml.Node, key string, depth int) {
		if depth > manifest.DefaultLimits.MaxDepth {
			return
		}
		switch n.Kind {
		case yaml.DocumentNode, yaml.SequenceNode:
			for _, c := range n.Content {
				walk(c, "", depth+1)
			}
		case yaml.MappingNode:
			if key == "taskRef" || key == "ref" || isTaskRefPatch(n) {
				ref := n
				if key == "" { // a kustomize patch: the ref is its value
					ref = value(n, "value")
				}
				out = append(out, matchRef(file, ref, targets, origin)...)
			}
			for i := 0; i+1 < len(n.Content); i += 2 {
				k, v := n.Content[i], n.Content[i+1]
				if k.Value == "task_bundle" && v.Kind == yaml.ScalarNode {
					for _, t := range targets {
						if bundleMatches(v.Value, t) {
							out = append(out, at(file, v, t, "task_bundle pin "+v.Value))
						}
					}
				}
				walk(v, k.Value, depth+1)
			}
		}
	}
	walk(doc, "", 0)
	return out
}

// isTaskRefPatch recognises a kustomize JSON patch that sets a whole
// taskRef: `{op: replace, path: /spec/tasks/3/taskRef, value: {name, version}}`.
func isTaskRefPatch(n *yaml.Node) bool {
	p, v := value(n, "path"), value(n, "value")
	return p != nil && v != nil && v.Kind == yaml.MappingNode && strings.HasSuffix(p.Value, "/taskRef")
}

func matchRef(file string, ref *yaml.Node, targets []Target, origin string) []Reference {
	var out []Reference
	str := func(n *yaml.Node) string {
		if n == nil || n.Kind != yaml.ScalarNode {
			return ""
		}
		return n.Value
	}
	name, version := value(ref, "name"), value(ref, "version")
	resolver := str(value(ref, "resolver"))
	params := map[string]*yaml.Node{}
	if ps := value(ref, "params"); ps != nil && ps.Kind == yaml.SequenceNode {
		for _, p := range ps.Content {
			if n := str(value(p, "name")); n != "" {
				params[n] = value(p, "value")
			}
		}
	}
	for _, t := range targets {
		switch {
		case resolver == "git":
			if u := str(params["url"]); u != "" && origin != "" && repoKey(u) != origin {
				continue // a path in another repository
			}
			p := params["pathInRepo"]
			if rel := path.Clean(strings.TrimPrefix(str(p), "/")); str(p) != "" && strings.HasPrefix(rel, t.Dir()+"/") {
				out = append(out, at(file, p, t, "git resolver pathInRepo "+str(p)))
			}
		case resolver == "bundles" || value(ref, "bundle") != nil:
			b, obj := value(ref, "bundle"), str(name)
			if resolver == "bundles" {
				b, obj = params["bundle"], str(params["name"])
			}
			if bundleMatches(str(b), t) && (obj == "" || obj == t.Name) {
				out = append(out, at(file, b, t, "bundle "+str(b)))
			}
		case resolver == "":
			if str(name) != t.Name {
				continue
			}
			switch v := str(version); {
			case v == t.Version:
				out = append(out, at(file, name, t, fmt.Sprintf("taskRef {name: %s, version: %q}", t.Name, v)))
			case v == "" && t.Last:
				out = append(out, at(file, name, t, fmt.Sprintf("taskRef {name: %s} (no version; every version is going away)", t.Name)))
			}
		}
	}
	return out
}

// bundleMatches tells whether a bundle reference (`registry/ns/task-<name>:<tag>@sha256:…`)
// is a bundle of the target: repository task-<name>, and a tag of its
// version stream (<version>, <version>.<patch>, <version>-<commit>). A
// digest-only reference says no version: it matches when every version goes.
// A tag of another version never matches: that bundle stays published.
func bundleMatches(ref string, t Target) bool {
	ref, _, _ = strings.Cut(ref, "@")
	repo, tag := ref, ""
	if i := strings.LastIndex(ref, ":"); i > strings.LastIndex(ref, "/") {
		repo, tag = ref[:i], ref[i+1:]
	}
	if path.Base(repo) != "task-"+t.Name {
		return false
	}
	if tag == "" {
		return t.Last
	}
	return tag == t.Version || strings.HasPrefix(tag, t.Version+".") || strings.HasPrefix(tag, t.Version+"-")
}

func at(file string, n *yaml.Node, t Target, what string) Reference {
	line, col := 1, 1
	if n != nil && n.Line > 0 {
		line, col = n.Line, n.Column
	}
	return Reference{File: file, Line: line, Column: col, What: what, Target: t}
}

// gitOrigin is the repository's origin remote as a repoKey ("" if none).
func gitOrigin(root string) string {
	out, err := exec.Command("git", "-C", root, "remote", "get-url", "origin").Output()
	if err != nil {
		return ""
	}
	return repoKey(strings.TrimSpace(string(out)))
}

// repoKey reduces a git URL to host/path, so that the https, ssh and
// scp-like spellings of one repository compare equal.
func repoKey(u string) string {
	u = strings.ToLower(strings.TrimSpace(u))
	if i := strings.Index(u, "://"); i >= 0 {
		u = u[i+3:]
	} else if host, p, ok := strings.Cut(u, ":"); ok && !strings.Contains(host, "/") {
		u = host + "/" + p // git@github.com:org/repo
	}
	if at := strings.Index(u, "@"); at >= 0 && at < strings.Index(u+"/", "/") {
		u = u[at+1:]
	}
	return strings.TrimSuffix(strings.TrimSuffix(u, "/"), ".git")
}

// value returns a mapping's value for a key (exact match), or nil.
func value(n *yaml.Node, key string) *yaml.Node {
	if n == nil || n.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			return n.Content[i+1]
		}
	}
	return nil
}
