package supply

import (
	"strings"

	"mvdan.cc/sh/v3/syntax"
	"taskgate.dev/taskgate/pkg/check"
	"taskgate.dev/taskgate/pkg/rules/script"
)

// FloatingImage finds images a script pulls by a tag: the step image is
// pinned, but what the script fetches changes under every tenant's build.
var FloatingImage = &check.Check{
	ID:       "supply/floating-image",
	Doc:      "a script pulls or copies an image by a tag (`skopeo copy docker://…:latest`, `oras pull …:1.0`, `podman pull …`)",
	Severity: check.Error,
	Help:     "pin the reference by digest (`…@sha256:<digest>`; `skopeo inspect --format '{{.Digest}}' docker://REF` prints it), or take it from a param the pipeline sets",
	Bad: example("mirror", `#!/bin/sh
skopeo copy docker://quay.io/konflux-ci/buildah-task:latest oci:/tmp/buildah
`),
	Fixed: example("mirror", `#!/bin/sh
skopeo copy docker://quay.io/konflux-ci/buildah-task@sha256:4a56e5b0a7cb21e3ae5ab3b53ac0e2fa49bf2d2a9a25c2fbd7ac0b3a8c0a8f3e oci:/tmp/buildah
`),
	Requires: []*check.Input{script.Parsed},
	Run:      func(pass *check.Pass) []check.Finding { return each(pass, floatingImages) },
}

// pulled returns the words of a command that name an image it fetches.
func pulled(c *command) []*syntax.Word {
	sub, rest := "", c.args
	operands := func(ws []*syntax.Word) []*syntax.Word {
		var out []*syntax.Word
		for i := 0; i < len(ws); i++ {
			a := lit(ws[i])
			if strings.HasPrefix(a, "-") {
				if !strings.Contains(a, "=") && i+1 < len(ws) && takesValue(c.name, a) {
					i++
				}
				continue
			}
			out = append(out, ws[i])
		}
		return out
	}
	ops := operands(rest)
	if len(ops) == 0 {
		return nil
	}
	sub, ops = lit(ops[0]), ops[1:]
	switch c.name {
	case "skopeo":
		if sub == "copy" && len(ops) > 0 {
			return ops[:1]
		}
	case "oras", "crane":
		if (sub == "pull" || sub == "copy" || sub == "cp" || sub == "export") && len(ops) > 0 {
			return ops[:1]
		}
	case "podman", "docker", "buildah":
		if sub == "pull" && len(ops) > 0 {
			return ops[:1]
		}
	}
	return nil
}

// valued options of the pull commands (the word after them is no image).
var valued = []string{"--authfile", "--creds", "--src-creds", "--dest-creds", "--src-authfile", "--dest-authfile", "--platform", "--override-os", "--override-arch", "--format", "-f", "--retry-times", "--src-cert-dir", "--dest-cert-dir", "--registry-config", "-o", "--output", "--config", "-u", "--username", "-p", "--password", "--arch", "--os", "--multi-arch", "--src-tls-verify", "--dest-tls-verify", "--tls-verify", "--digestfile"}

func takesValue(_ string, flag string) bool {
	for _, v := range valued {
		if flag == v {
			return true
		}
	}
	return false
}

// floatingRef says whether a pulled reference is fixed text that names a
// tag (or nothing, which is :latest) instead of a digest. References built
// from variables are the caller's to pin.
func floatingRef(w *syntax.Word) (string, bool) {
	ref := lit(w)
	for _, t := range []string{"docker://", "oci:", "dir:", "docker-archive:", "oci-archive:", "containers-storage:", "docker-daemon:"} {
		if strings.HasPrefix(ref, t) {
			if t != "docker://" {
				return "", false // a local layout, not a registry
			}
			ref = strings.TrimPrefix(ref, t)
		}
	}
	if ref == "" || strings.Contains(ref, "@sha256:") || strings.Contains(ref, "@$") {
		return "", false
	}
	last := ref[strings.LastIndexByte(ref, '/')+1:]
	name, tag, hasTag := strings.Cut(last, ":")
	switch {
	case !literal(w) && hasTag && !strings.ContainsAny(tag, "$") && !strings.Contains(tag, "TKN_"):
		return ref, true // $REGISTRY/tool:latest
	case literal(w) && name != "":
		return ref, true
	}
	return "", false
}

func floatingImages(p parsed) []check.Finding {
	var out []check.Finding
	syntax.Walk(p.file, func(n syntax.Node) bool {
		st, ok := n.(*syntax.Stmt)
		if !ok {
			return true
		}
		c := callOf(st)
		if c == nil {
			return true
		}
		for _, w := range pulled(c) {
			if ref, ok := floatingRef(w); ok {
				out = append(out, p.at(w, "%s fetches %s by a tag, not a digest: every build may get a different image, whoever can push the tag chooses it", p.sc.Where, ref))
			}
		}
		return true
	})
	return out
}

// FloatingPackage finds language packages installed at run time without
// a version: each build gets whatever the registry serves that day.
var FloatingPackage = &check.Check{
	ID:       "supply/floating-package",
	Doc:      "a script installs a package without a pinned version (`pip install x`, `npm install -g x`, `go install x@latest`, `gem install x`)",
	Severity: check.Warning,
	Help:     "install it in the step image instead, or pin the exact version (`pip install x==1.2.3`, ideally `--require-hashes`; `npm install -g x@1.2.3`; `go install x@v1.2.3`; `gem install x -v 1.2.3`)",
	Bad: example("lint-yaml", `#!/bin/sh
pip install yamllint
yamllint .
`),
	Fixed: example("lint-yaml", `#!/bin/sh
pip install yamllint==1.35.1
yamllint .
`),
	Requires: []*check.Input{script.Parsed},
	Run:      func(pass *check.Pass) []check.Finding { return each(pass, floatingPackages) },
}

// installs returns the package operands of an install command that are
// not pinned, and the command's name for the message.
func installs(c *command) (what string, floating []*syntax.Word) {
	args := c.args
	name := c.name
	if strings.HasPrefix(name, "python") && len(args) > 1 && lit(args[0]) == "-m" {
		name, args = lit(args[1]), args[2:]
	}
	if len(args) == 0 {
		return "", nil
	}
	sub := lit(args[0])
	switch {
	case (name == "pip" || name == "pip3" || strings.HasPrefix(name, "pip3.")) && sub == "install":
		for i := 1; i < len(args); i++ {
			a := lit(args[i])
			switch {
			case a == "-r" || a == "--requirement" || a == "-c" || a == "--constraint" || a == "-e" || a == "--editable" || a == "-t" || a == "--target" || a == "-i" || a == "--index-url" || a == "--extra-index-url" || a == "--prefix" || a == "--root" || a == "-f" || a == "--find-links":
				i++
			case strings.HasPrefix(a, "-"):
			case pipPinned(a) || !literal(args[i]):
			default:
				floating = append(floating, args[i])
			}
		}
		return name + " install", floating
	case (name == "npm" && (sub == "install" || sub == "i" || sub == "add")) || (name == "yarn" && sub == "global" && len(args) > 1):
		global := hasFlag(args[1:], "g", "--global") || name == "yarn"
		if !global {
			return "", nil // a project install reads its lockfile
		}
		for _, w := range args[1:] {
			a := lit(w)
			if strings.HasPrefix(a, "-") || a == "add" || !literal(w) {
				continue
			}
			if at := strings.LastIndexByte(a, '@'); at <= 0 || a[at+1:] == "latest" {
				floating = append(floating, w)
			}
		}
		return name + " " + sub + " -g", floating
	case name == "go" && sub == "install":
		for _, w := range args[1:] {
			a := lit(w)
			if _, v, ok := strings.Cut(a, "@"); ok && (v == "latest" || v == "master" || v == "main" || v == "HEAD") && literal(w) {
				floating = append(floating, w)
			}
		}
		return "go install", floating
	case name == "gem" && sub == "install":
		if hasFlag(args[1:], "v", "--version") {
			return "", nil
		}
		for _, w := range args[1:] {
			if a := lit(w); !strings.HasPrefix(a, "-") && literal(w) && !strings.Contains(a, ":") {
				floating = append(floating, w)
			}
		}
		return "gem install", floating
	}
	return "", nil
}

// pipPinned: an exact version, a local path or archive, or a URL.
func pipPinned(a string) bool {
	return strings.Contains(a, "==") || strings.Contains(a, "===") || strings.ContainsAny(a, "/@") ||
		a == "." || strings.HasSuffix(a, ".whl") || strings.HasSuffix(a, ".tar.gz") || strings.HasSuffix(a, ".zip")
}

func floatingPackages(p parsed) []check.Finding {
	var out []check.Finding
	syntax.Walk(p.file, func(n syntax.Node) bool {
		st, ok := n.(*syntax.Stmt)
		if !ok {
			return true
		}
		c := callOf(st)
		if c == nil {
			return true
		}
		what, ws := installs(c)
		for _, w := range ws {
			out = append(out, p.at(w, "%s runs `%s %s` without a pinned version: each build installs whatever the registry serves that day", p.sc.Where, what, lit(w)))
		}
		return true
	})
	return out
}
