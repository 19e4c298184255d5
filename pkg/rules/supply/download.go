package supply

import (
	"strings"

	"mvdan.cc/sh/v3/syntax"
	"taskgate.dev/taskgate/pkg/check"
	"taskgate.dev/taskgate/pkg/rules/script"
)

// DownloadExec finds code fetched (or decoded) at run time and handed
// straight to an interpreter: nobody reviewed it, and whoever controls the
// host (or wrote the blob) runs code in every build that inserts the Task.
var DownloadExec = &check.Check{
	ID:       "supply/download-exec",
	Doc:      "a script runs code it downloads or decodes at run time (`curl … | sh`, `source <(curl …)`, `base64 -d | sh`, `eval \"$(curl …)\"`)",
	Severity: check.Error,
	Help:     "put the tool in the step image (pinned by digest), or download a pinned release, verify its checksum (`echo \"<sha256>  tool\" | sha256sum -c`) and run the file; a decoded payload belongs in the script as plain text, where reviewers and the gate read it",
	Bad: example("install-tool", `#!/bin/sh
set -eu
curl -sSfL https://tools.example.com/install.sh | sh
echo 'ZWNobyBoaQo=' | base64 -d | sh
`),
	Fixed: example("install-tool", `#!/bin/sh
set -eu
curl -sSfL -o /tmp/tool https://tools.example.com/releases/v1.2.3/tool
echo "2c26b46b68ffc68ff99b453c1d30413413422d706483bfa0f98a5e886266e7ae  /tmp/tool" | sha256sum -c -
chmod +x /tmp/tool && /tmp/tool --version
`),
	Requires: []*check.Input{script.Parsed},
	Run:      func(pass *check.Pass) []check.Finding { return each(pass, downloadExec) },
}

// interpreters run code; shells are the ones that also read `-c`.
var (
	shells       = map[string]bool{"sh": true, "bash": true, "dash": true, "ash": true, "zsh": true, "ksh": true, "mksh": true, "busybox": true}
	interpreters = map[string]bool{"python": true, "python2": true, "python3": true, "perl": true, "ruby": true, "node": true, "php": true, "pwsh": true}
)

func isInterpreter(name string) bool {
	return shells[name] || interpreters[name] || strings.HasPrefix(name, "python3.")
}

// passthrough commands hand their input on (decompressed, copied) to the
// next stage of a pipeline.
var passthrough = map[string]bool{"gunzip": true, "zcat": true, "bzcat": true, "xzcat": true, "gzip": true, "xz": true, "bzip2": true, "tee": true, "cat": true, "tr": true, "rev": true, "dos2unix": true}

// fetches: the command writes downloaded bytes, or decodes a payload, on
// its standard output. what names it for messages.
func fetches(c *command) (what string, ok bool) {
	switch c.name {
	case "curl":
		if hasFlag(c.args, "oO", "--output", "--remote-name") {
			return "", false
		}
		return "curl", true
	case "wget":
		for _, w := range c.args {
			if a := lit(w); a == "-O-" || a == "-qO-" || a == "-qO" || a == "--output-document=-" {
				return "wget", true
			}
		}
		for i, w := range c.args {
			if (lit(w) == "-O" || lit(w) == "-qO" || lit(w) == "--output-document") && i+1 < len(c.args) && lit(c.args[i+1]) == "-" {
				return "wget", true
			}
		}
		return "", false
	case "base64":
		if hasFlag(c.args, "dD", "--decode") {
			return "base64 --decode", true
		}
	case "base32":
		if hasFlag(c.args, "d", "--decode") {
			return "base32 --decode", true
		}
	case "xxd":
		if hasFlag(c.args, "r", "-revert") {
			return "xxd -r", true
		}
	case "openssl":
		if len(c.args) > 0 && (lit(c.args[0]) == "base64" || lit(c.args[0]) == "enc") && hasFlag(c.args[1:], "d") {
			return "openssl " + lit(c.args[0]) + " -d", true
		}
	}
	return "", false
}

// runsStdin says whether an interpreter runs the code on its standard
// input: no `-c`/`-e`/`-m` code argument and no script file (`-` is stdin).
func runsStdin(c *command) bool {
	for _, w := range c.args {
		a := lit(w)
		switch {
		case a == "-" || a == "--":
			return true
		case a == "-s" && shells[c.name]:
			return true
		case strings.HasPrefix(a, "--"):
		case strings.HasPrefix(a, "-") && len(a) > 1:
			if strings.ContainsAny(a[1:], "ceEm") || (c.name == "busybox") {
				return false
			}
		default:
			return false // a script file (or busybox's applet)
		}
	}
	return c.name != "busybox"
}

// runsArg returns the word an interpreter runs as code: the string of
// `sh -c`, `python -c`, `perl -e`, `node -e`, `ruby -e`, or the file of
// `source`/`.`/`sh FILE`, and `eval`'s arguments.
func runsArg(c *command) []*syntax.Word {
	switch {
	case c.name == "eval":
		return c.args
	case c.name == "source" || c.name == ".":
		if len(c.args) > 0 {
			return c.args[:1]
		}
	case isInterpreter(c.name):
		for i, w := range c.args {
			a := lit(w)
			if strings.HasPrefix(a, "-") && !strings.HasPrefix(a, "--") && strings.ContainsAny(a[1:], "ceE") && i+1 < len(c.args) {
				return c.args[i+1 : i+2]
			}
			if !strings.HasPrefix(a, "-") {
				return c.args[i : i+1] // the script file: <(curl …) runs what curl fetched
			}
		}
	}
	return nil
}

// fetchedIn says whether statements (a substitution's) end in a command
// that prints downloaded or decoded bytes.
func fetchedIn(stmts []*syntax.Stmt) (string, bool) {
	for _, st := range stmts {
		ss := stages(st)
		if c := callOf(ss[len(ss)-1]); c != nil {
			if what, ok := fetches(c); ok {
				return what, true
			}
		}
		// `$(curl … | gunzip)`: a fetch whose output only passes through
		if what, ok := fetchedThrough(ss); ok {
			return what, true
		}
	}
	return "", false
}

// fetchedThrough: a fetch followed only by passthrough stages.
func fetchedThrough(ss []*syntax.Stmt) (string, bool) {
	what := ""
	for _, st := range ss {
		c := callOf(st)
		if c == nil {
			what = ""
			continue
		}
		if w, ok := fetches(c); ok {
			what = w
		} else if !passthrough[c.name] {
			what = ""
		}
	}
	return what, what != ""
}

func downloadExec(p parsed) []check.Finding {
	var out []check.Finding
	pipelines(p.file, func(ss []*syntax.Stmt) {
		what := ""
		for _, st := range ss {
			c := callOf(st)
			if c == nil {
				what = ""
				continue
			}
			if what != "" && isInterpreter(c.name) && runsStdin(c) {
				out = append(out, p.at(st, "%s pipes what %s prints into %s, which runs it as code: code nobody reviewed runs in every build that inserts this Task", p.sc.Where, what, c.name))
				what = ""
				continue
			}
			if w, ok := fetches(c); ok {
				what = w
			} else if !passthrough[c.name] {
				what = ""
			}
		}
	})
	syntax.Walk(p.file, func(n syntax.Node) bool {
		st, ok := n.(*syntax.Stmt)
		if !ok {
			return true
		}
		c := callOf(st)
		if c == nil {
			return true
		}
		for _, w := range runsArg(c) {
			for _, stmts := range substs(w) {
				if what, ok := fetchedIn(stmts); ok {
					out = append(out, p.at(w, "%s runs, with %s, the code that %s prints: code nobody reviewed runs in every build that inserts this Task", p.sc.Where, c.name, what))
				}
			}
		}
		return true
	})
	return out
}
