package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"taskgate.dev/taskgate/pkg/check"
	"taskgate.dev/taskgate/pkg/cluster"
	"taskgate.dev/taskgate/pkg/gate"
	"taskgate.dev/taskgate/pkg/report"
)

// runDryRun checks submissions against a real cluster: a server-side
// dry-run of each Task and of the composed Pipelines and PipelineRuns
// `taskgate integrate --out DIR` wrote for it, and with --run a real run
// of the Task in a sandbox namespace that is always deleted, given the
// build's image (--image) and checkout (--source) as the build pipelines
// it fits would give them.
func runDryRun(args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("dry-run", stderr)
	kubeconfig := fs.String("kubeconfig", "", "the cluster's kubeconfig `FILE` (default: $KUBECONFIG, else ~/.kube/config)")
	kubeContext := fs.String("context", "", "the kubeconfig `CONTEXT` to use (default: its current context)")
	namespace := fs.String("namespace", "", "dry-run in namespace `NS` (default: the context's namespace, else default)")
	composed := fs.String("composed", "", "also dry-run the composed Pipelines and PipelineRuns `taskgate integrate --out DIR` wrote under `DIR`")
	run := fs.Bool("run", false, "also run each Task for real in a throw-away sandbox namespace (Pod Security restricted, no credentials)")
	timeout := fs.Duration("timeout", 10*time.Minute, "the sandboxed run's PipelineRun timeout (the client waits 2m longer)")
	image := fs.String("image", "", "with --run: the image the build pushed, `REF` (repo:tag@sha256:..., or repo:tag and its digest is asked of the registry), given as the build pipelines give IMAGE_URL and IMAGE_DIGEST (default: a .invalid placeholder)")
	source := fs.String("source", "", "with --run: a checkout `DIR` (a git clone of the project the build built, with its .git) for the source workspace, read-only (default: an empty workspace)")
	changedFrom := fs.String("changed-from", "", "only the submissions changed since `REV`")
	format := fs.String("format", "text", "output format: "+strings.Join(report.Formats, ", "))
	output := fs.String("output", "", "write the report to `FILE` instead of standard output")
	docBaseFlag := fs.String("doc-base", "", docBaseUsage)
	paths, err := parseInterleaved(fs, args)
	if err != nil {
		return exitUsage
	}
	if len(paths) > 1 {
		fmt.Fprintln(stderr, "taskgate dry-run: at most one PATH (the catalog repository)")
		return exitUsage
	}
	if !contains(report.Formats, *format) {
		fmt.Fprintf(stderr, "taskgate dry-run: unknown format %q (want one of %s)\n", *format, strings.Join(report.Formats, ", "))
		return exitUsage
	}
	if *timeout <= 0 {
		fmt.Fprintln(stderr, "taskgate dry-run: --timeout must be positive")
		return exitUsage
	}
	if *composed != "" {
		if st, err := os.Stat(*composed); err != nil || !st.IsDir() {
			fmt.Fprintf(stderr, "taskgate dry-run: --composed %s is not a directory (run `taskgate integrate --out DIR` first)\n", *composed)
			return exitUsage
		}
	}
	if (*image != "" || *source != "") && !*run {
		fmt.Fprintln(stderr, "taskgate dry-run: --image and --source are what --run gives the Task: add --run")
		return exitUsage
	}
	root := "."
	if len(paths) == 1 {
		root = paths[0]
	}
	client, err := cluster.New(*kubeconfig, *kubeContext)
	if err != nil {
		fmt.Fprintf(stderr, "taskgate dry-run: %v\n", err)
		return exitUsage
	}
	if *namespace != "" {
		client.Namespace = *namespace
	}
	// Ctrl-C or SIGTERM cancels the runs, whose sandboxes are deleted on
	// the way out; a second signal kills at once.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	go func() { <-ctx.Done(); stop() }()

	// The cluster rules through the gate's own run. With a change,
	// .taskgate.yaml is read as of its base: a pull request cannot open
	// the sandbox's network (sandbox.egress) for itself.
	opts := cluster.RunOptions{Timeout: *timeout}
	if *image != "" {
		if opts.Build.Image, err = cluster.ResolveImage(ctx, *image); err != nil {
			fmt.Fprintf(stderr, "taskgate dry-run: --image: %v\n", err)
			return exitUsage
		}
	}
	if *source != "" {
		if opts.Build.Source, err = cluster.ReadSource(*source); err != nil {
			fmt.Fprintf(stderr, "taskgate dry-run: --source: %v\n", err)
			return exitUsage
		}
	}
	target := &cluster.Target{Ctx: ctx, Client: client, Composed: *composed, Run: *run, Options: opts}
	plan, err := gate.Prepare(gate.Options{Root: root, ChangedFrom: *changedFrom, ConfigFromBase: *changedFrom != "",
		Rules: cluster.Rules, Cluster: target})
	if err != nil {
		fmt.Fprintf(stderr, "taskgate dry-run: %v\n", err)
		return exitUsage
	}
	if len(plan.Submissions) == 0 {
		fmt.Fprintf(stderr, "taskgate dry-run: no submission to check under %s\n", root)
	}
	base, err := docBase(*docBaseFlag, plan.Repo.Config)
	if err != nil {
		fmt.Fprintf(stderr, "taskgate dry-run: %v\n", err)
		return exitUsage
	}
	res := plan.Run()
	var buf bytes.Buffer
	// its infos are what the cluster said (the Task ran, what it wrote): shown
	if err := report.WriteWith(&buf, *format, res, report.Options{Verbose: true, DocBase: base}); err != nil {
		fmt.Fprintf(stderr, "taskgate dry-run: %v\n", err)
		return exitUsage
	}
	if *output != "" {
		if err := os.WriteFile(*output, buf.Bytes(), 0o644); err != nil {
			fmt.Fprintf(stderr, "taskgate dry-run: %v\n", err)
			return exitUsage
		}
	} else if _, err := stdout.Write(buf.Bytes()); err != nil {
		return exitUsage
	}
	if ctx.Err() != nil {
		fmt.Fprintln(stderr, "taskgate dry-run: interrupted")
		return exitUsage
	}
	if res.Count(check.Error) > 0 {
		return exitFindings
	}
	return exitOK
}
