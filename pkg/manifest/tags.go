package manifest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
	kyaml "sigs.k8s.io/yaml"
)

// What is checked must be exactly what runs. Kubernetes (kubectl, the API
// server, Tekton's resolvers) reads YAML with sigs.k8s.io/yaml, a YAML 1.1
// decoder turned into JSON; the gate reads it with yaml.v3. Tags are where
// the two part ways on purpose (`script: !!binary <base64>` runs the
// decoded script while the text checked is base64), YAML 1.1 scalars
// (`yes`, `on`, `0777`) where they part by accident.

// harmlessTags are the standard tags both decoders read alike, on the kind
// of node they name; !!int, !!bool, !!null and !!float only where the
// value reads as that type without the tag too.
var harmlessTags = map[string]yaml.Kind{
	"!!str": yaml.ScalarNode, "!!int": yaml.ScalarNode, "!!bool": yaml.ScalarNode,
	"!!null": yaml.ScalarNode, "!!float": yaml.ScalarNode,
	"!!map": yaml.MappingNode, "!!seq": yaml.SequenceNode,
}

// checkTags reports every explicit tag but the harmless ones.
func checkTags(root *yaml.Node) []Problem {
	var out []Problem
	seen := map[*yaml.Node]bool{}
	stack := []*yaml.Node{root}
	for len(stack) > 0 {
		n := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if n == nil || seen[n] {
			continue
		}
		seen[n] = true
		stack = append(stack, n.Content...)
		if n.Style&yaml.TaggedStyle == 0 {
			continue
		}
		tag := n.ShortTag()
		if kind, ok := harmlessTags[tag]; ok && kind == n.Kind && (tag == "!!str" || kind != yaml.ScalarNode || untagged(n) == tag) {
			continue
		}
		p := Problem{Rule: RuleSyntax, Line: n.Line, Column: n.Column, Help: "remove the tag and write the value as plain YAML (a script as a `|` block)"}
		switch {
		case tag == "!!binary":
			p.Message = "`!!binary` makes Kubernetes decode the base64 text and run the result, while the gate would check the base64 text: the value is refused"
		case strings.HasPrefix(tag, "!!"):
			p.Message = fmt.Sprintf("the tag %s on this value may make Kubernetes' YAML decoder read it differently from the gate: explicit tags are refused, except !!str and tags that repeat what the value already is", tag)
		default:
			p.Message = fmt.Sprintf("the custom tag %s means nothing to Kubernetes' YAML decoder, which reads the value on its own terms: what the gate checks may not be what runs", tag)
		}
		out = append(out, p)
	}
	return out
}

// untagged is the tag a scalar would resolve to without its explicit tag.
func untagged(n *yaml.Node) string {
	if n.Style&(yaml.SingleQuotedStyle|yaml.DoubleQuotedStyle|yaml.LiteralStyle|yaml.FoldedStyle) != 0 {
		return "!!str"
	}
	plain := yaml.Node{Kind: yaml.ScalarNode, Value: n.Value}
	return plain.ShortTag()
}

// kubernetesDiffers decodes data as Kubernetes does and compares it with
// the JSON the gate decoded (ours). It returns a problem where the two
// part ways, at the field where they do.
func (f *File) kubernetesDiffers(ours []byte) (Problem, bool) {
	theirs, err := kyaml.YAMLToJSON(f.Data)
	if err != nil {
		line := 1
		if m := yamlLine.FindStringSubmatch(err.Error()); m != nil {
			line, _ = strconv.Atoi(m[1])
		}
		return Problem{Rule: RuleSyntax, Line: max(line, 1), Column: 1,
			Message: fmt.Sprintf("Kubernetes' YAML decoder (sigs.k8s.io/yaml) rejects this file: %v", strings.TrimPrefix(err.Error(), "error converting YAML to JSON: ")),
			Help:    "write plain YAML that kubectl accepts: no YAML 1.1 special forms, no non-string keys"}, true
	}
	// the same JSON text is the same values (creationTimestamp, dropped
	// from ours, makes them differ here): the common case, without
	// decoding both and walking them
	if bytes.Equal(ours, theirs) {
		return Problem{}, false
	}
	var a, b any
	if decodeNumbers(ours, &a) != nil || decodeNumbers(theirs, &b) != nil {
		return Problem{}, false // not JSON: reported where it is decoded
	}
	if meta, ok := b.(map[string]any)["metadata"].(map[string]any); ok {
		dropNonTekton(meta)
	}
	path, what, differs := firstDifference(a, b, "")
	if !differs {
		return Problem{}, false
	}
	line, col := f.Pos(path)
	return Problem{Rule: RuleSyntax, Line: line, Column: col,
		Message: fmt.Sprintf("Kubernetes' YAML decoder (YAML 1.1) reads %s differently from the gate: %s", orDocument(path), what),
		Help:    "quote the value (`\"yes\"`, `\"on\"`, `\"0777\"`) or write it as YAML 1.2 and YAML 1.1 both read it: what the gate checks must be what runs"}, true
}

func decodeNumbers(data []byte, v any) error {
	d := json.NewDecoder(bytes.NewReader(data))
	d.UseNumber()
	return d.Decode(v)
}

// firstDifference walks two JSON values together and names the first
// field path (in Locate's syntax) where they differ.
func firstDifference(a, b any, path string) (string, string, bool) {
	switch a := a.(type) {
	case map[string]any:
		bm, ok := b.(map[string]any)
		if !ok {
			break
		}
		var onlyA, onlyB, keys []string
		for k := range a {
			if _, ok := bm[k]; ok {
				keys = append(keys, k)
			} else {
				onlyA = append(onlyA, k)
			}
		}
		for k := range bm {
			if _, ok := a[k]; !ok {
				onlyB = append(onlyB, k)
			}
		}
		slices.Sort(keys)
		slices.Sort(onlyA)
		slices.Sort(onlyB)
		join := func(p, k string) string {
			if p == "" {
				return k
			}
			return p + "." + k
		}
		if len(onlyA)+len(onlyB) > 0 {
			switch {
			case len(onlyA) > 0 && len(onlyB) > 0:
				return join(path, onlyA[0]), fmt.Sprintf("Kubernetes reads the key %q where the gate reads %q", onlyB[0], onlyA[0]), true
			case len(onlyA) > 0:
				return join(path, onlyA[0]), fmt.Sprintf("Kubernetes does not read the key %q", onlyA[0]), true
			}
			return path, fmt.Sprintf("Kubernetes reads a key %q the gate does not see", onlyB[0]), true
		}
		for _, k := range keys {
			if p, what, d := firstDifference(a[k], bm[k], join(path, k)); d {
				return p, what, true
			}
		}
		return "", "", false
	case []any:
		bs, ok := b.([]any)
		if !ok || len(bs) != len(a) {
			break
		}
		for i := range a {
			if p, what, d := firstDifference(a[i], bs[i], path+"["+strconv.Itoa(i)+"]"); d {
				return p, what, true
			}
		}
		return "", "", false
	}
	if reflect.DeepEqual(a, b) {
		return "", "", false
	}
	return path, fmt.Sprintf("the gate reads %s, Kubernetes %s", brief(a), brief(b)), true
}

// brief shows a JSON value in a message, cut short.
func brief(v any) string {
	raw, _ := json.Marshal(v)
	if len(raw) > 60 {
		return string(raw[:57]) + "..."
	}
	return string(raw)
}
