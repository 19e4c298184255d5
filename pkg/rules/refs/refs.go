// Package refs holds the rules on the references inside a Task: every
// `$(params.*)`, `$(results.*)` and `$(workspaces.*)` in any field must
// name something the Task declares (Tekton's own validation looks at the
// step fields only: a secretKeyRef name, a volume or a sidecar pointing
// nowhere passes it, and the TaskRun never starts); env names must not
// repeat; every param should be used.
package refs

import (
	"regexp"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
	"taskgate.dev/taskgate/pkg/check"
	"taskgate.dev/taskgate/pkg/manifest"
)

// Checks are the reference rules, in catalog order.
var Checks = []*check.Check{Undefined, DuplicateEnv, UnusedParam}

// ref is one variable reference in a scalar of the manifest.
type ref struct {
	kind, name string // "params", "results", "workspaces"
	text       string // as written: $(params.x)
	path       string // field path of the scalar
	node       *yaml.Node
	off        int // byte offset of the reference in the scalar
}

var varRef = regexp.MustCompile(`\$\((?:inputs\.)?(params|results|workspaces)(?:\.([^.\[\]()\s]+)|\[["']([^"']+)["']\])`)

// references lists the references of the manifest's spec, leaving out
// descriptions (prose, where `$(params.x)` is documentation).
func references(m *manifest.File) []ref {
	var out []ref
	spec := value(m.Root, "spec")
	if spec == nil {
		return nil
	}
	var walk func(n *yaml.Node, p string)
	walk = func(n *yaml.Node, p string) {
		switch n.Kind {
		case yaml.MappingNode:
			for i := 0; i+1 < len(n.Content); i += 2 {
				k := n.Content[i].Value
				if k == "description" {
					continue
				}
				walk(n.Content[i+1], p+"."+k)
			}
		case yaml.SequenceNode:
			for i, c := range n.Content {
				walk(c, p+"["+strconv.Itoa(i)+"]")
			}
		case yaml.ScalarNode:
			for _, mt := range varRef.FindAllStringSubmatchIndex(n.Value, -1) {
				name := ""
				if mt[4] >= 0 {
					name = n.Value[mt[4]:mt[5]]
				} else {
					name = n.Value[mt[6]:mt[7]]
				}
				out = append(out, ref{kind: n.Value[mt[2]:mt[3]], name: name, text: n.Value[mt[0]:mt[1]], path: p, node: n, off: mt[0]})
			}
		}
	}
	walk(spec, "spec")
	return out
}

// value finds a key of a mapping node.
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

// pos is the line and column of a reference: inside a one-line scalar,
// the reference itself; else the scalar.
func (r ref) pos() (int, int) {
	n := r.node
	if strings.Contains(n.Value, "\n") {
		return n.Line, n.Column
	}
	switch n.Style {
	case 0:
		return n.Line, n.Column + r.off
	case yaml.DoubleQuotedStyle, yaml.SingleQuotedStyle:
		if !strings.ContainsAny(n.Value, `'"\`) {
			return n.Line, n.Column + 1 + r.off
		}
	}
	return n.Line, n.Column
}

// image is a pinned image for the examples.
const image = "registry.access.redhat.com/ubi9/ubi-minimal@sha256:95413c8dacaac773421428947a431c1cb099d19b4b1125df77d5d1cd2f463ab8"
