package manifest

import (
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// Segment is one step of a field path: a field name, a sequence index, or a
// [key] that selects a list element by its `name` (Tekton's error form,
// e.g. `spec.params[IMAGE]`).
type Segment struct {
	Field          string
	Index          int // valid when IsIndex
	Key            string
	IsIndex, IsKey bool
}

// ParsePath splits a field path such as `spec.steps[1].env[0].value` or
// `metadata.annotations[tekton.dev/tags]` into segments.
func ParsePath(path string) []Segment {
	var segs []Segment
	for i := 0; i < len(path); {
		switch path[i] {
		case '.':
			i++
		case '[':
			end := strings.IndexByte(path[i:], ']')
			if end < 0 {
				segs = append(segs, Segment{Field: path[i+1:]})
				return segs
			}
			inner := path[i+1 : i+end]
			if n, err := strconv.Atoi(inner); err == nil && n >= 0 {
				segs = append(segs, Segment{Index: n, IsIndex: true})
			} else {
				segs = append(segs, Segment{Key: inner, IsKey: true})
			}
			i += end + 1
		default:
			end := strings.IndexAny(path[i:], ".[")
			if end < 0 {
				end = len(path) - i
			}
			segs = append(segs, Segment{Field: path[i : i+end]})
			i += end
		}
	}
	return segs
}

// Locate returns the node a field path names, or the deepest node on the
// way when the path leads somewhere the YAML does not have (a missing
// field is reported where it should have been). Field names match
// case-insensitively because Go validation errors sometimes use Go names
// (`Image`). When an index is absent from the path (json type errors say
// `spec.steps.image`), every element is tried.
func Locate(root *yaml.Node, path string) (node *yaml.Node, exact bool) {
	if root == nil {
		return nil, false
	}
	best, depth := root, 0
	var walk func(n *yaml.Node, segs []Segment, d int) bool
	walk = func(n *yaml.Node, segs []Segment, d int) bool {
		for n.Kind == yaml.AliasNode && n.Alias != nil {
			n = n.Alias
		}
		if d > depth {
			best, depth = n, d
		}
		if len(segs) == 0 {
			return true
		}
		s := segs[0]
		switch {
		case n.Kind == yaml.SequenceNode && s.IsIndex:
			if s.Index < len(n.Content) {
				return walk(n.Content[s.Index], segs[1:], d+1)
			}
		case n.Kind == yaml.SequenceNode && s.IsKey:
			for _, el := range n.Content {
				if v := mapValue(el, "name"); v != nil && v.Value == s.Key {
					return walk(el, segs[1:], d+1)
				}
			}
		case n.Kind == yaml.SequenceNode:
			// `spec.params.IMAGE.type`: a name used as a field
			for _, el := range n.Content {
				if v := mapValue(el, "name"); v != nil && v.Value == s.Field {
					return walk(el, segs[1:], d+1)
				}
			}
			// no index in the path: look for the first element where the rest resolves
			for _, el := range n.Content {
				if walk(el, segs, d+1) {
					return true
				}
			}
		case n.Kind == yaml.MappingNode && (s.IsKey || s.Field != ""):
			name := s.Field
			if s.IsKey {
				name = s.Key
			}
			if v := mapValue(n, name); v != nil {
				return walk(v, segs[1:], d+1)
			}
		}
		return false
	}
	exact = walk(root, ParsePath(path), 0)
	return best, exact
}

// mapValue finds a key in a mapping: exact match first, then case-insensitive.
func mapValue(n *yaml.Node, key string) *yaml.Node {
	for n.Kind == yaml.AliasNode && n.Alias != nil {
		n = n.Alias
	}
	if n.Kind != yaml.MappingNode {
		return nil
	}
	var fold *yaml.Node
	for i := 0; i+1 < len(n.Content); i += 2 {
		k := n.Content[i].Value
		if k == key {
			return n.Content[i+1]
		}
		if fold == nil && strings.EqualFold(k, key) {
			fold = n.Content[i+1]
		}
	}
	return fold
}

// MapKey returns the key node of a mapping entry (for pointing at `image:`
// rather than at its value), or nil.
func MapKey(n *yaml.Node, key string) *yaml.Node {
	if n == nil || n.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if strings.EqualFold(n.Content[i].Value, key) {
			return n.Content[i]
		}
	}
	return nil
}
