// Package supply holds the rules on what a Task's scripts fetch and send
// at run time: code downloaded and run unseen (supply/download-exec),
// images and packages pulled by floating references (supply/floating-*),
// the pod's cluster credentials read (supply/cluster-credentials) and the
// environment or credentials sent to a host (supply/exfiltration). They
// read the parsed shell (pkg/rules/script), never the text: a comment or
// a string that merely names curl is not a command.
package supply

import "taskgate.dev/taskgate/pkg/check"

// Checks are the supply-chain rules, in catalog order.
var Checks = []*check.Check{DownloadExec, Exfiltration, ClusterCredentials, FloatingImage, FloatingPackage}

// image is a pinned image for the examples.
const image = "registry.access.redhat.com/ubi9/ubi-minimal@sha256:95413c8dacaac773421428947a431c1cb099d19b4b1125df77d5d1cd2f463ab8"

// example is a Task running one script, for Bad and Fixed.
func example(name, script string) string {
	return `apiVersion: tekton.dev/v1
kind: Task
metadata:
  name: ` + name + `
spec:
  steps:
    - name: run
      image: ` + image + `
      script: |
` + indent(script, "        ")
}

func indent(s, pre string) string {
	out := ""
	for _, l := range splitLines(s) {
		out += pre + l + "\n"
	}
	return out
}

func splitLines(s string) []string {
	var out []string
	for len(s) > 0 {
		i := 0
		for i < len(s) && s[i] != '\n' {
			i++
		}
		out = append(out, s[:i])
		if i < len(s) {
			i++
		}
		s = s[i:]
	}
	return out
}
