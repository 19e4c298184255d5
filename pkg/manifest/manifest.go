// Package manifest loads one YAML manifest of a catalog repository with
// every field mapped back to file:line:column, decodes it strictly into
// tektoncd/pipeline types (v1beta1 converted to v1 by Tekton's own
// conversion) and turns every way a file can be bad into a Problem
// instead of a crash or a hang.
package manifest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"regexp"
	"strings"
	"unicode/utf8"

	v1 "github.com/tektoncd/pipeline/pkg/apis/pipeline/v1"
	"github.com/tektoncd/pipeline/pkg/apis/pipeline/v1alpha1"
	"github.com/tektoncd/pipeline/pkg/apis/pipeline/v1beta1"
	"gopkg.in/yaml.v3"
	kjson "sigs.k8s.io/json"
)

// Rules the loader reports under (the ids of the public rule catalog).
const (
	RuleSyntax = "yaml/syntax"
	RuleLimits = "input/limits"
	RuleKind   = "tekton/kind"
	RuleSchema = "tekton/schema"
)

// Problem is something wrong with the file itself, found while loading.
type Problem struct {
	Path         string // repo-relative file; empty means the manifest itself
	Rule         string
	Line, Column int
	Message      string
	Help         string
}

// File is one loaded manifest.
type File struct {
	Path string     // repository-relative, slash-separated
	Data []byte     // the bytes read (nil when the file was refused)
	Root *yaml.Node // the document's top node; nil when unusable

	APIVersion, Kind, Name string

	// Decoded objects; at most one is set. Task is always v1 (converted
	// from v1beta1 when needed, see Converted).
	Task       *v1.Task
	StepAction *v1beta1.StepAction
	Pipeline   *v1.Pipeline
	Converted  bool

	Problems []Problem
}

// Pos maps a field path (`spec.steps[0].image`) to line and column. It
// never returns a line below 1: an unknown path points at the document.
func (f *File) Pos(path string) (line, col int) {
	n, _ := Locate(f.Root, path)
	if n == nil {
		return 1, 1
	}
	return n.Line, n.Column
}

// KeyPos is Pos for the key of a mapping entry (`image:` rather than its
// value): where an unknown or offending field is written.
func (f *File) KeyPos(path string) (line, col int) {
	segs := ParsePath(path)
	if n := len(segs); n > 0 && segs[n-1].Field != "" {
		if parent, ok := Locate(f.Root, path[:strings.LastIndex(path, segs[n-1].Field)]); ok {
			if k := MapKey(parent, segs[n-1].Field); k != nil {
				return k.Line, k.Column
			}
		}
	}
	return f.Pos(path)
}

// Node returns the node at a field path when it exists exactly.
func (f *File) Node(path string) *yaml.Node {
	n, ok := Locate(f.Root, path)
	if !ok {
		return nil
	}
	return n
}

func (f *File) problem(rule string, line, col int, help, format string, args ...any) {
	if line < 1 {
		line, col = 1, 1
	}
	if col < 1 {
		col = 1
	}
	f.Problems = append(f.Problems, Problem{Rule: rule, Line: line, Column: col, Message: fmt.Sprintf(format, args...), Help: help})
}

// Load reads rel (a path relative to repo) and parses it. Paths that leave
// the repository, directly or through symlinks, are refused unread.
func Load(repo, rel string, lim Limits) *File { return load(repo, rel, lim, true) }

// LoadOwn is Load for a file of the maintainers' own that the gate reads
// but does not judge (the Tasks the build pipelines run, read for their
// results): parsed under the same limits, but not decoded into Tekton's
// types (the reader decodes the part it needs from Root), nor read a second
// time the way Kubernetes' YAML 1.1 decoder reads it, which guards against
// what a partner could hide from the gate.
func LoadOwn(repo, rel string, lim Limits) *File { return load(repo, rel, lim, false) }

// load reads and parses rel; judged files are also decoded and compared
// with Kubernetes' reading.
func load(repo, rel string, lim Limits, judged bool) *File {
	f := &File{Path: filepath.ToSlash(filepath.Clean(rel))}
	data, err := ReadFile(repo, rel, lim.MaxFileBytes)
	if err != nil {
		re := err.(*ReadError)
		f.problem(RuleLimits, 1, 1, re.Help, "%s", re.Message)
		return f
	}
	f.parse(data, lim, judged)
	return f
}

// Parse loads a manifest from memory (path is only used in reports).
func Parse(path string, data []byte, lim Limits) *File {
	f := &File{Path: path}
	if int64(len(data)) > lim.MaxFileBytes {
		f.problem(RuleLimits, 1, 1, "split the resource or move large content into an image", "the file is %d bytes, over the %d-byte limit", len(data), lim.MaxFileBytes)
		return f
	}
	f.parse(data, lim, true)
	return f
}

// Resolve turns a repository-relative path into an absolute one, refusing
// any path that leaves the repository, including through symlinks.
func Resolve(repo, rel string) (string, error) {
	if filepath.IsAbs(rel) {
		return "", fmt.Errorf("path %q is absolute: only paths inside the repository are read", rel)
	}
	clean := filepath.Clean(rel)
	if escapes(clean) {
		return "", fmt.Errorf("path %q leaves the repository", rel)
	}
	root, err := filepath.EvalSymlinks(repo)
	if err != nil {
		return "", fmt.Errorf("repository %q: %v", repo, err)
	}
	real, err := filepath.EvalSymlinks(filepath.Join(root, clean))
	if err != nil {
		return "", fmt.Errorf("path %q: %v", rel, err)
	}
	if inside, _ := filepath.Rel(root, real); inside == ".." || strings.HasPrefix(inside, ".."+string(filepath.Separator)) || filepath.IsAbs(inside) {
		return "", fmt.Errorf("path %q is a symlink that leaves the repository (to %s)", rel, real)
	}
	return real, nil
}

func (f *File) parse(data []byte, lim Limits, judged bool) {
	if !utf8.Valid(data) {
		line := 1 + bytes.Count(data[:firstInvalidUTF8(data)], []byte("\n"))
		f.problem(RuleLimits, line, 1, "save the file as UTF-8 (Kubernetes and Tekton read manifests as UTF-8)", "the file is not valid UTF-8")
		return
	}
	f.Data = data
	root, problems := parseDocument(data, lim)
	f.Problems = append(f.Problems, problems...)
	f.Root = root
	if root == nil {
		return
	}
	if root.Kind != yaml.MappingNode {
		f.problem(RuleKind, root.Line, root.Column, "a manifest is a mapping with apiVersion, kind, metadata and spec", "the document is not a mapping (a Kubernetes resource)")
		return
	}
	if v := mapValue(root, "apiVersion"); v != nil {
		f.APIVersion = v.Value
	}
	if v := mapValue(root, "kind"); v != nil {
		f.Kind = v.Value
	}
	if v := f.Node("metadata.name"); v != nil {
		f.Name = v.Value
	}
	tags := checkTags(root)
	f.Problems = append(f.Problems, tags...)
	if judged {
		// a refused tag is reported once, not again as a difference
		f.decode(len(tags) == 0)
	}
}

func firstInvalidUTF8(b []byte) int {
	for i := 0; i < len(b); {
		r, n := utf8.DecodeRune(b[i:])
		if r == utf8.RuneError && n <= 1 {
			return i
		}
		i += n
	}
	return len(b)
}

// decode strictly decodes Tekton kinds it knows. Unknown kinds are left
// for the tekton/kind check to judge. compare also reports where
// Kubernetes' decoder would read the file differently.
func (f *File) decode(compare bool) {
	var target any
	switch {
	case f.Kind == "Task" && f.APIVersion == "tekton.dev/v1":
		f.Task = &v1.Task{}
		target = f.Task
	case f.Kind == "Task" && f.APIVersion == "tekton.dev/v1beta1":
		target = &v1beta1.Task{}
	case f.Kind == "StepAction" && f.APIVersion == "tekton.dev/v1beta1":
		f.StepAction = &v1beta1.StepAction{}
		target = f.StepAction
	case f.Kind == "StepAction" && f.APIVersion == "tekton.dev/v1alpha1":
		target = &v1alpha1.StepAction{}
	case f.Kind == "Pipeline" && f.APIVersion == "tekton.dev/v1":
		f.Pipeline = &v1.Pipeline{}
		target = f.Pipeline
	case f.Kind == "Pipeline" && f.APIVersion == "tekton.dev/v1beta1":
		target = &v1beta1.Pipeline{}
	default:
		return
	}
	val, err := toJSONValue(f.Root)
	if err != nil {
		f.problem(RuleSyntax, 1, 1, "write plain YAML values", "%v", err)
		f.Task, f.StepAction, f.Pipeline = nil, nil, nil
		return
	}
	if meta, ok := val.(map[string]any)["metadata"].(map[string]any); ok {
		dropNonTekton(meta)
	}
	raw, err := json.Marshal(val)
	if err != nil {
		f.problem(RuleSchema, 1, 1, "use values JSON can carry (no .inf/.nan)", "the manifest cannot be converted to JSON: %v", err)
		f.Task, f.StepAction, f.Pipeline = nil, nil, nil
		return
	}
	if compare {
		if p, differs := f.kubernetesDiffers(raw); differs {
			f.Problems = append(f.Problems, p)
		}
	}
	if !f.strictDecode(raw, target) {
		f.Task, f.StepAction, f.Pipeline = nil, nil, nil
		return
	}
	ctx := context.Background()
	switch src := target.(type) {
	case *v1beta1.Task:
		f.Task = &v1.Task{}
		if err := src.ConvertTo(ctx, f.Task); err != nil {
			f.problem(RuleSchema, 1, 1, "write the Task as tekton.dev/v1 (see https://tekton.dev/docs/pipelines/migrating-v1beta1-to-v1/)", "Tekton cannot convert this v1beta1 Task to v1: %v", err)
			f.Task = nil
			return
		}
		f.Converted = true
	case *v1alpha1.StepAction:
		f.StepAction = &v1beta1.StepAction{}
		if err := src.ConvertTo(ctx, f.StepAction); err != nil {
			f.problem(RuleSchema, 1, 1, "write the StepAction as tekton.dev/v1beta1", "Tekton cannot convert this v1alpha1 StepAction: %v", err)
			f.StepAction = nil
			return
		}
		f.Converted = true
	case *v1beta1.Pipeline:
		f.Pipeline = &v1.Pipeline{}
		if err := src.ConvertTo(ctx, f.Pipeline); err != nil {
			f.problem(RuleSchema, 1, 1, "write the Pipeline as tekton.dev/v1", "Tekton cannot convert this v1beta1 Pipeline to v1: %v", err)
			f.Pipeline = nil
			return
		}
		f.Converted = true
	}
}

// dropNonTekton removes metadata fields the API server fills in and that a
// manifest in git legitimately may not carry in typed form.
func dropNonTekton(meta map[string]any) {
	delete(meta, "creationTimestamp")
}

var (
	strictField = regexp.MustCompile(`^(unknown|duplicate) field "(.*)"$`)
	typeField   = regexp.MustCompile(`Go struct field [A-Za-z0-9_]+\.([^ ]+) of type`)
)

// strictDecode decodes like the API server: unknown and duplicate fields
// and wrong types are problems at the line of the field. It reports false
// when the object could not be decoded (a wrong type).
func (f *File) strictDecode(raw []byte, target any) bool {
	strict, err := kjson.UnmarshalStrict(raw, target)
	ok := true
	if err != nil {
		ok = false
		path := ""
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) {
			path = te.Field
		} else if m := typeField.FindStringSubmatch(err.Error()); m != nil {
			path = m[1]
		}
		line, col := f.Pos(path)
		f.problem(RuleSchema, line, col, "give the field the type the Tekton API expects (see `kubectl explain` or the Tekton API reference)", "%s does not decode: %v", orDocument(path), err)
	}
	for _, e := range strict {
		m := strictField.FindStringSubmatch(e.Error())
		if m == nil {
			f.problem(RuleSchema, 1, 1, "remove the field", "%v", e)
			continue
		}
		line, col := f.KeyPos(m[2])
		if m[1] == "unknown" {
			// the API server rejects unknown fields; the rest of the object
			// decoded fine, so later checks still see it
			f.problem(RuleSchema, line, col, "remove the field or fix its spelling and indentation: the Tekton "+f.APIVersion+" "+f.Kind+" API has no such field", "unknown field %q", m[2])
		}
		// duplicate fields are already reported by yaml/syntax
	}
	return ok
}

func orDocument(path string) string {
	if path == "" {
		return "the document"
	}
	return "field " + path
}
