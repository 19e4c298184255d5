// Package githubtest is a fake GitHub for tests: it speaks the REST
// endpoints taskgate posts a report with (issue comments, check runs)
// and enforces GitHub's rules where they matter: pages of comments linked
// by a Link header, only the token's own comments editable, at most 50
// annotations per request, each annotation's required fields, a
// conclusion and completed_at on completion.
package githubtest

import (
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-github/v90/github"
)

// Token is the only token the server accepts; Bot is who it says posts
// with it.
const (
	Token = "s3cret"
	Bot   = "taskgate[bot]"
)

// Server is a fake GitHub holding one repository's pull request comments
// and check runs. Lock Mu to read its fields while requests may arrive.
type Server struct {
	URL      string // the API base, with a trailing slash
	Mu       sync.Mutex
	PerPage  int // page size of comment lists, whatever the client asks
	Comments []*Comment
	Runs     []*Run
	Requests []string // "METHOD path" in order
	DenyRuns bool     // refuse check runs with 403, as for a token that is not a GitHub App's
	t        testing.TB
	nextID   int64
	prefix   string // the API's path on the server: "" or GitHub Enterprise's /api/v3
}

// Comment is an issue comment.
type Comment struct {
	ID         int64
	Body, User string
}

// Run is a check run; Annotations accumulate over updates.
type Run struct {
	ID                 int64
	Name, HeadSHA      string
	Status, Conclusion string
	Title, Summary     string
	Annotations        []map[string]any
}

// New starts a server for the duration of the test.
func New(t testing.TB) *Server {
	s := &Server{t: t, PerPage: 100, nextID: 1000}
	srv := httptest.NewServer(s)
	t.Cleanup(srv.Close)
	s.URL = srv.URL + "/"
	return s
}

// Listen starts a server on addr (host:port) for the duration of the
// test, as GitHub Enterprise lays it out: a repository is
// http://addr/OWNER/REPO and URL, its API, http://addr/api/v3/ (what
// taskgate derives from such a repository URL).
func Listen(t testing.TB, addr string) *Server {
	l, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	s := &Server{t: t, PerPage: 100, nextID: 1000}
	s.prefix = "/api/v3"
	srv := &httptest.Server{Listener: l, Config: &http.Server{Handler: s}}
	srv.Start()
	t.Cleanup(srv.Close)
	s.URL = srv.URL + "/api/v3/"
	return s
}

// Client is a go-github client of the server, authenticated with token.
func (s *Server) Client(token string) *github.Client {
	gh, err := github.NewClient(github.WithAuthToken(token), github.WithURLs(github.Ptr(s.URL), nil))
	if err != nil {
		s.t.Fatal(err)
	}
	return gh
}

func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.Mu.Lock()
	defer s.Mu.Unlock()
	path, ok := strings.CutPrefix(r.URL.Path, s.prefix)
	s.Requests = append(s.Requests, r.Method+" "+path)
	reply := func(code int, v any) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(code)
		_ = json.NewEncoder(w).Encode(v)
	}
	message := func(code int, msg string) { reply(code, map[string]string{"message": msg}) }
	if r.Header.Get("Authorization") != "Bearer "+Token {
		message(http.StatusUnauthorized, "Bad credentials")
		return
	}
	var body map[string]any
	if r.Method != http.MethodGet {
		if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
			message(http.StatusBadRequest, "Problems parsing JSON")
			return
		}
	}
	// /repos/{owner}/{repo}/...
	parts := strings.Split(strings.Trim(path, "/"), "/")
	if !ok || len(parts) < 4 || parts[0] != "repos" {
		message(http.StatusNotFound, "Not Found")
		return
	}
	owner, repo, rest := parts[1], parts[2], strings.Join(parts[3:], "/")
	commentURL := func(id int64) string {
		return fmt.Sprintf("https://github.com/%s/%s/pull/1#issuecomment-%d", owner, repo, id)
	}
	switch {
	case strings.HasPrefix(rest, "issues/") && strings.HasSuffix(rest, "/comments") && r.Method == http.MethodGet:
		page, _ := strconv.Atoi(r.URL.Query().Get("page"))
		page = max(page, 1)
		from := min((page-1)*s.PerPage, len(s.Comments))
		to := min(from+s.PerPage, len(s.Comments))
		if to < len(s.Comments) {
			w.Header().Set("Link", fmt.Sprintf(`<http://%s%s?page=%d>; rel="next"`, r.Host, r.URL.Path, page+1))
		}
		list := []map[string]any{}
		for _, c := range s.Comments[from:to] {
			list = append(list, map[string]any{"id": c.ID, "body": c.Body, "user": map[string]any{"login": c.User}})
		}
		reply(http.StatusOK, list)
	case strings.HasPrefix(rest, "issues/") && strings.HasSuffix(rest, "/comments") && r.Method == http.MethodPost:
		s.nextID++
		c := &Comment{ID: s.nextID, Body: str(body["body"]), User: Bot}
		s.Comments = append(s.Comments, c)
		reply(http.StatusCreated, map[string]any{"id": c.ID, "body": c.Body, "html_url": commentURL(c.ID)})
	case strings.HasPrefix(rest, "issues/comments/") && r.Method == http.MethodPatch:
		id, _ := strconv.ParseInt(strings.TrimPrefix(rest, "issues/comments/"), 10, 64)
		for _, c := range s.Comments {
			if c.ID != id {
				continue
			}
			if c.User != Bot {
				message(http.StatusForbidden, "Resource not accessible by integration")
				return
			}
			c.Body = str(body["body"])
			reply(http.StatusOK, map[string]any{"id": c.ID, "body": c.Body, "html_url": commentURL(c.ID)})
			return
		}
		message(http.StatusNotFound, "Not Found")
	case rest == "check-runs" && r.Method == http.MethodPost:
		if s.DenyRuns {
			message(http.StatusForbidden, "You must authenticate via a GitHub App.")
			return
		}
		run := &Run{ID: int64(len(s.Runs) + 1), Name: str(body["name"]), HeadSHA: str(body["head_sha"])}
		if run.Name == "" || run.HeadSHA == "" {
			message(http.StatusUnprocessableEntity, "Validation Failed: name and head_sha are required")
			return
		}
		if msg := apply(run, body); msg != "" {
			message(http.StatusUnprocessableEntity, "Validation Failed: "+msg)
			return
		}
		s.Runs = append(s.Runs, run)
		reply(http.StatusCreated, map[string]any{"id": run.ID, "html_url": fmt.Sprintf("https://github.com/%s/%s/runs/%d", owner, repo, run.ID)})
	case strings.HasPrefix(rest, "check-runs/") && r.Method == http.MethodPatch:
		id, _ := strconv.ParseInt(strings.TrimPrefix(rest, "check-runs/"), 10, 64)
		if id < 1 || int(id) > len(s.Runs) {
			message(http.StatusNotFound, "Not Found")
			return
		}
		if msg := apply(s.Runs[id-1], body); msg != "" {
			message(http.StatusUnprocessableEntity, "Validation Failed: "+msg)
			return
		}
		reply(http.StatusOK, map[string]any{"id": id})
	default:
		s.t.Errorf("githubtest: unexpected request %s %s", r.Method, r.URL)
		message(http.StatusNotFound, "Not Found")
	}
}

// apply checks a check run create/update body as GitHub does and applies
// it: annotations are appended.
func apply(run *Run, body map[string]any) string {
	if s := str(body["status"]); s != "" {
		run.Status = s
	}
	if body["conclusion"] != nil {
		run.Conclusion = str(body["conclusion"])
		if body["completed_at"] == nil {
			return "a conclusion needs completed_at"
		}
	}
	if run.Status == "completed" && run.Conclusion == "" {
		return "a completed check run needs a conclusion"
	}
	out, _ := body["output"].(map[string]any)
	if out == nil {
		return ""
	}
	if str(out["title"]) == "" || str(out["summary"]) == "" {
		return "output needs a title and a summary"
	}
	if len(str(out["summary"])) > 65535 {
		return "summary is too long (maximum is 65535 characters)"
	}
	run.Title, run.Summary = str(out["title"]), str(out["summary"])
	anns, _ := out["annotations"].([]any)
	if len(anns) > 50 {
		return fmt.Sprintf("%d annotations in one request (maximum is 50)", len(anns))
	}
	for _, a := range anns {
		m, _ := a.(map[string]any)
		for _, k := range []string{"path", "start_line", "end_line", "annotation_level", "message"} {
			if m[k] == nil {
				return "annotation without " + k
			}
		}
		if lvl := str(m["annotation_level"]); lvl != "failure" && lvl != "warning" && lvl != "notice" {
			return "annotation_level " + lvl
		}
		run.Annotations = append(run.Annotations, m)
	}
	return ""
}

func str(v any) string {
	s, _ := v.(string)
	return s
}
