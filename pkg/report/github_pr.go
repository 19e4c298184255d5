package report

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/google/go-github/v90/github"
	"taskgate.dev/taskgate/pkg/check"
)

// PullRequest is where a report is posted.
type PullRequest struct {
	Owner, Repo string
	Number      int
	HeadSHA     string // the commit the check run is attached to
}

// ParseRepoURL reads a repository's web URL (Pipelines-as-Code's
// {{ repo_url }}: https://github.com/owner/repo) into its owner, its name
// and the REST API base: https://api.github.com/, or HOST/api/v3/ for
// GitHub Enterprise Server.
func ParseRepoURL(raw string) (owner, repo, api string, err error) {
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
		return "", "", "", fmt.Errorf("%q is not a repository URL (want https://github.com/OWNER/REPO)", raw)
	}
	parts := strings.Split(strings.Trim(strings.TrimSuffix(u.Path, ".git"), "/"), "/")
	if len(parts) != 2 || parts[0] == "" || parts[1] == "" {
		return "", "", "", fmt.Errorf("%q is not a repository URL (want https://github.com/OWNER/REPO)", raw)
	}
	api = "https://api.github.com/"
	if !strings.EqualFold(u.Host, "github.com") {
		api = u.Scheme + "://" + u.Host + "/api/v3/"
	}
	return parts[0], parts[1], api, nil
}

// PRReport is what is posted: the rendered comment and the findings the
// check run annotates.
type PRReport struct {
	Markdown string // the Markdown format's output, starting with MarkdownMarker
	Findings []check.Finding
	Summary  Summary
}

// CheckRunName names taskgate's check run on the commit.
const CheckRunName = "taskgate"

// annotationsPerRequest is GitHub's limit per create/update of a check run;
// maxAnnotations bounds the requests one report makes (the comment and the
// log have every finding).
const (
	annotationsPerRequest = 50
	maxAnnotations        = 500
	checkRunTextLimit     = 65535
)

// Posted says what PostPR did.
type Posted struct {
	Comment     string // "created", "updated" or "" (nothing posted)
	CommentURL  string
	CheckRunID  int64 // 0: no check run
	Annotations int
}

// PostPR publishes a result on a pull request, as the design asks: one
// comment per PR, found by MarkdownMarker and updated in place, and a
// check run whose annotations put each error and warning on its line. A
// passing result posts no new comment (it updates one left by an earlier,
// failing run), but it does complete a successful check run: a required
// `taskgate` check needs one on every commit. Progress goes to log.
func PostPR(ctx context.Context, gh *github.Client, pr PullRequest, rep PRReport, log io.Writer) (*Posted, error) {
	if log == nil {
		log = io.Discard
	}
	p := &Posted{}
	failed := !rep.Summary.Passed
	ids, err := markedComments(ctx, gh, pr)
	if err != nil {
		return p, err
	}
	// Try the oldest marked comment first; one we may not edit (someone
	// else posted the marker) is passed over.
	for _, id := range ids {
		c, resp, err := gh.Issues.EditComment(ctx, pr.Owner, pr.Repo, id, &github.IssueComment{Body: github.Ptr(rep.Markdown)})
		if err == nil {
			p.Comment, p.CommentURL = "updated", c.GetHTMLURL()
			break
		}
		if resp == nil || (resp.StatusCode != http.StatusForbidden && resp.StatusCode != http.StatusNotFound) {
			return p, fmt.Errorf("updating comment %d: %w", id, err)
		}
		fmt.Fprintf(log, "comment %d carries the taskgate marker but cannot be edited with this token (%d): passed over\n", id, resp.StatusCode)
	}
	switch {
	case p.Comment != "":
	case failed:
		c, _, err := gh.Issues.CreateComment(ctx, pr.Owner, pr.Repo, pr.Number, &github.IssueComment{Body: github.Ptr(rep.Markdown)})
		if err != nil {
			return p, fmt.Errorf("commenting on %s/%s#%d: %w", pr.Owner, pr.Repo, pr.Number, err)
		}
		p.Comment, p.CommentURL = "created", c.GetHTMLURL()
	default:
		fmt.Fprintln(log, "the gate passed and the pull request has no taskgate comment: no comment to post")
	}
	if p.Comment != "" {
		fmt.Fprintf(log, "comment %s: %s\n", p.Comment, p.CommentURL)
	}
	return p, checkRun(ctx, gh, pr, rep, p, log)
}

// markedComments lists the IDs of the PR's comments that start with the
// marker, oldest first, reading every page.
func markedComments(ctx context.Context, gh *github.Client, pr PullRequest) ([]int64, error) {
	var ids []int64
	opts := &github.IssueListCommentsOptions{ListOptions: github.ListOptions{PerPage: 100}}
	for {
		cs, resp, err := gh.Issues.ListComments(ctx, pr.Owner, pr.Repo, pr.Number, opts)
		if err != nil {
			return nil, fmt.Errorf("listing the comments of %s/%s#%d: %w", pr.Owner, pr.Repo, pr.Number, err)
		}
		for _, c := range cs {
			if strings.HasPrefix(strings.TrimSpace(c.GetBody()), MarkdownMarker) {
				ids = append(ids, c.GetID())
			}
		}
		if resp.NextPage == 0 {
			return ids, nil
		}
		opts.Page = resp.NextPage
	}
}

// checkRun creates the check run, failing or successful as the gate, its
// annotations sent 50 per request (GitHub appends each batch); the last
// request completes it.
func checkRun(ctx context.Context, gh *github.Client, pr PullRequest, rep PRReport, p *Posted, log io.Writer) error {
	anns := annotations(rep.Findings)
	title := fmt.Sprintf("%s, %s", plural(rep.Summary.Errors, "error"), plural(rep.Summary.Warnings, "warning"))
	if n := rep.Summary.NotRun; n > 0 { // a success that did not check everything says so where it shows
		title += fmt.Sprintf(", %s not run", plural(n, "check"))
	}
	summary := truncate(rep.Markdown, checkRunTextLimit)
	if len(anns) == maxAnnotations {
		summary = truncate(fmt.Sprintf("Only the first %d errors and warnings are annotated; the comment and the log have them all.\n\n", maxAnnotations)+rep.Markdown, checkRunTextLimit)
	}
	var batches [][]*github.CheckRunAnnotation
	for len(anns) > 0 {
		n := min(annotationsPerRequest, len(anns))
		batches = append(batches, anns[:n])
		anns = anns[n:]
	}
	if len(batches) == 0 {
		batches = [][]*github.CheckRunAnnotation{nil}
	}
	output := func(b []*github.CheckRunAnnotation) *github.CheckRunOutput {
		return &github.CheckRunOutput{Title: github.Ptr(title), Summary: github.Ptr(summary), Annotations: b}
	}
	done := func(last bool) (status, conclusion *string, at *github.Timestamp) {
		if !last {
			return github.Ptr("in_progress"), nil, nil
		}
		conclusion = github.Ptr("success")
		if !rep.Summary.Passed {
			conclusion = github.Ptr("failure")
		}
		return github.Ptr("completed"), conclusion, &github.Timestamp{Time: time.Now()}
	}
	status, conclusion, at := done(len(batches) == 1)
	run, resp, err := gh.Checks.CreateCheckRun(ctx, pr.Owner, pr.Repo, github.CreateCheckRunOptions{
		Name: CheckRunName, HeadSHA: pr.HeadSHA, Status: status, Conclusion: conclusion, CompletedAt: at, Output: output(batches[0]),
	})
	if err != nil {
		if resp != nil && resp.StatusCode == http.StatusForbidden {
			return fmt.Errorf("creating the check run: %w (check runs need a GitHub App token with checks:write, as Pipelines-as-Code's; the comment was posted)", err)
		}
		return fmt.Errorf("creating the check run: %w", err)
	}
	p.CheckRunID = run.GetID()
	p.Annotations = len(batches[0])
	for i, b := range batches[1:] {
		status, conclusion, at := done(i == len(batches)-2)
		if _, _, err := gh.Checks.UpdateCheckRun(ctx, pr.Owner, pr.Repo, p.CheckRunID, github.UpdateCheckRunOptions{
			Name: CheckRunName, Status: status, Conclusion: conclusion, CompletedAt: at, Output: output(b),
		}); err != nil {
			return fmt.Errorf("adding annotations to check run %d: %w", p.CheckRunID, err)
		}
		p.Annotations += len(b)
	}
	fmt.Fprintf(log, "check run %s: %s, %d annotation(s)\n", CheckRunName, run.GetHTMLURL(), p.Annotations)
	return nil
}

// annotations turns errors and warnings into check run annotations (infos
// stay in the comment), at most maxAnnotations.
func annotations(fs []check.Finding) []*github.CheckRunAnnotation {
	var out []*github.CheckRunAnnotation
	for _, f := range fs {
		level := map[check.Severity]string{check.Error: "failure", check.Warning: "warning"}[f.Severity]
		if level == "" || f.File == "" {
			continue
		}
		if len(out) == maxAnnotations {
			break
		}
		line := max(f.Line, 1)
		a := &github.CheckRunAnnotation{
			Path: github.Ptr(f.File), StartLine: github.Ptr(line), EndLine: github.Ptr(line),
			AnnotationLevel: github.Ptr(level), Title: github.Ptr(f.Rule), Message: github.Ptr(truncate(f.Message, checkRunTextLimit)),
		}
		if f.Column > 0 { // columns only on a one-line annotation, as here
			a.StartColumn, a.EndColumn = github.Ptr(f.Column), github.Ptr(f.Column)
		}
		if f.Help != "" {
			a.RawDetails = github.Ptr(truncate("help: "+f.Help, checkRunTextLimit))
		}
		out = append(out, a)
	}
	return out
}

// truncate cuts s to at most n bytes, on a rune boundary.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !isRuneStart(s[n]) {
		n--
	}
	return s[:n]
}

func isRuneStart(b byte) bool { return b&0xC0 != 0x80 }
