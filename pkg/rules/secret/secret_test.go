package secret

import (
	"bytes"
	"fmt"
	"reflect"
	"sort"
	"strings"
	"testing"

	"github.com/pelletier/go-toml/v2"
	"github.com/spf13/viper"
	"github.com/zricethezav/gitleaks/v8/config"
	"github.com/zricethezav/gitleaks/v8/detect"
	"taskgate.dev/taskgate/internal/ruletest"
	"taskgate.dev/taskgate/internal/testrepo"
	"taskgate.dev/taskgate/pkg/catalog"
	"taskgate.dev/taskgate/pkg/check"
	"taskgate.dev/taskgate/pkg/manifest"
	"taskgate.dev/taskgate/pkg/report"
)

// fakeToken has the shape of a GitHub token and grants nothing. It is
// built from pieces so that no scanner finds it in this source file.
var fakeToken = "ghp_" + "R2n9xQ7vLk4mW8pZ3sT6yB1cD5fH0jA9eU2i"

func corpusDir(t *testing.T, repo string) string { return testrepo.Corpus(t, repo) }

func corpusSub(t *testing.T, repo, dir string) *catalog.Submission {
	t.Helper()
	r, err := catalog.Open(corpusDir(t, repo))
	if err != nil {
		t.Fatal(err)
	}
	s, err := r.Submission(dir)
	if err != nil || s.Manifest == nil || s.Manifest.Root == nil {
		t.Fatalf("%s/%s: %v", repo, dir, err)
	}
	return s
}

func sub(t *testing.T, doc string) *catalog.Submission {
	t.Helper()
	m := manifest.Parse("partners/t/0.1/t.yaml", []byte(doc), manifest.DefaultLimits)
	if m.Root == nil {
		t.Fatalf("manifest does not load: %+v", m.Problems)
	}
	return &catalog.Submission{Layout: "partners", Name: "t", Version: "0.1", Dir: "partners/t/0.1", TaskPath: m.Path, Manifest: m}
}

// at lists the positions of findings, and fails on findings of another
// severity than the check's.
func at(t *testing.T, c *check.Check, fs []check.Finding) []string {
	t.Helper()
	var out []string
	for _, f := range fs {
		out = append(out, fmt.Sprintf("%d:%d", f.Line, f.Column))
		if f.Severity != 0 && f.Severity != c.Severity {
			t.Errorf("%s: severity %s", f, f.Severity)
		}
	}
	return out
}

func TestExamples(t *testing.T) {
	for _, c := range Checks {
		t.Run(c.ID, func(t *testing.T) {
			if c.Bad == "" || c.Fixed == "" {
				t.Fatal("Bad and Fixed are required")
			}
			if fs := check.Apply(c, sub(t, c.Bad)); len(fs) == 0 {
				t.Error("Bad does not fire the rule")
			}
			if fs := check.Apply(c, sub(t, c.Fixed)); len(fs) != 0 {
				t.Errorf("Fixed fires the rule: %v", fs)
			}
		})
	}
}

func TestLeaked(t *testing.T) {
	hello := ruletest.TestdataSub(t, "build-definitions", "partners/hello-summary/0.1")
	if fs := check.Apply(Leaked, hello); len(fs) != 0 {
		t.Fatalf("hello-summary: %v", fs)
	}

	// the same Task, with a token pasted into its env
	data := bytes.Replace(hello.Manifest.Data, []byte(`value: $(params.message)`), []byte(`value: "`+fakeToken+`"`), 1)
	if bytes.Equal(data, hello.Manifest.Data) {
		t.Fatal("the testdata Task changed: fix the test")
	}
	leaky := sub(t, string(data))
	fs := check.Apply(Leaked, leaky)
	if got := at(t, Leaked, fs); !reflect.DeepEqual(got, []string{"24:15"}) {
		t.Fatalf("leaked token at %v, want 24:15: %v", got, fs)
	}
	if !strings.Contains(fs[0].Message, "ghp_…") || !strings.Contains(fs[0].Message, "github-pat") {
		t.Errorf("message: %s", fs[0].Message)
	}

	// the raw secret appears in no output of the finding, in any format
	checkNoSecret(t, leaky, fakeToken)

	// gitleaks' own way to silence a line is no way past the gate
	allowed := sub(t, strings.Replace(string(data), fakeToken+`"`, fakeToken+`" # gitleaks:allow`, 1))
	if got := at(t, Leaked, check.Apply(Leaked, allowed)); !reflect.DeepEqual(got, []string{"24:15"}) {
		t.Errorf("gitleaks:allow: %v", got)
	}
}

// checkNoSecret runs the check through the driver and every report
// format and looks for the secret, and for its second half alone.
func checkNoSecret(t *testing.T, s *catalog.Submission, secret string) {
	t.Helper()
	res := check.Run([]*catalog.Submission{s}, Checks, nil)
	if res.Count(check.Error) == 0 {
		t.Fatal("no error found")
	}
	for _, f := range res.Findings() {
		for _, text := range []string{f.Message, f.Help, f.String()} {
			if strings.Contains(text, secret[len(secret)/2:]) {
				t.Errorf("the secret is in the finding: %s", text)
			}
		}
	}
	for _, format := range report.Formats {
		var buf bytes.Buffer
		if err := report.Write(&buf, format, res); err != nil {
			t.Fatalf("%s: %v", format, err)
		}
		if bytes.Contains(buf.Bytes(), []byte(secret[len(secret)/2:])) {
			t.Errorf("the secret is in the %s report", format)
		}
	}
}

func TestRedact(t *testing.T) {
	for in, want := range map[string]string{
		fakeToken:           "ghp_…",
		"admin":             "a…",
		"abc":               "…",
		"ééééééééééééééééé": "éééé…",
	} {
		if got := Redact(in); got != want {
			t.Errorf("Redact(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestScanLikeGitleaks: scanning only the lines with keywords, with only
// the rules whose keywords the text holds, finds what gitleaks with all
// its default rules finds in the whole text, at the same lines (the
// corpus sweep compares every manifest of the corpus too).
func TestScanLikeGitleaks(t *testing.T) {
	pem := "-----BEGIN RSA " + "PRIVATE KEY-----\n" + strings.Repeat("MIIEowIBAAKCAQEAu1SU1LfVLPHCozMxH2Mo4lgOEePzNm0tRgeLezV6ffAt0gun\n", 4) + "-----END RSA " + "PRIVATE KEY-----\n"
	text := strings.Join([]string{
		"apiVersion: tekton.dev/v1",
		"kind: Task",
		"spec:",
		"  steps:",
		"    - script: |",
		"        export GITHUB_TOKEN=" + fakeToken,
		"        aws configure set aws_access_key_id " + "AKIA" + "Z7QX3M4KT2WB6YHN",
		"        curl -d @x https://hooks.slack.com/services/" + "T0ABC1DEF/B0ABC2GHI/" + "q8Wz3xLpR7vN2mKt5YbJ9cHd",
		"  db:",
		"    password:", // the value on the next line: that line is scanned too
		"    Zq8vW3xL9pR2mK7tN5bJ",
		"",
	}, "\n")
	n := scanLikeGitleaks(t, map[string]string{"hand-made": text, "hand-made with a key": text + pem, "no keyword": "kind: Task\n"})
	if n < 4 {
		t.Fatalf("gitleaks finds too little for the test to mean something: %d leaks", n)
	}
}

// scanLikeGitleaks compares the scanner's leaks in each text with those
// of gitleaks with every default rule compiled up front, and returns how
// many there were.
func scanLikeGitleaks(t *testing.T, texts map[string]string) int {
	t.Helper()
	full, err := detect.NewDetectorDefaultConfig()
	if err != nil {
		t.Fatal(err)
	}
	full.IgnoreGitleaksAllow = true
	d := mustScanner(t)
	n := 0
	for name, text := range texts {
		var want []leak
		for _, f := range full.DetectString(text) {
			want = append(want, leak{line: f.StartLine + 1, rule: f.RuleID, secret: f.Secret})
		}
		got, err := d.scan(text)
		if err != nil {
			t.Fatal(err)
		}
		for _, ls := range [][]leak{got, want} {
			sort.Slice(ls, func(i, j int) bool { return fmt.Sprint(ls[i]) < fmt.Sprint(ls[j]) })
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s: scan:\n%v\ngitleaks:\n%v", name, got, want)
		}
		n += len(want)
	}
	return n
}

// The default config read without viper is the config viper reads, and
// a text without any rule's keyword compiles no rule.
func TestDefaultConfig(t *testing.T) {
	v := viper.New()
	v.SetConfigType("toml")
	if err := v.ReadConfig(strings.NewReader(config.DefaultConfig)); err != nil {
		t.Fatal(err)
	}
	var want config.ViperConfig
	if err := v.Unmarshal(&want); err != nil {
		t.Fatal(err)
	}
	var got config.ViperConfig
	if err := toml.Unmarshal([]byte(config.DefaultConfig), &got); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, want) || len(got.Rules) < 200 {
		t.Fatalf("gitleaks' default config decoded without viper differs (%d rules, viper %d)", len(got.Rules), len(want.Rules))
	}
	mustScanner(t) // sets gitleaks' logger
	s, err := newScanner()
	if err != nil {
		t.Fatal(err)
	}
	if leaks, err := s.scan("kind: Pod\nspec: {}\n"); err != nil || len(leaks) != 0 || len(s.compiled) != 0 {
		t.Errorf("a text without keywords: %v %v, %d rules compiled", leaks, err, len(s.compiled))
	}
	if leaks, err := s.scan("token: " + fakeToken + "\n"); err != nil || len(leaks) != 1 || len(s.compiled) == 0 || len(s.compiled) > 20 {
		t.Errorf("a GitHub token: %v %v, %d rules compiled", leaks, err, len(s.compiled))
	}
}

func mustScanner(t *testing.T) *scanner {
	s, err := gitleaks()
	if err != nil {
		t.Fatal(err)
	}
	return s
}
