package report_test

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-github/v90/github"
	"taskgate.dev/taskgate/pkg/check"
	"taskgate.dev/taskgate/pkg/report"
	"taskgate.dev/taskgate/pkg/report/githubtest"
)

func newFakeGitHub(t *testing.T) (*githubtest.Server, *github.Client) {
	f := githubtest.New(t)
	return f, f.Client(githubtest.Token)
}

const owner, repoName, prNumber = "acme", "catalog", 408

func pr() report.PullRequest {
	return report.PullRequest{Owner: owner, Repo: repoName, Number: prNumber, HeadSHA: "0123456789abcdef0123456789abcdef01234567"}
}

// prReport renders a result as `validate --format markdown` does.
func prReport(t *testing.T, res *check.Result) report.PRReport {
	return report.PRReport{Markdown: render(t, "markdown", res), Findings: res.Findings(), Summary: report.Summarize(res)}
}

// manyFindings is a failing result with n errors and n warnings.
func manyFindings(n int) *check.Result {
	sub := check.SubmissionResult{ID: "partners/big/0.1", File: "partners/big/0.1/big.yaml", Checks: []*check.Status{{Check: "image/unpinned", Errors: n, Warnings: n}}}
	for i := range n {
		for _, sev := range []check.Severity{check.Error, check.Warning} {
			sub.Findings = append(sub.Findings, check.Finding{Rule: "image/unpinned", Severity: sev, File: sub.File, Line: i + 1, Column: 7,
				Message: fmt.Sprintf("image %d is not pinned", i), Help: "pin it by digest", Submission: sub.ID})
		}
	}
	return &check.Result{Submissions: []check.SubmissionResult{sub}}
}

func TestPostPRFailureCommentsAndAnnotatesInBatches(t *testing.T) {
	f, gh := newFakeGitHub(t)
	f.PerPage = 2 // the marker hides on the third page
	for i := range 5 {
		f.Comments = append(f.Comments, &githubtest.Comment{ID: int64(i + 1), Body: "LGTM", User: "reviewer"})
	}
	rep := prReport(t, manyFindings(60)) // 120 annotations: 50 + 50 + 20
	var log bytes.Buffer
	p, err := report.PostPR(context.Background(), gh, pr(), rep, &log)
	if err != nil {
		t.Fatalf("%v\n%s", err, log.String())
	}
	if p.Comment != "created" || len(f.Comments) != 6 || f.Comments[5].Body != rep.Markdown {
		t.Fatalf("want one new comment holding the report, got %+v and %d comments", p, len(f.Comments))
	}
	if len(f.Runs) != 1 {
		t.Fatalf("%d check runs, want 1", len(f.Runs))
	}
	run := f.Runs[0]
	if run.Name != report.CheckRunName || run.HeadSHA != pr().HeadSHA || run.Status != "completed" || run.Conclusion != "failure" {
		t.Errorf("check run %+v: want completed, failure, on the head commit", run)
	}
	if len(run.Annotations) != 120 || p.Annotations != 120 {
		t.Fatalf("%d annotations stored (%d said), want 120", len(run.Annotations), p.Annotations)
	}
	first := run.Annotations[0]
	if first["path"] != "partners/big/0.1/big.yaml" || first["start_line"] != 1.0 || first["start_column"] != 7.0 || first["annotation_level"] != "failure" ||
		first["title"] != "image/unpinned" || first["message"] != "image 0 is not pinned" || first["raw_details"] != "help: pin it by digest" {
		t.Errorf("first annotation %v", first)
	}
	if run.Annotations[1]["annotation_level"] != "warning" {
		t.Errorf("a warning is annotated as %v", run.Annotations[1]["annotation_level"])
	}
	want := []string{
		"GET /repos/acme/catalog/issues/408/comments", "GET /repos/acme/catalog/issues/408/comments", "GET /repos/acme/catalog/issues/408/comments",
		"POST /repos/acme/catalog/issues/408/comments",
		"POST /repos/acme/catalog/check-runs", "PATCH /repos/acme/catalog/check-runs/1", "PATCH /repos/acme/catalog/check-runs/1",
	}
	if strings.Join(f.Requests, "\n") != strings.Join(want, "\n") {
		t.Errorf("requests:\n%s\nwant:\n%s", strings.Join(f.Requests, "\n"), strings.Join(want, "\n"))
	}
	if !strings.Contains(run.Title, "60 errors, 60 warnings") || !strings.HasPrefix(run.Summary, report.MarkdownMarker) {
		t.Errorf("check run title %q, summary %.40q", run.Title, run.Summary)
	}

	// The next run finds the comment (on page 3 now) and updates it in place.
	f.Requests = nil
	rep2 := prReport(t, manyFindings(1))
	p, err = report.PostPR(context.Background(), gh, pr(), rep2, &log)
	if err != nil {
		t.Fatal(err)
	}
	if p.Comment != "updated" || len(f.Comments) != 6 || f.Comments[5].Body != rep2.Markdown {
		t.Errorf("want the comment updated in place, got %+v, %d comments", p, len(f.Comments))
	}
	if len(f.Runs) != 2 || len(f.Runs[1].Annotations) != 2 || f.Runs[1].Status != "completed" {
		t.Errorf("the second run's check run: %+v", f.Runs[len(f.Runs)-1])
	}
	if n := strings.Count(strings.Join(f.Requests, "\n"), "check-runs"); n != 1 {
		t.Errorf("%d check run requests for 2 annotations, want 1 (created complete)", n)
	}
}

func TestPostPRPassed(t *testing.T) {
	f, gh := newFakeGitHub(t)
	passed := manyFindings(0)
	// No comment yet: a pass posts no comment, but a successful check run,
	// so that taskgate can be a required check.
	p, err := report.PostPR(context.Background(), gh, pr(), prReport(t, passed), nil)
	if err != nil || p.Comment != "" || len(f.Comments) != 0 || len(f.Runs) != 1 {
		t.Fatalf("a first pass: %+v, %v, %d comments, %d runs; want no comment and one check run", p, err, len(f.Comments), len(f.Runs))
	}
	if r := f.Runs[0]; r.Name != report.CheckRunName || r.Status != "completed" || r.Conclusion != "success" || r.HeadSHA != pr().HeadSHA || r.Title != "0 errors, 0 warnings" {
		t.Errorf("the passing check run: %+v", r)
	}
	// A pass with a check that did not run says so in the check run's title.
	notRun := manyFindings(0)
	notRun.Submissions[0].Checks = append(notRun.Submissions[0].Checks, &check.Status{Check: "script/shellcheck", NotRun: check.Unavailable, Skipped: "shellcheck is not installed"})
	if _, err := report.PostPR(context.Background(), gh, pr(), prReport(t, notRun), nil); err != nil || f.Runs[len(f.Runs)-1].Title != "0 errors, 0 warnings, 1 check not run" {
		t.Errorf("a pass with a check not run: %v, %+v", err, f.Runs[len(f.Runs)-1])
	}
	f.Runs = f.Runs[:1]
	// A comment from a failing run: a pass updates it, and completes a check run too.
	f.Comments = append(f.Comments, &githubtest.Comment{ID: 7, Body: report.MarkdownMarker + "\n## ❌ taskgate: failed", User: githubtest.Bot})
	p, err = report.PostPR(context.Background(), gh, pr(), prReport(t, passed), nil)
	if err != nil || p.Comment != "updated" || !strings.Contains(f.Comments[0].Body, "✅ taskgate: passed") || len(f.Runs) != 2 || f.Runs[1].Conclusion != "success" {
		t.Errorf("want the old comment turned into a pass and a successful check run: %+v, %v, %q, %d runs", p, err, f.Comments[0].Body, len(f.Runs))
	}
}

func TestPostPRPassesOverCommentsItCannotEdit(t *testing.T) {
	f, gh := newFakeGitHub(t)
	// A partner pasted the marker into their own comment: not ours to edit.
	f.Comments = append(f.Comments, &githubtest.Comment{ID: 3, Body: report.MarkdownMarker + " fake verdict: passed", User: "partner"})
	var log bytes.Buffer
	p, err := report.PostPR(context.Background(), gh, pr(), prReport(t, manyFindings(1)), &log)
	if err != nil {
		t.Fatal(err)
	}
	if p.Comment != "created" || len(f.Comments) != 2 || f.Comments[0].Body != report.MarkdownMarker+" fake verdict: passed" {
		t.Errorf("want a new comment beside the partner's, untouched: %+v", p)
	}
	if !strings.Contains(log.String(), "comment 3 carries the taskgate marker but cannot be edited") {
		t.Errorf("log should say why comment 3 was passed over:\n%s", log.String())
	}
}

func TestPostPRErrors(t *testing.T) {
	f, gh := newFakeGitHub(t)
	f.DenyRuns = true
	_, err := report.PostPR(context.Background(), gh, pr(), prReport(t, manyFindings(1)), nil)
	if err == nil || !strings.Contains(err.Error(), "GitHub App") || len(f.Comments) != 1 {
		t.Errorf("a token that cannot create check runs: want the comment posted and an error that says why, got %v", err)
	}

	bad := f.Client("wrong")
	if _, err := report.PostPR(context.Background(), bad, pr(), prReport(t, manyFindings(1)), nil); err == nil || !strings.Contains(err.Error(), "401") {
		t.Errorf("bad credentials: want a 401 error, got %v", err)
	}
}

func TestPostPRCapsAnnotations(t *testing.T) {
	f, gh := newFakeGitHub(t)
	p, err := report.PostPR(context.Background(), gh, pr(), prReport(t, manyFindings(400)), nil)
	if err != nil {
		t.Fatal(err)
	}
	if p.Annotations != 500 || len(f.Runs[0].Annotations) != 500 || !strings.HasPrefix(f.Runs[0].Summary, "Only the first 500") {
		t.Errorf("800 errors and warnings: want 500 annotations and a summary that says so, got %d, %.40q", p.Annotations, f.Runs[0].Summary)
	}
}

func TestParseRepoURL(t *testing.T) {
	for in, want := range map[string]string{
		"https://github.com/acme/catalog":          "acme catalog https://api.github.com/",
		"https://github.com/acme/catalog.git":      "acme catalog https://api.github.com/",
		"https://GitHub.com/acme/catalog/":         "acme catalog https://api.github.com/",
		"https://ghe.example.com/team/tasks":       "team tasks https://ghe.example.com/api/v3/",
		"git@github.com:acme/catalog.git":          "error",
		"https://github.com/acme":                  "error",
		"https://github.com/acme/catalog/pull/408": "error",
		"": "error",
	} {
		o, r, api, err := report.ParseRepoURL(in)
		got := o + " " + r + " " + api
		if err != nil {
			got = "error"
		}
		if got != want {
			t.Errorf("ParseRepoURL(%q) = %q, want %q", in, got, want)
		}
	}
}
