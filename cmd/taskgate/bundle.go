package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"taskgate.dev/taskgate/pkg/bundle"
	"taskgate.dev/taskgate/pkg/catalog"
)

const bundleUsage = `usage:
  taskgate bundle build  --task DIR [--repo PATH] [--output DIR]            gate the Task and write its bundle as an OCI layout
  taskgate bundle push   REF --task DIR [--repo PATH] [--trust-data FILE]    push to REF/task-<name>:<version> and :<version>-<commit>
  taskgate bundle verify REF@DIGEST --task DIR [--repo PATH]                pull through Tekton's resolver and compare with the source
DIR is the submission directory, e.g. partners/hello/0.1; REF a repository prefix, e.g. quay.io/org/catalog.
Registry credentials come from the Docker config ($DOCKER_CONFIG/config.json, else ~/.docker/config.json).`

func runBundle(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprintln(stderr, bundleUsage)
		return exitUsage
	}
	sub, args := args[0], args[1:]
	fs := newFlagSet("bundle "+sub, stderr)
	repoPath := fs.String("repo", ".", "the catalog repository")
	task := fs.String("task", "", "the submission directory, e.g. partners/hello/0.1")
	var o bundle.Options
	fs.StringVar(&o.Source, "source", "", "source repository URL (default: git remote origin)")
	fs.StringVar(&o.Revision, "revision", "", "source revision (default: the last commit that touched the submission, as Konflux's fixed tags)")
	fs.StringVar(&o.URL, "url", "", "web page of the Task (default: derived from --source)")
	fs.StringVar(&o.Documentation, "documentation", "", "documentation URL (default: the README in --source)")
	pipelines := fs.String("pipelines", "", "gate against the build pipelines of `DIR` (as validate --pipelines)")
	timeout := fs.Duration("timeout", 5*time.Minute, "give up on the registry after this long")
	var output, trustData *string
	switch sub {
	case "build":
		output = fs.String("output", "", "write the OCI image layout to `DIR` (default: bundle-<name>-<version>)")
	case "push":
		trustData = fs.String("trust-data", "bundle-trust.yaml", "write the policy trust data (Conforma trusted_tasks and rule_data.trusted_task_rules) to `FILE`")
	case "verify":
	default:
		fmt.Fprintf(stderr, "taskgate bundle: unknown subcommand %q\n%s\n", sub, bundleUsage)
		return exitUsage
	}
	pos, err := parseInterleaved(fs, args)
	if err != nil {
		return exitUsage
	}
	want := 1
	if sub == "build" {
		want = 0
	}
	if len(pos) != want || *task == "" {
		fmt.Fprintln(stderr, bundleUsage)
		return exitUsage
	}
	repo, err := catalog.Open(*repoPath)
	if err != nil {
		fmt.Fprintf(stderr, "taskgate bundle %s: %v\n", sub, err)
		return exitUsage
	}
	repo.PipelinesDir = *pipelines
	ctx, cancel := context.WithTimeout(context.Background(), *timeout)
	defer cancel()
	fail := func(err error) int {
		fmt.Fprintf(stderr, "taskgate bundle %s: %v\n", sub, err)
		var refused *bundle.RefusedError
		if errors.As(err, &refused) {
			return exitFindings
		}
		return 1
	}

	if sub == "verify" {
		s, err := repo.Submission(*task)
		if err != nil {
			return fail(err)
		}
		if s.Manifest == nil || s.Manifest.Task == nil {
			return fail(fmt.Errorf("%s holds no Task to compare with", *task))
		}
		note, err := bundle.Verify(ctx, pos[0], s.Manifest.Task, nil)
		if err != nil {
			return fail(err)
		}
		if note != "" {
			fmt.Fprintf(stderr, "taskgate bundle verify: note: %s\n", note)
		}
		fmt.Fprintf(stdout, "%s holds task %s exactly as %s defines it (read through Tekton's bundle resolver)\n", pos[0], s.Manifest.Task.Name, s.Manifest.Path)
		return exitOK
	}

	b, err := bundle.Build(repo, *task, o)
	if err != nil {
		return fail(err)
	}
	if sub == "build" {
		dir := *output
		if dir == "" {
			dir = fmt.Sprintf("bundle-%s-%s", b.Task.Name, b.Submission.Version)
		}
		if err := b.WriteLayout(dir); err != nil {
			return fail(err)
		}
		fmt.Fprintf(stdout, "%s (%d bytes) written to %s\n", b.Digest, b.Size, dir)
		return exitOK
	}

	p, err := bundle.Push(ctx, b, pos[0], bundle.PushOptions{Log: stderr})
	if err != nil {
		return fail(err)
	}
	data, err := bundle.Trust(p, b.Task.Name, time.Now()).YAML(p.Ref())
	if err == nil {
		err = os.WriteFile(*trustData, data, 0o644)
	}
	if err != nil {
		return fail(fmt.Errorf("pushed %s, but the trust data could not be written: %v", p.Ref(), err))
	}
	fmt.Fprintf(stderr, "trust data written to %s\n", *trustData)
	fmt.Fprintln(stdout, p.Ref())
	return exitOK
}
