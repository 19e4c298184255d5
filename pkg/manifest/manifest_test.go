package manifest

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

const goodTask = `apiVersion: tekton.dev/v1
kind: Task
metadata:
  name: hello
spec:
  steps:
    - name: main
      image: alpine
      script: echo hi
`

// only keeps the problems of one rule.
func only(ps []Problem, rule string) []Problem {
	var out []Problem
	for _, p := range ps {
		if p.Rule == rule {
			out = append(out, p)
		}
	}
	return out
}

func mustOne(t *testing.T, f *File, rule string, line int, msgPart string) {
	t.Helper()
	got := only(f.Problems, rule)
	if len(got) != 1 {
		t.Fatalf("want one %s problem, got %+v (all: %+v)", rule, got, f.Problems)
	}
	if got[0].Line != line {
		t.Errorf("%s at line %d, want %d (%s)", rule, got[0].Line, line, got[0].Message)
	}
	if !strings.Contains(got[0].Message, msgPart) {
		t.Errorf("%s message %q does not mention %q", rule, got[0].Message, msgPart)
	}
	if got[0].Help == "" {
		t.Errorf("%s problem has no help", rule)
	}
}

func TestParseGoodTask(t *testing.T) {
	f := Parse("t.yaml", []byte(goodTask), DefaultLimits)
	if len(f.Problems) != 0 {
		t.Fatalf("problems: %+v", f.Problems)
	}
	if f.Task == nil || f.Task.Name != "hello" || f.Task.Spec.Steps[0].Image != "alpine" {
		t.Fatalf("task not decoded: %+v", f.Task)
	}
	if line, col := f.Pos("spec.steps[0].image"); line != 8 || col != 14 {
		t.Errorf("image at %d:%d, want 8:14", line, col)
	}
}

func TestV1beta1IsConverted(t *testing.T) {
	src := `apiVersion: tekton.dev/v1beta1
kind: Task
metadata:
  name: old
spec:
  steps:
    - name: main
      image: alpine
      resources:
        limits:
          memory: 1Gi
      script: echo hi
`
	f := Parse("t.yaml", []byte(src), DefaultLimits)
	if len(f.Problems) != 0 || f.Task == nil || !f.Converted {
		t.Fatalf("want a converted Task, got %+v problems %+v", f.Task, f.Problems)
	}
	if got := f.Task.Spec.Steps[0].ComputeResources.Limits.Memory().String(); got != "1Gi" {
		t.Errorf("v1beta1 step resources became computeResources %q, want 1Gi", got)
	}
}

func TestStrictDecoding(t *testing.T) {
	src := strings.Replace(goodTask, "      script: echo hi\n", "      scirpt: echo hi\n", 1)
	f := Parse("t.yaml", []byte(src), DefaultLimits)
	mustOne(t, f, RuleSchema, 9, `"spec.steps[0].scirpt"`)
	if p := only(f.Problems, RuleSchema)[0]; p.Column != 7 {
		t.Errorf("unknown field at column %d, want the key at 7", p.Column)
	}
	if f.Task == nil {
		t.Error("an unknown field must not hide the rest of the Task from later checks")
	}

	wrongType := strings.Replace(goodTask, "      image: alpine\n", "      image: [alpine]\n", 1)
	f = Parse("t.yaml", []byte(wrongType), DefaultLimits)
	mustOne(t, f, RuleSchema, 8, "image")
}

func TestSyntaxErrors(t *testing.T) {
	for _, tc := range []struct {
		name, src string
		line      int
		part      string
	}{
		{"bad indentation", "apiVersion: tekton.dev/v1\nkind: Task\n metadata: x\n", 3, "mapping values"},
		{"unclosed quote", "apiVersion: \"tekton.dev/v1\nkind: Task\n", 3, "found unexpected end of stream"},
		{"duplicate key", "apiVersion: tekton.dev/v1\nkind: Task\nkind: Pipeline\n", 3, `duplicate key "kind" (first defined on line 2)`},
		{"two documents", goodTask + "---\n" + goodTask, 10, "more than one YAML document"},
		{"empty", "", 1, "empty"},
		{"only a comment", "# nothing\n", 1, "empty"},
		{"tab indentation", "apiVersion: v1\nkind: Task\nspec:\n\tsteps: []\n", 4, "tab"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := Parse("t.yaml", []byte(tc.src), DefaultLimits)
			mustOne(t, f, RuleSyntax, tc.line, tc.part)
		})
	}
	// a document separator followed by nothing is one document
	f := Parse("t.yaml", []byte(goodTask+"---\n"), DefaultLimits)
	if len(f.Problems) != 0 {
		t.Errorf("trailing --- gave %+v", f.Problems)
	}
}

func TestBillionLaughs(t *testing.T) {
	var b strings.Builder
	b.WriteString("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n")
	for i := 1; i < 10; i++ {
		b.WriteString("a" + string(rune('0'+i)) + ": &a" + string(rune('0'+i)) + " [")
		for j := 0; j < 10; j++ {
			if j > 0 {
				b.WriteString(", ")
			}
			b.WriteString("*a" + string(rune('0'+i-1)))
		}
		b.WriteString("]\n")
	}
	f := Parse("bomb.yaml", []byte(b.String()), DefaultLimits)
	got := only(f.Problems, RuleLimits)
	if len(got) != 1 || !strings.Contains(got[0].Message, "expands to more than") {
		t.Fatalf("want an expansion limit problem, got %+v", f.Problems)
	}
	if f.Root != nil {
		t.Error("a bomb must not be handed to later checks")
	}
}

func TestNestingDepth(t *testing.T) {
	deep := strings.Repeat("[", 100) + strings.Repeat("]", 100)
	f := Parse("deep.yaml", []byte("a: "+deep+"\n"), DefaultLimits)
	got := only(f.Problems, RuleLimits)
	if len(got) != 1 || !strings.Contains(got[0].Message, "nests deeper than 64") {
		t.Fatalf("want a depth problem, got %+v", f.Problems)
	}
	// beyond the parser's own limit the answer is the same rule, not a crash
	f = Parse("deeper.yaml", []byte("a: "+strings.Repeat("[", 20000)+"\n"), DefaultLimits)
	if len(f.Problems) == 0 || f.Root != nil {
		t.Fatalf("want a problem for 20000 levels, got %+v", f.Problems)
	}
}

func TestNotUTF8(t *testing.T) {
	f := Parse("latin1.yaml", []byte("apiVersion: tekton.dev/v1\nkind: Task\nmetadata:\n  name: caf\xe9\n"), DefaultLimits)
	mustOne(t, f, RuleLimits, 4, "not valid UTF-8")
}

func TestFileSizeLimit(t *testing.T) {
	dir := t.TempDir()
	big := goodTask + "# " + strings.Repeat("x", int(DefaultLimits.MaxFileBytes)) + "\n"
	if err := os.WriteFile(filepath.Join(dir, "big.yaml"), []byte(big), 0o644); err != nil {
		t.Fatal(err)
	}
	f := Load(dir, "big.yaml", DefaultLimits)
	mustOne(t, f, RuleLimits, 1, "over the 1048576-byte limit")
	if f.Data != nil {
		t.Error("an oversized file must not be read")
	}
}

func TestPathsLeavingTheRepository(t *testing.T) {
	outside := t.TempDir()
	repo := t.TempDir()
	if err := os.WriteFile(filepath.Join(outside, "secret.yaml"), []byte(goodTask), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(filepath.Join(outside, "secret.yaml"), filepath.Join(repo, "link.yaml")); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(repo, "real.yaml"), []byte(goodTask), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("real.yaml", filepath.Join(repo, "inside.yaml")); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ rel, part string }{
		{"link.yaml", "symlink that leaves the repository"},
		{"../" + filepath.Base(outside) + "/secret.yaml", "leaves the repository"},
		{filepath.Join(outside, "secret.yaml"), "absolute"},
	} {
		f := Load(repo, tc.rel, DefaultLimits)
		mustOne(t, f, RuleLimits, 1, tc.part)
		if f.Data != nil {
			t.Errorf("%s: the file outside the repository was read", tc.rel)
		}
	}
	if f := Load(repo, "inside.yaml", DefaultLimits); len(f.Problems) != 0 || f.Task == nil {
		t.Errorf("a symlink inside the repository is fine, got %+v", f.Problems)
	}
}

func TestSpecialFilesDoNotHang(t *testing.T) {
	repo := t.TempDir()
	if err := syscall.Mkfifo(filepath.Join(repo, "fifo.yaml"), 0o644); err != nil {
		t.Skip("no mkfifo:", err)
	}
	f := Load(repo, "fifo.yaml", DefaultLimits) // would block forever if opened
	mustOne(t, f, RuleLimits, 1, "not a regular file")
	if err := os.Mkdir(filepath.Join(repo, "dir.yaml"), 0o755); err != nil {
		t.Fatal(err)
	}
	mustOne(t, Load(repo, "dir.yaml", DefaultLimits), RuleLimits, 1, "not a regular file")
}

func TestWrongKinds(t *testing.T) {
	for _, tc := range []struct{ src, part string }{
		{"- a\n- b\n", "not a mapping"},
		{"just a string\n", "not a mapping"},
	} {
		f := Parse("t.yaml", []byte(tc.src), DefaultLimits)
		mustOne(t, f, RuleKind, 1, tc.part)
	}
	// kinds the loader does not decode are left to the tekton/kind check
	f := Parse("cm.yaml", []byte("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n"), DefaultLimits)
	if len(f.Problems) != 0 || f.Kind != "ConfigMap" || f.Task != nil {
		t.Errorf("ConfigMap: %+v", f)
	}
}

func TestMergeKeysAndAliases(t *testing.T) {
	src := `apiVersion: tekton.dev/v1
kind: Task
metadata:
  name: merged
spec:
  stepTemplate: &tpl
    image: alpine
  steps:
    - <<: *tpl
      name: main
      script: echo hi
`
	f := Parse("t.yaml", []byte(src), DefaultLimits)
	if len(f.Problems) != 0 || f.Task == nil || f.Task.Spec.Steps[0].Image != "alpine" {
		t.Fatalf("merge key not applied: %+v %+v", f.Problems, f.Task)
	}
}

// One 200 KB string aliased 3,000 times is 3,000 nodes, far under
// MaxNodes, and 600 MB once decoded: the loader counts bytes too.
func TestAliasedStringBomb(t *testing.T) {
	src := "apiVersion: tekton.dev/v1\nkind: Task\nmetadata:\n  name: bomb\n  annotations:\n    big: &s " +
		strings.Repeat("x", 200_000) + "\nspec:\n  steps:\n    - name: s\n      image: alpine\n      args: [" +
		strings.TrimSuffix(strings.Repeat("*s, ", 3000), ", ") + "]\n"
	f := Parse("bomb.yaml", []byte(src), DefaultLimits)
	mustOne(t, f, RuleLimits, 11, "more than 2097152 bytes")
	if f.Root != nil || f.Task != nil {
		t.Error("a bomb must not be handed to later checks")
	}
	// the same string written out once is an ordinary (large) Task
	f = Parse("big.yaml", []byte(strings.Replace(src, strings.Repeat("*s, ", 2999), "", 1)), DefaultLimits)
	if len(f.Problems) != 0 || f.Task == nil {
		t.Errorf("one alias: %+v", f.Problems)
	}
}

// What the gate checks is what Kubernetes runs: tags and YAML 1.1 forms
// that sigs.k8s.io/yaml reads differently are yaml/syntax errors where
// they are written.
func TestReadLikeKubernetes(t *testing.T) {
	task := func(step string) string {
		return "apiVersion: tekton.dev/v1\nkind: Task\nmetadata:\n  name: t\nspec:\n  steps:\n    - name: s\n      image: alpine\n" + step
	}
	for name, c := range map[string]struct {
		src, want string // want: in the message; "" accepts
		line      int
	}{
		"binary script":              {task("      script: !!binary ZWNobyBoaQo=\n"), "`!!binary` makes Kubernetes decode", 9},
		"custom tag":                 {task("      script: !run echo hi\n"), "custom tag !run", 9},
		"custom tag on a mapping":    {task("      env: !vars\n        - {name: A, value: b}\n"), "custom tag !vars", 9},
		"int tag on a quoted string": {task("      workingDir: !!int \"12\"\n"), "the tag !!int", 9},
		"timestamp tag":              {task("      args: [!!timestamp 2001-12-14]\n"), "the tag !!timestamp", 9},
		"YAML 1.1 boolean":           {task("      args: [yes]\n"), `field spec.steps[0].args[0] differently from the gate: the gate reads "yes", Kubernetes true`, 9},
		"YAML 1.1 letter":            {task("      args: [a, n]\n"), `field spec.steps[0].args[1] differently`, 9},
		"YAML 1.1 key":               {task("      env: [{name: A, on: b}]\n"), `Kubernetes reads the key "true" where the gate reads "on"`, 9},
		"str tag":                    {task("      args: [!!str 12, !!str yes]\n"), "", 0},
		"redundant tags":             {task("      args: !!seq [a]\n      securityContext: !!map {runAsUser: !!int 1000, runAsNonRoot: !!bool true}\n"), "", 0},
	} {
		f := Parse("t.yaml", []byte(c.src), DefaultLimits)
		got := only(f.Problems, RuleSyntax)
		switch {
		case c.want == "" && len(got) != 0:
			t.Errorf("%s: refused: %+v", name, got)
		case c.want != "" && (len(got) != 1 || got[0].Line != c.line || !strings.Contains(got[0].Message, c.want) || got[0].Help == ""):
			t.Errorf("%s: got %+v, want one problem at line %d with %q", name, got, c.line, c.want)
		}
	}
}

// A file of the maintainers' own is parsed alike, but neither decoded nor
// compared with Kubernetes' YAML 1.1 reading; a refused tag is still refused.
func TestLoadOwnIsNotComparedWithKubernetes(t *testing.T) {
	dir := t.TempDir()
	src := "apiVersion: tekton.dev/v1\nkind: Task\nmetadata:\n  name: t\nspec:\n  results:\n    - name: on\n  steps:\n    - name: s\n      image: alpine\n      args: [yes]\n"
	if err := os.WriteFile(filepath.Join(dir, "t.yaml"), []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	if got := only(Load(dir, "t.yaml", DefaultLimits).Problems, RuleSyntax); len(got) != 1 {
		t.Fatalf("Load: %+v, want the YAML 1.1 difference", got)
	}
	f := LoadOwn(dir, "t.yaml", DefaultLimits)
	if len(f.Problems) != 0 || f.Task != nil || f.Kind != "Task" || f.Node("spec.results[0].name").Value != "on" {
		t.Errorf("LoadOwn: %+v, kind %q, task %v", f.Problems, f.Kind, f.Task)
	}
	if err := os.WriteFile(filepath.Join(dir, "t.yaml"), []byte(src+"      script: !run echo hi\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if got := only(LoadOwn(dir, "t.yaml", DefaultLimits).Problems, RuleSyntax); len(got) != 1 || !strings.Contains(got[0].Message, "custom tag !run") {
		t.Errorf("LoadOwn with a custom tag: %+v", got)
	}
}
