// Command taskgate is the admission gate for partner Tekton Tasks: the
// same checks on a laptop and in the validation Pipeline.
package main

import (
	"fmt"
	"io"
	"os"
)

// Exit statuses (DESIGN.md): 0 no error-level finding, 1 error-level
// findings, 2 bad usage or unreadable input.
const (
	exitOK       = 0
	exitFindings = 1
	exitUsage    = 2
)

type command struct {
	name  string
	usage string
	run   func(args []string, stdout, stderr io.Writer) int
}

var commands = []command{
	{"validate", "validate [PATH] [--changed-from REV [--author LOGIN] [--maintainers LIST|FILE] [--config-from-base]] [--format text|json|sarif|junit|markdown|github] [--output FILE] [--also FORMAT=FILE]... [--doc-base URL]", runValidate},
	{"discover", "discover [PATH] [--changed-from REV] [--result FILE]   (the submissions, or those a change touches)", runDiscover},
	{"integrate", "integrate [PATH] [--pipelines DIR] [--changed-from REV] --out DIR", runIntegrate},
	{"dry-run", "dry-run [PATH] [--kubeconfig FILE] [--context CTX] [--namespace NS] [--composed DIR] [--run [--timeout 10m] [--image REF] [--source DIR]] [--changed-from REV] [--format F] [--output FILE]", runDryRun},
	{"bundle", "bundle build|push|verify [REF] --task DIR [--repo PATH] (see `taskgate bundle`)", runBundle},
	{"report", "report --json FILE --markdown FILE --repo-url URL --pr N --sha SHA [--token-file FILE]   (post validate's result to a GitHub pull request)", runReport},
	{"revoke", "revoke TASK[/VERSION] [PATH] [--expires-on RFC3339] [--message TEXT] [--apply]", runRevoke},
	{"rules", "rules [--format text|markdown]   (every rule: id, severity, what it finds)", runRules},
	{"explain", "explain RULE   (a rule's help, with a rejected and a fixed example)", runExplain},
}

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		usage(stderr)
		if len(args) == 0 {
			return exitUsage
		}
		return exitOK
	}
	for _, c := range commands {
		if c.name == args[0] {
			return c.run(args[1:], stdout, stderr)
		}
	}
	fmt.Fprintf(stderr, "taskgate: unknown command %q\n", args[0])
	usage(stderr)
	return exitUsage
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "usage:")
	for _, c := range commands {
		fmt.Fprintf(w, "  taskgate %s\n", c.usage)
	}
}
