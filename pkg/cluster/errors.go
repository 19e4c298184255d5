package cluster

import (
	"errors"
	"fmt"
	"regexp"
	"strings"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"taskgate.dev/taskgate/pkg/check"
	"taskgate.dev/taskgate/pkg/manifest"
)

// Mapper says where an API field path of an object sent to the server is
// written: which file, and the path inside it. A composed Pipeline maps
// the embedded partner Task (`spec.tasks[3].taskSpec.steps[0]`) to the
// submission (`spec.steps[0]`) and the rest to its own file.
type Mapper func(apiPath string) (*manifest.File, string)

// Same maps every path to one file unchanged: an object sent as written.
func Same(f *manifest.File) Mapper {
	return func(p string) (*manifest.File, string) { return f, p }
}

// Embedded maps paths under prefix (an embedded Task spec such as
// `spec.tasks[3].taskSpec`) to `spec` of task, the rest to outer.
func Embedded(outer *manifest.File, prefix string, task *manifest.File) Mapper {
	return func(p string) (*manifest.File, string) {
		if rest, ok := strings.CutPrefix(p, prefix); ok && (rest == "" || rest[0] == '.' || rest[0] == '[') {
			return task, "spec" + rest
		}
		return outer, p
	}
}

// strictField matches the API server's strict decoding complaints
// (`fieldValidation=Strict`), in errors and in warnings:
// `unknown field "spec.steps[0].imagee"`, `duplicate field "x"`.
var strictField = regexp.MustCompile(`(unknown|duplicate) field "([^"]*)"`)

// Findings turns an API server error for one object into findings at the
// fields it names. Rejections of the object itself (400, 422) point at
// the offending field; anything else (no access, Tekton not installed, an
// unreachable server) is a finding that the dry-run could not run, at the
// top of the file: a check that cannot run is never silently passed.
func Findings(rule string, err error, m Mapper) []check.Finding {
	if err == nil {
		return nil
	}
	top, _ := m("")
	var st apierrors.APIStatus
	if !errors.As(err, &st) {
		return []check.Finding{cannotRun(rule, top, err)}
	}
	status := st.Status()
	switch status.Reason {
	case metav1.StatusReasonInvalid, metav1.StatusReasonBadRequest:
	default:
		return []check.Finding{cannotRun(rule, top, err)}
	}
	var out []check.Finding
	if status.Details != nil {
		for _, c := range status.Details.Causes {
			if c.Field == "" {
				continue
			}
			out = append(out, causeFinding(rule, c, m))
		}
	}
	out = append(out, strictFindings(rule, status.Message, check.Error, m)...)
	if len(out) == 0 {
		// a rejection naming no field: the message at the object
		out = append(out, check.Finding{Rule: rule, Severity: check.Error, File: top.Path, Line: 1, Column: 1,
			Message: "the API server rejects the object: " + status.Message, Help: helpRejected})
	}
	return out
}

// Warnings turns the API server's warnings for one object into findings:
// strict-decoding warnings (`unknown field`) at their field, others at the
// top of the file.
func Warnings(rule string, warnings []string, m Mapper) []check.Finding {
	top, _ := m("")
	var out []check.Finding
	for _, w := range warnings {
		if fs := strictFindings(rule, w, check.Warning, m); len(fs) > 0 {
			out = append(out, fs...)
			continue
		}
		out = append(out, check.Finding{Rule: rule, Severity: check.Warning, File: top.Path, Line: 1, Column: 1,
			Message: "the API server warns: " + w, Help: "address the warning: the next Kubernetes or Tekton version may reject the object"})
	}
	return out
}

const helpRejected = "fix the field as the message says: a cluster refuses the object exactly like this (`kubectl apply --dry-run=server` shows the same)"

func causeFinding(rule string, c metav1.StatusCause, m Mapper) check.Finding {
	f, path := m(c.Field)
	line, col := f.Pos(path)
	if c.Type == metav1.CauseTypeFieldValueNotFound {
		line, col = f.KeyPos(path)
	}
	msg := c.Message
	// some causes start with their field (`spec.x: Invalid value`), most not
	if !strings.HasPrefix(msg, c.Field) {
		msg = c.Field + ": " + msg
	}
	return check.Finding{Rule: rule, Severity: check.Error, File: f.Path, Line: line, Column: col,
		Message: "the API server rejects " + msg, Help: helpFor(c)}
}

func helpFor(c metav1.StatusCause) string {
	switch c.Type {
	case metav1.CauseTypeTypeInvalid:
		return "give the field the type the Tekton API expects (see the Tekton API reference)"
	case metav1.CauseTypeFieldValueRequired:
		return "add the required field"
	}
	if c.Field == "name" || strings.HasSuffix(c.Field, ".name") {
		return "use a lowercase RFC 1123 name: lowercase letters, digits and '-', starting and ending with a letter or digit, at most 63 characters"
	}
	return helpRejected
}

func strictFindings(rule, msg string, sev check.Severity, m Mapper) []check.Finding {
	var out []check.Finding
	for _, sm := range strictField.FindAllStringSubmatch(msg, -1) {
		f, path := m(sm[2])
		line, col := f.KeyPos(path)
		help := "remove the field or fix its spelling and indentation: the API has no such field"
		if sm[1] == "duplicate" {
			help = "keep one of the duplicated keys"
		}
		out = append(out, check.Finding{Rule: rule, Severity: sev, File: f.Path, Line: line, Column: col,
			Message: fmt.Sprintf("the API server rejects %s field %q", sm[1], sm[2]), Help: help})
	}
	return out
}

func cannotRun(rule string, f *manifest.File, err error) check.Finding {
	return check.Finding{Rule: rule, Severity: check.Error, File: f.Path, Line: 1, Column: 1,
		Message: "the dry-run could not run: " + err.Error(),
		Help:    "check --kubeconfig and the context it selects, that Tekton Pipelines (v1 CRDs) is installed, and that you may create Tasks, Pipelines and PipelineRuns in the namespace"}
}
