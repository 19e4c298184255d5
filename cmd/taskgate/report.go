package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	iofs "io/fs"
	"os"
	"strings"
	"time"

	"github.com/google/go-github/v90/github"
	"taskgate.dev/taskgate/pkg/report"
)

const reportUsage = `usage: taskgate report --json FILE --markdown FILE --repo-url URL --pr N --sha SHA [--token-file FILE] [--api-url URL]
Posts what ` + "`taskgate validate --also json=FILE --also markdown=FILE`" + ` wrote to a GitHub pull request:
one comment, updated in place, and a check run (failing or successful) annotating each error
and warning. A passing result posts no new comment, only an update of an earlier one.
The token comes from --token-file (Pipelines-as-Code: the git-provider-token key of {{ git_auth_secret }}),
else $GITHUB_TOKEN; without one nothing is posted and the command says so (exit 0).`

func runReport(args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("report", stderr)
	jsonFile := fs.String("json", "", "the gate's result: `FILE` written by validate --also json=FILE")
	mdFile := fs.String("markdown", "", "the comment: `FILE` written by validate --also markdown=FILE")
	repoURL := fs.String("repo-url", "", "the repository, `URL` https://github.com/OWNER/REPO (Pipelines-as-Code: {{ repo_url }})")
	number := fs.Int("pr", 0, "the pull request `N`umber (Pipelines-as-Code: {{ pull_request_number }})")
	sha := fs.String("sha", "", "the head commit the check run is attached to (Pipelines-as-Code: {{ revision }})")
	tokenFile := fs.String("token-file", "", "read the GitHub token from `FILE`; a missing or empty file means no token")
	apiURL := fs.String("api-url", "", "GitHub REST API base `URL` (default: derived from --repo-url)")
	timeout := fs.Duration("timeout", 2*time.Minute, "give up on GitHub after this long")
	pos, err := parseInterleaved(fs, args)
	if err != nil {
		return exitUsage
	}
	if len(pos) > 0 || *jsonFile == "" || *mdFile == "" || *repoURL == "" || *number <= 0 || *sha == "" {
		fmt.Fprintln(stderr, reportUsage)
		return exitUsage
	}
	owner, repo, api, err := report.ParseRepoURL(*repoURL)
	if err != nil {
		fmt.Fprintf(stderr, "taskgate report: --repo-url: %v\n", err)
		return exitUsage
	}
	if *apiURL != "" {
		api = strings.TrimSuffix(*apiURL, "/") + "/"
	}

	rep, err := readReport(*jsonFile, *mdFile)
	if errors.Is(err, iofs.ErrNotExist) {
		// validate stopped before writing it (bad input, exit 2): its log says why
		fmt.Fprintf(stdout, "taskgate report: %v: the gate did not finish (see the validate step's log); nothing to post\n", err)
		return exitOK
	}
	if err != nil {
		fmt.Fprintf(stderr, "taskgate report: %v\n", err)
		return exitUsage
	}
	token, where := readToken(*tokenFile)
	if token == "" {
		fmt.Fprintf(stdout, "taskgate report: no GitHub token (%s): not posting to %s/%s#%d; the findings are in the validate step's log\n", where, owner, repo, *number)
		return exitOK
	}
	gh, err := github.NewClient(github.WithAuthToken(token), github.WithURLs(&api, nil), github.WithUserAgent("taskgate"))
	if err != nil {
		fmt.Fprintf(stderr, "taskgate report: %v\n", err)
		return exitUsage
	}
	ctx, cancel := context.WithTimeout(context.Background(), *timeout)
	defer cancel()
	pr := report.PullRequest{Owner: owner, Repo: repo, Number: *number, HeadSHA: *sha}
	fmt.Fprintf(stdout, "taskgate report: %s/%s#%d at %s: the gate %s with %d error(s), %d warning(s)\n", owner, repo, *number, *sha, passedWord(rep.Summary.Passed), rep.Summary.Errors, rep.Summary.Warnings)
	if _, err := report.PostPR(ctx, gh, pr, rep, stdout); err != nil {
		fmt.Fprintf(stderr, "taskgate report: %v\n", err)
		return exitFindings
	}
	return exitOK
}

// readReport reads the gate's JSON result and the rendered comment.
func readReport(jsonFile, mdFile string) (report.PRReport, error) {
	var rep report.PRReport
	data, err := os.ReadFile(jsonFile)
	if err != nil {
		return rep, err
	}
	var res report.JSONReport
	if err := json.Unmarshal(data, &res); err != nil {
		return rep, fmt.Errorf("%s: not a taskgate JSON report: %v", jsonFile, err)
	}
	md, err := os.ReadFile(mdFile)
	if err != nil {
		return rep, err
	}
	if !strings.HasPrefix(string(md), report.MarkdownMarker) {
		return rep, fmt.Errorf("%s: not a taskgate Markdown report (it must start with %s)", mdFile, report.MarkdownMarker)
	}
	return report.PRReport{Markdown: string(md), Findings: res.Findings, Summary: res.Summary}, nil
}

// readToken reads the token file, else $GITHUB_TOKEN; where says what was
// looked at, for the log.
func readToken(file string) (token, where string) {
	if file != "" {
		data, err := os.ReadFile(file)
		if t := strings.TrimSpace(string(data)); err == nil && t != "" {
			return t, file
		}
		where = file + " is missing or empty, "
	}
	return strings.TrimSpace(os.Getenv("GITHUB_TOKEN")), where + "$GITHUB_TOKEN is unset"
}

func passedWord(passed bool) string {
	if passed {
		return "passed"
	}
	return "failed"
}
