package main

import (
	"fmt"
	"io"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"taskgate.dev/taskgate/pkg/catalog"
	"taskgate.dev/taskgate/pkg/rules/revoke"
)

// runRevoke proposes how to take a Task (or one version) out of the
// catalog: deprecate it while something still uses it, remove it when
// nothing does.
func runRevoke(args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("revoke", stderr)
	expires := fs.String("expires-on", "", "removal date, RFC 3339 (default: 30 days from now, UTC midnight)")
	message := fs.String("message", "", "expiry message shown to users (default: names the replacement version)")
	apply := fs.Bool("apply", false, "edit the files (or `git rm` them) instead of printing the change")
	pos, err := parseInterleaved(fs, args)
	if err != nil {
		return exitUsage
	}
	if len(pos) < 1 || len(pos) > 2 {
		fmt.Fprintln(stderr, "usage: taskgate revoke TASK[/VERSION] [PATH] [--expires-on RFC3339] [--message TEXT] [--apply]")
		return exitUsage
	}
	name, version, _ := strings.Cut(pos[0], "/")
	root := "."
	if len(pos) == 2 {
		root = pos[1]
	}
	when := time.Now().UTC().Truncate(24*time.Hour).AddDate(0, 0, 30)
	if *expires != "" {
		if when, err = time.Parse(time.RFC3339, *expires); err != nil {
			fmt.Fprintf(stderr, "taskgate revoke: --expires-on %q: want RFC 3339, e.g. 2026-01-31T00:00:00Z\n", *expires)
			return exitUsage
		}
	}
	repo, err := catalog.Open(root)
	if err != nil {
		fmt.Fprintf(stderr, "taskgate revoke: %v\n", err)
		return exitUsage
	}
	subs, err := repo.Discover()
	if err != nil {
		fmt.Fprintf(stderr, "taskgate revoke: %v\n", err)
		return exitUsage
	}
	var chosen []*catalog.Submission
	var remaining []string
	for _, s := range subs {
		switch {
		case s.Name != name:
		case version == "" || s.Version == version:
			chosen = append(chosen, s)
		default:
			remaining = append(remaining, s.Version)
		}
	}
	if len(chosen) == 0 {
		fmt.Fprintf(stderr, "taskgate revoke: no submission %s in %s (looked for %s/%s/%s)\n", pos[0], repo.Root, strings.Join(catalog.Layouts, "|"), name, or(version, "*"))
		return exitUsage
	}
	var targets []revoke.Target
	for _, s := range chosen {
		targets = append(targets, revoke.Target{Layout: s.Layout, Name: s.Name, Version: s.Version, Last: len(remaining) == 0})
	}
	refs, err := revoke.References(repo.Root, targets)
	if err != nil {
		fmt.Fprintf(stderr, "taskgate revoke: %v\n", err)
		return exitUsage
	}

	if len(refs) == 0 {
		dirs := []string{}
		for _, t := range targets {
			dirs = append(dirs, t.Dir())
		}
		if len(remaining) == 0 { // the whole Task goes, with its OWNERS and README
			dirs = []string{path.Join(targets[0].Layout, name)}
		}
		cmd := append([]string{"git", "rm", "-r", "--"}, dirs...)
		if !*apply {
			fmt.Fprintf(stdout, "nothing references %s: remove it with\n  %s\n", pos[0], strings.Join(cmd, " "))
			return exitOK
		}
		git := exec.Command(cmd[0], cmd[1:]...)
		git.Dir, git.Stdout, git.Stderr = repo.Root, stderr, stderr
		if err := git.Run(); err != nil {
			fmt.Fprintf(stderr, "taskgate revoke: %s: %v\n", strings.Join(cmd, " "), err)
			return 1
		}
		fmt.Fprintf(stdout, "removed %s (staged with git rm)\n", strings.Join(dirs, ", "))
		return exitOK
	}

	fmt.Fprintf(stdout, "%s is still referenced; deprecate it first (remove it once nothing refers to it):\n", pos[0])
	for _, r := range refs {
		fmt.Fprintf(stdout, "  %s\n", r)
	}
	for _, s := range chosen {
		if s.Manifest == nil || s.Manifest.Task == nil {
			fmt.Fprintf(stderr, "taskgate revoke: %s holds no Task to annotate\n", s.Dir)
			return 1
		}
		msg := *message
		if msg == "" {
			msg = fmt.Sprintf("%s %s is deprecated and will be removed on %s.", s.Name, s.Version, when.Format("2006-01-02"))
			if len(remaining) > 0 {
				msg += fmt.Sprintf(" Please use %s %s instead.", s.Name, newest(remaining))
			}
		}
		e, err := revoke.Deprecate(s.Manifest, when, msg)
		if err != nil {
			fmt.Fprintf(stderr, "taskgate revoke: %v\n", err)
			return 1
		}
		if !*apply {
			fmt.Fprint(stdout, e.Diff)
			continue
		}
		abs := filepath.Join(repo.Root, filepath.FromSlash(e.Path))
		st, err := os.Stat(abs)
		if err == nil {
			err = os.WriteFile(abs, e.Data, st.Mode().Perm())
		}
		if err != nil {
			fmt.Fprintf(stderr, "taskgate revoke: %v\n", err)
			return 1
		}
		fmt.Fprintf(stdout, "deprecated %s: expires on %s\n", e.Path, when.Format(time.RFC3339))
	}
	return exitOK
}

func or(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// newest picks the highest N.N version (numerically: 0.10 > 0.9).
func newest(versions []string) string {
	best := versions[0]
	for _, v := range versions[1:] {
		if less(best, v) {
			best = v
		}
	}
	return best
}

func less(a, b string) bool {
	as, bs := strings.Split(a, "."), strings.Split(b, ".")
	for i := 0; i < len(as) && i < len(bs); i++ {
		x, errx := strconv.Atoi(as[i])
		y, erry := strconv.Atoi(bs[i])
		if errx != nil || erry != nil {
			return a < b
		}
		if x != y {
			return x < y
		}
	}
	return len(as) < len(bs)
}
