package gate

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"k8s.io/client-go/rest"
	"taskgate.dev/taskgate/internal/testrepo"
	"taskgate.dev/taskgate/pkg/check"
	"taskgate.dev/taskgate/pkg/cluster"
)

const task = `apiVersion: tekton.dev/v1
kind: Task
metadata:
  name: hello
  labels: {app.kubernetes.io/version: "0.1"}
spec:
  steps:
    - name: hello
      image: registry.access.redhat.com/ubi9/ubi-minimal@sha256:` + "0000000000000000000000000000000000000000000000000000000000000000" + `
      securityContext: {privileged: true}
      script: echo hello
`

func TestPrepareAndRun(t *testing.T) {
	root := testrepo.New(t, map[string]string{
		"partners/hello/OWNERS":         "approvers: [someone]\n",
		"partners/hello/0.1/README.md":  "# hello\n",
		"partners/hello/0.1/hello.yaml": task,
	})
	p, err := Prepare(Options{Root: root})
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Submissions) != 1 || p.Note != "" || p.Change != nil || p.Rest != nil {
		t.Fatalf("plan: %d submissions, note %q", len(p.Submissions), p.Note)
	}
	res := p.Run()
	var privileged bool
	for _, f := range res.Findings() {
		privileged = privileged || f.Rule == "privilege/privileged" && f.File == "partners/hello/0.1/hello.yaml" && f.Line == 10
	}
	if !privileged {
		t.Errorf("no privilege/privileged finding at hello.yaml:10 in %v", res.Findings())
	}
}

func TestPrepareRefusesOptionsThatNeedAChange(t *testing.T) {
	for _, o := range []Options{{ConfigFromBase: true}, {Author: "someone"}} {
		if _, err := Prepare(o); err == nil || !strings.Contains(err.Error(), "--changed-from") {
			t.Errorf("Prepare(%+v): %v, want an error naming --changed-from", o, err)
		}
	}
}

func TestPrepareSaysWhenThereIsNothing(t *testing.T) {
	p, err := Prepare(Options{Root: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(p.Note, "no submission found") {
		t.Errorf("note %q", p.Note)
	}
}

// The cluster rules are registered checks of every run: without a
// cluster they are not run, with the reason, never passed; `taskgate
// dry-run` runs them, and only them, through the same plan.
func TestClusterRules(t *testing.T) {
	root := testrepo.New(t, map[string]string{
		"partners/hello/OWNERS":         "approvers: [someone]\n",
		"partners/hello/0.1/README.md":  "# hello\n",
		"partners/hello/0.1/hello.yaml": task,
	})
	statuses := func(res *check.Result) map[string]check.Status {
		out := map[string]check.Status{}
		for _, st := range res.Submissions[0].Checks {
			out[st.Check] = *st
		}
		return out
	}

	p, err := Prepare(Options{Root: root})
	if err != nil {
		t.Fatal(err)
	}
	st := statuses(p.Run())
	if st[cluster.RuleDryRun].Skipped != "needs a cluster (taskgate dry-run)" || st[cluster.RuleDryRun].NotRun != check.NeedsCluster ||
		st[cluster.RuleRun].Skipped != "needs a cluster (taskgate dry-run)" || st[cluster.RuleRun].NotRun != check.NeedsCluster {
		t.Errorf("without a cluster: %+v, %+v", st[cluster.RuleDryRun], st[cluster.RuleRun])
	}

	var sent []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sent = append(sent, r.Method+" "+r.URL.Path+"?"+r.URL.RawQuery)
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusCreated)
		io.Copy(w, r.Body)
	}))
	defer srv.Close()
	c, err := cluster.NewForConfig(&rest.Config{Host: srv.URL}, "default")
	if err != nil {
		t.Fatal(err)
	}
	p, err = Prepare(Options{Root: root, Rules: cluster.Rules, Cluster: &cluster.Target{Ctx: context.Background(), Client: c}})
	if err != nil {
		t.Fatal(err)
	}
	res := p.Run()
	st = statuses(res)
	if len(st) != 2 || st[cluster.RuleDryRun].Skipped != "" || st[cluster.RuleRun].Skipped != "the Task runs only when asked (taskgate dry-run --run)" || st[cluster.RuleRun].NotRun != check.Disabled {
		t.Errorf("with a cluster, without --run: %+v", st)
	}
	if len(res.Findings()) != 0 {
		t.Errorf("only the cluster rules run (the Task is privileged, and the API server accepts it): %v", res.Findings())
	}
	if len(sent) != 1 || !strings.Contains(sent[0], "/namespaces/default/tasks?") || !strings.Contains(sent[0], "dryRun=All") {
		t.Errorf("sent %v, want one dry-run of the Task", sent)
	}

	if _, err := Prepare(Options{Root: root, Rules: []string{"cluster/nope"}}); err == nil || !strings.Contains(err.Error(), `unknown rule "cluster/nope"`) {
		t.Errorf("an unknown rule: %v", err)
	}
}

// The plan lists submissions without reading them and the run streams
// them: the verdict is the one over submissions loaded up front, and the
// plan's submissions are still unread afterwards (nothing holds them).
func TestRunStreamsListedSubmissions(t *testing.T) {
	files := map[string]string{}
	for _, n := range []string{"a", "b", "c", "d", "e"} {
		files["partners/"+n+"/OWNERS"] = "approvers: [someone]\n"
		files["partners/"+n+"/0.1/README.md"] = "# " + n + "\n"
		files["partners/"+n+"/0.1/"+n+".yaml"] = strings.Replace(task, "name: hello", "name: "+n, 1)
	}
	files["partners/e/0.2/e.yaml"] = "kind: [" // unreadable: a finding, not a crash
	root := testrepo.New(t, files)
	p, err := Prepare(Options{Root: root})
	if err != nil {
		t.Fatal(err)
	}
	streamed := p.Run()
	for _, s := range p.Submissions {
		if !s.Listed() || s.Manifest != nil {
			t.Errorf("%s: the plan's submission was read by the run", s.Dir)
		}
	}
	loaded, err := p.Repo.Discover()
	if err != nil {
		t.Fatal(err)
	}
	if len(loaded) != 6 || len(streamed.Submissions) != 6 {
		t.Fatalf("%d submissions loaded, %d streamed: want 6", len(loaded), len(streamed.Submissions))
	}
	want := check.Run(loaded, p.Checks, p.Settings)
	if got, exp := fmt.Sprint(streamed.Findings()), fmt.Sprint(want.Findings()); got != exp {
		t.Errorf("streamed findings differ from loaded ones:\n%s\nwant\n%s", got, exp)
	}
	for i := range want.Submissions {
		if g, w := streamed.Submissions[i], want.Submissions[i]; g.ID != w.ID || g.File != w.File || statusText(g) != statusText(w) {
			t.Errorf("submission %d: %s %s %s, want %s %s %s", i, g.ID, g.File, statusText(g), w.ID, w.File, statusText(w))
		}
	}
}

// statusText prints a submission's statuses (not the pointers to them).
func statusText(s check.SubmissionResult) string {
	var b strings.Builder
	for _, st := range s.Checks {
		fmt.Fprintf(&b, "%+v ", *st)
	}
	return b.String()
}
