package check

import (
	"strings"
	"sync"
	"testing"

	"taskgate.dev/taskgate/pkg/catalog"
	"taskgate.dev/taskgate/pkg/config"
)

// a security-family rule for the tests: one error per submission
var privileged = &Check{ID: "privilege/test-privileged", Doc: "d", Severity: Error, Help: "h",
	Run: func(pass *Pass) []Finding {
		return []Finding{At(pass.Submission.Manifest, "spec.steps[0]", "privileged")}
	}}

var registerPrivileged sync.Once

func TestATaskCannotSkipAProtectedRule(t *testing.T) {
	registerPrivileged.Do(func() { Register(privileged) }) // SkipCheck looks rules up in the registry
	checks := []*Check{privileged, SkipCheck}
	s := submission(t, "a", task(`    taskgate.dev/skip: "privilege/test-privileged # trust me"`+"\n"))
	res := Run([]*catalog.Submission{s}, checks, nil)
	var rules []string
	for _, f := range res.Findings() {
		rules = append(rules, f.String())
	}
	want := []string{
		"partners/a/0.1/a.yaml:6:24: error config/skip: privilege/test-privileged cannot be skipped by a Task: the security rules (privilege, image, script, secret, credentials, supply, execution, workspace, resources), owners and config are waived only by the catalog maintainers, so privilege/test-privileged runs",
		"partners/a/0.1/a.yaml:9:7: error privilege/test-privileged: privileged",
	}
	if strings.Join(rules, "\n") != strings.Join(want, "\n") {
		t.Errorf("got\n%s\nwant\n%s", strings.Join(rules, "\n"), strings.Join(want, "\n"))
	}
	if st := res.Submissions[0].Checks[0]; st.Skipped != "" || st.Errors != 1 {
		t.Errorf("the rule must run: %+v", st)
	}
	if h := res.Findings()[0].Help; !strings.Contains(h, "waivers: [{task: a, versions: [\"0.1\"], rule: privilege/test-privileged") {
		t.Errorf("help does not say how to ask for a waiver: %s", h)
	}
	for _, r := range []string{"privilege/x", "image/x", "script/shellcheck", "secret/leaked", "credentials/x", "owners/unauthorized", "config/skip", "supply/download-exec", "execution/image-param", "workspace/writes-source", "resources/excessive", "cluster/run"} {
		if !Protected(r) {
			t.Errorf("%s must be protected", r)
		}
	}
	for _, r := range []string{"tekton/conventions", "layout/readme", "integration/compose", "privileges/x", "tekton/undefined-ref", "tekton/unused-param"} {
		if Protected(r) {
			t.Errorf("%s is not a protected family", r)
		}
	}
}

func TestWaivers(t *testing.T) {
	registerPrivileged.Do(func() { Register(privileged) }) // SkipCheck looks rules up in the registry
	checks := []*Check{privileged, WaiverCheck}
	cfg, err := config.Parse([]byte(`waivers:
  - {task: a, versions: ["0.1"], rule: privilege/test-privileged, reason: "buildah needs it", expires: 2999-01-01}
  - {task: b, versions: ["*"], rule: privilege/test-privileged, reason: "was needed", expires: 2001-01-01}
`))
	if err != nil {
		t.Fatal(err)
	}
	set, err := Resolve(cfg, checks)
	if err != nil {
		t.Fatal(err)
	}
	a, b, c := submission(t, "a", task("    x: y\n")), submission(t, "b", task("    x: y\n")), submission(t, "c", task("    x: y\n"))
	for _, s := range []*catalog.Submission{a, b, c} {
		s.Repo.Config = cfg
	}
	res := Run([]*catalog.Submission{a, b, c}, checks, set)
	// a: waived, never passed
	if st := res.Submissions[0].Checks[0]; st.Waiver == nil || st.Waiver.Line != 2 || !strings.HasPrefix(st.Skipped, "waived by .taskgate.yaml:2 until 2999-01-01: buildah needs it") || len(res.Submissions[0].Findings) != 0 {
		t.Errorf("a: %+v %v", st, res.Submissions[0].Findings)
	}
	// b: expired, so the rule runs and the waiver is an error where it is written
	var got []string
	for _, f := range res.Submissions[1].Findings {
		got = append(got, f.String())
	}
	want := ".taskgate.yaml:3:1: error config/waiver: the waiver of privilege/test-privileged for partners/b/0.1 expired on 2001-01-01, so privilege/test-privileged runs again (reason given: was needed)\n" +
		"partners/b/0.1/b.yaml:9:7: error privilege/test-privileged: privileged"
	if strings.Join(got, "\n") != want {
		t.Errorf("b:\n%s\nwant\n%s", strings.Join(got, "\n"), want)
	}
	if st := res.Submissions[1].Checks[0]; st.Waiver != nil || st.Errors != 1 {
		t.Errorf("b: an expired waiver waives nothing: %+v", st)
	}
	// c: no waiver names it
	if st := res.Submissions[2].Checks[0]; st.Waiver != nil || st.Errors != 1 || len(res.Submissions[2].Findings) != 1 {
		t.Errorf("c: %+v", st)
	}

	for _, bad := range []string{
		"waivers:\n  - {task: a, versions: [\"0.1\"], rule: test/nope, reason: r, expires: 2999-01-01}\n",
		"waivers:\n  - {task: a, versions: [\"0.1\"], rule: config/waiver, reason: r, expires: 2999-01-01}\n",
	} {
		cfg, err := config.Parse([]byte(bad))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := Resolve(cfg, []*Check{privileged, WaiverCheck}); err == nil || !strings.Contains(err.Error(), ".taskgate.yaml:2") {
			t.Errorf("%q: want an error at .taskgate.yaml:2, got %v", bad, err)
		}
	}
}
