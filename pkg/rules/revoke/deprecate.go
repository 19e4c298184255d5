package revoke

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
	"taskgate.dev/taskgate/pkg/manifest"
)

// Edit is a proposed change to one file: its new content and the change
// as a zero-context unified diff (`git apply --unidiff-zero` takes it).
type Edit struct {
	Path string
	Data []byte
	Diff string
}

// Deprecate sets the expiry annotations on a Task manifest, editing only
// the lines concerned so that comments and layout stay as they are.
func Deprecate(f *manifest.File, expires time.Time, message string) (*Edit, error) {
	if f.Root == nil || f.Data == nil {
		return nil, fmt.Errorf("%s does not parse: fix it before deprecating it", f.Path)
	}
	meta := f.Node("metadata")
	if meta == nil || meta.Kind != yaml.MappingNode || meta.Style&yaml.FlowStyle != 0 || len(meta.Content) == 0 {
		return nil, fmt.Errorf("%s: metadata is not a block mapping; add the %s and %s annotations by hand", f.Path, ExpiresOn, ExpiryMessage)
	}
	values := [][2]string{
		{ExpiresOn, strconv.Quote(expires.UTC().Format(time.RFC3339))},
		{ExpiryMessage, strconv.Quote(message)},
	}
	lines := strings.SplitAfter(string(f.Data), "\n")
	var edits []edit
	ann := f.Node("metadata.annotations")
	switch {
	case ann == nil:
		indent := strings.Repeat(" ", meta.Content[0].Column-1)
		ins := []string{indent + "annotations:\n"}
		for _, kv := range values {
			ins = append(ins, indent+"  "+kv[0]+": "+kv[1]+"\n")
		}
		// right after `metadata:`, before its first key
		edits = append(edits, edit{at: meta.Content[0].Line - 1, ins: ins})
	case ann.Kind != yaml.MappingNode || ann.Style&yaml.FlowStyle != 0 || len(ann.Content) == 0:
		return nil, fmt.Errorf("%s: metadata.annotations is not a block mapping; add the annotations by hand", f.Path)
	default:
		indent := strings.Repeat(" ", ann.Content[0].Column-1)
		var missing []string
		for _, kv := range values {
			line := indent + kv[0] + ": " + kv[1] + "\n"
			if k := manifest.MapKey(ann, kv[0]); k != nil {
				edits = append(edits, edit{at: k.Line - 1, del: blockEnd(lines, k) - (k.Line - 1), ins: []string{line}})
			} else {
				missing = append(missing, line)
			}
		}
		if len(edits) == 0 { // at the top of the annotations
			edits = append(edits, edit{at: ann.Content[0].Line - 1, ins: missing})
		} else { // next to the one already there
			edits[0].ins = append(edits[0].ins, missing...)
		}
	}
	out, diff := apply(lines, edits)
	return &Edit{Path: f.Path, Data: []byte(strings.Join(out, "")),
		Diff: fmt.Sprintf("--- a/%s\n+++ b/%s\n%s", f.Path, f.Path, diff)}, nil
}

// blockEnd is the 0-based index of the first line after a mapping entry:
// its value continues on the following lines indented deeper than the key.
func blockEnd(lines []string, key *yaml.Node) int {
	end := key.Line // the line after the key's
	for i := key.Line; i < len(lines); i++ {
		text := strings.TrimRight(lines[i], "\r\n")
		if strings.TrimSpace(text) == "" {
			continue
		}
		if len(text)-len(strings.TrimLeft(text, " ")) < key.Column {
			break
		}
		end = i + 1
	}
	return end
}

// edit replaces del lines at index at (0-based) with ins.
type edit struct {
	at, del int
	ins     []string
}

// apply applies non-overlapping edits and returns the new lines and their
// hunks.
func apply(lines []string, edits []edit) ([]string, string) {
	for i := 1; i < len(edits); i++ { // few edits: insertion sort by position
		for j := i; j > 0 && edits[j].at < edits[j-1].at; j-- {
			edits[j], edits[j-1] = edits[j-1], edits[j]
		}
	}
	var out []string
	var diff strings.Builder
	next, offset := 0, 0
	for _, e := range edits {
		out = append(out, lines[next:e.at]...)
		oldStart, newStart := e.at, e.at+offset
		if e.del > 0 {
			oldStart++
		}
		if len(e.ins) > 0 {
			newStart++
		}
		fmt.Fprintf(&diff, "@@ -%d,%d +%d,%d @@\n", oldStart, e.del, newStart, len(e.ins))
		for _, l := range lines[e.at : e.at+e.del] {
			diff.WriteString("-" + withNewline(l))
		}
		for _, l := range e.ins {
			diff.WriteString("+" + l)
		}
		out = append(out, e.ins...)
		next = e.at + e.del
		offset += len(e.ins) - e.del
	}
	return append(out, lines[next:]...), diff.String()
}

func withNewline(s string) string {
	if strings.HasSuffix(s, "\n") {
		return s
	}
	return s + "\n"
}
