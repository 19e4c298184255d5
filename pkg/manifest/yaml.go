package manifest

import (
	"errors"
	"fmt"
	"io"
	"regexp"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// Limits bound what the loader accepts. Every limit breached becomes an
// input/limits problem instead of a crash, a hang or an out-of-memory.
type Limits struct {
	MaxFileBytes int64 // size of the file on disk
	MaxNodes     int   // YAML nodes after alias expansion (billion laughs)
	MaxDepth     int   // nesting depth after alias expansion
	// MaxScalarBytes bounds the bytes of keys and values after alias
	// expansion: one large string aliased a few thousand times stays under
	// MaxNodes and still decodes to gigabytes.
	MaxScalarBytes int64
}

// DefaultLimits are generous for real Tasks (the largest in the corpus is
// ~100 KB, ~4k nodes, depth < 15; without aliases its scalars hold fewer
// bytes than its file) and small enough to stop abuse early.
var DefaultLimits = Limits{MaxFileBytes: 1 << 20, MaxNodes: 200_000, MaxDepth: 64, MaxScalarBytes: 2 << 20}

var yamlLine = regexp.MustCompile(`line (\d+)`)

// parseDocument parses exactly one YAML document. It returns the document's
// root node (nil when unusable) and the problems found on the way.
func parseDocument(data []byte, lim Limits) (root *yaml.Node, problems []Problem) {
	defer func() {
		// yaml.v3 has panicked on crafted input before; a crash is never an answer.
		if r := recover(); r != nil {
			root = nil
			problems = append(problems, Problem{Rule: RuleSyntax, Line: 1, Column: 1,
				Message: fmt.Sprintf("the YAML parser failed on this file: %v", r),
				Help:    "simplify the YAML: plain mappings and sequences, no tags or exotic constructs"})
		}
	}()
	dec := yaml.NewDecoder(strings.NewReader(string(data)))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, []Problem{{Rule: RuleSyntax, Line: 1, Column: 1, Message: "the file is empty",
				Help: "put one Tekton resource (apiVersion, kind, metadata, spec) in the file"}}
		}
		return nil, []Problem{syntaxProblem(err, data)}
	}
	var extra yaml.Node
	switch err := dec.Decode(&extra); {
	case errors.Is(err, io.EOF):
	case err != nil:
		problems = append(problems, syntaxProblem(err, data))
	case len(extra.Content) > 0 && !isNullDoc(&extra):
		problems = append(problems, Problem{Rule: RuleSyntax, Line: extra.Line, Column: extra.Column,
			Message: "the file holds more than one YAML document",
			Help:    "keep exactly one resource per file: remove the `---` separator and move the other document to its own file"})
	}
	if len(doc.Content) == 0 {
		return nil, append(problems, Problem{Rule: RuleSyntax, Line: 1, Column: 1, Message: "the document is empty",
			Help: "put one Tekton resource (apiVersion, kind, metadata, spec) in the file"})
	}
	root = doc.Content[0]
	if p, ok := checkExpansion(root, lim); !ok {
		return nil, append(problems, p)
	}
	problems = append(problems, duplicateKeys(root)...)
	return root, problems
}

func isNullDoc(n *yaml.Node) bool {
	return len(n.Content) == 1 && n.Content[0].Kind == yaml.ScalarNode && n.Content[0].Tag == "!!null"
}

func syntaxProblem(err error, data []byte) Problem {
	msg := strings.TrimPrefix(err.Error(), "yaml: ")
	line := 1
	if m := yamlLine.FindStringSubmatch(msg); m != nil {
		if n, e := strconv.Atoi(m[1]); e == nil && n > 0 {
			line = n
		}
	}
	if lines := strings.Split(string(data), "\n"); line <= len(lines) {
		text := lines[line-1]
		if indent := text[:len(text)-len(strings.TrimLeft(text, " \t"))]; strings.Contains(indent, "\t") {
			msg += " (a tab indents this line: YAML indents with spaces only)"
		}
	}
	rule, help := RuleSyntax, "fix the YAML syntax at this line (indentation, quoting, a missing `:`); `yamllint` shows the same error locally"
	if strings.Contains(msg, "max depth") || strings.Contains(msg, "excessive aliasing") {
		rule, help = RuleLimits, "flatten the document: a Tekton resource never needs this much nesting or aliasing"
	}
	return Problem{Rule: rule, Line: line, Column: 1, Message: msg, Help: help}
}

// checkExpansion measures the tree as a consumer sees it, with every alias
// expanded, without expanding it: sizes are memoised per node, so a
// billion-laughs document costs as much as its text.
func checkExpansion(root *yaml.Node, lim Limits) (Problem, bool) {
	type measure struct {
		nodes, depth int
		bytes        int64
	}
	over := func(m measure) bool {
		return m.nodes > lim.MaxNodes || m.depth > lim.MaxDepth || m.bytes > lim.MaxScalarBytes
	}
	memo := map[*yaml.Node]measure{}
	onStack := map[*yaml.Node]bool{}
	var walk func(n *yaml.Node) (measure, *yaml.Node)
	walk = func(n *yaml.Node) (measure, *yaml.Node) {
		if m, ok := memo[n]; ok {
			return m, nil
		}
		if onStack[n] {
			return measure{lim.MaxNodes + 1, lim.MaxDepth + 1, 0}, n
		}
		onStack[n] = true
		defer delete(onStack, n)
		m := measure{nodes: 1, depth: 1, bytes: int64(len(n.Value))}
		children := n.Content
		if n.Kind == yaml.AliasNode && n.Alias != nil {
			children = []*yaml.Node{n.Alias}
			m = measure{}
		}
		for _, c := range children {
			cm, bad := walk(c)
			if bad != nil {
				return cm, bad
			}
			m.nodes += cm.nodes
			m.bytes += cm.bytes
			if cm.depth+1 > m.depth {
				m.depth = cm.depth + 1
			}
			if over(m) {
				return m, c
			}
		}
		memo[n] = m
		return m, nil
	}
	m, at := walk(root)
	if at == nil && over(m) { // a single scalar too large
		at = root
	}
	if at == nil {
		return Problem{}, true
	}
	if m.bytes > lim.MaxScalarBytes && m.nodes <= lim.MaxNodes && m.depth <= lim.MaxDepth {
		return Problem{Rule: RuleLimits, Line: at.Line, Column: at.Column,
			Message: fmt.Sprintf("the document expands to more than %d bytes of keys and values (alias expansion)", lim.MaxScalarBytes),
			Help:    "write values out instead of repeating a large anchored value through aliases (`&a`/`*a`); a Task never needs this much text"}, false
	}
	if m.depth > lim.MaxDepth && m.nodes <= lim.MaxNodes {
		return Problem{Rule: RuleLimits, Line: at.Line, Column: at.Column,
			Message: fmt.Sprintf("the document nests deeper than %d levels", lim.MaxDepth),
			Help:    "flatten the document: a Tekton resource never needs this much nesting"}, false
	}
	return Problem{Rule: RuleLimits, Line: at.Line, Column: at.Column,
		Message: fmt.Sprintf("the document expands to more than %d YAML nodes (alias expansion or sheer size)", lim.MaxNodes),
		Help:    "write values out instead of stacking anchors and aliases (`&a`/`*a`); a Task never needs this many"}, false
}

// duplicateKeys reports every key repeated within one mapping: YAML
// forbids it, and decoders silently keep one of the values.
func duplicateKeys(root *yaml.Node) []Problem {
	var out []Problem
	seen := map[*yaml.Node]bool{}
	var walk func(n *yaml.Node)
	walk = func(n *yaml.Node) {
		if n == nil || seen[n] {
			return
		}
		seen[n] = true
		if n.Kind == yaml.MappingNode {
			first := map[string]int{}
			for i := 0; i+1 < len(n.Content); i += 2 {
				k := n.Content[i]
				if k.Kind != yaml.ScalarNode || k.Value == "<<" {
					continue
				}
				if line, dup := first[k.Value]; dup {
					out = append(out, Problem{Rule: RuleSyntax, Line: k.Line, Column: k.Column,
						Message: fmt.Sprintf("duplicate key %q (first defined on line %d)", k.Value, line),
						Help:    "keep one of the two keys: YAML parsers silently drop one of them"})
				} else {
					first[k.Value] = k.Line
				}
			}
		}
		for _, c := range n.Content {
			walk(c)
		}
	}
	walk(root)
	return out
}

// toJSONValue converts a (bounded) node tree into plain Go values that
// encoding/json understands, resolving aliases and merge keys.
func toJSONValue(n *yaml.Node) (any, error) {
	switch n.Kind {
	case yaml.AliasNode:
		if n.Alias == nil {
			return nil, fmt.Errorf("line %d: unknown alias", n.Line)
		}
		return toJSONValue(n.Alias)
	case yaml.DocumentNode:
		if len(n.Content) == 0 {
			return nil, nil
		}
		return toJSONValue(n.Content[0])
	case yaml.SequenceNode:
		out := make([]any, 0, len(n.Content))
		for _, c := range n.Content {
			v, err := toJSONValue(c)
			if err != nil {
				return nil, err
			}
			out = append(out, v)
		}
		return out, nil
	case yaml.MappingNode:
		out := make(map[string]any, len(n.Content)/2)
		var merges []*yaml.Node
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			if k.Kind == yaml.ScalarNode && k.Value == "<<" && k.Tag == "!!merge" {
				merges = append(merges, v)
				continue
			}
			val, err := toJSONValue(v)
			if err != nil {
				return nil, err
			}
			out[k.Value] = val
		}
		for _, m := range merges {
			if err := mergeInto(out, m); err != nil {
				return nil, err
			}
		}
		return out, nil
	case yaml.ScalarNode:
		return scalarValue(n)
	}
	return nil, fmt.Errorf("line %d: unsupported YAML node", n.Line)
}

func mergeInto(out map[string]any, m *yaml.Node) error {
	for m.Kind == yaml.AliasNode && m.Alias != nil {
		m = m.Alias
	}
	sources := []*yaml.Node{m}
	if m.Kind == yaml.SequenceNode {
		sources = m.Content
	}
	for _, s := range sources {
		v, err := toJSONValue(s)
		if err != nil {
			return err
		}
		mm, ok := v.(map[string]any)
		if !ok {
			return fmt.Errorf("line %d: a merge key (<<) needs a mapping", s.Line)
		}
		for k, val := range mm {
			if _, set := out[k]; !set {
				out[k] = val
			}
		}
	}
	return nil
}

func scalarValue(n *yaml.Node) (any, error) {
	switch n.ShortTag() {
	case "!!null":
		return nil, nil
	case "!!bool", "!!int", "!!float":
		var v any
		if err := n.Decode(&v); err != nil {
			return nil, fmt.Errorf("line %d: %v", n.Line, err)
		}
		return v, nil
	case "!!str", "!!timestamp", "!!binary":
		return n.Value, nil
	}
	return n.Value, nil
}
