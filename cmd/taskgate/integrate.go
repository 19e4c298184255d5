package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"sigs.k8s.io/yaml"
	"taskgate.dev/taskgate/pkg/pipeline"
	"taskgate.dev/taskgate/pkg/rules/integration"
)

// runIntegrate writes, for each submission and each build pipeline it
// fits, the composed Pipeline and a PipelineRun of it: the input of a
// cluster dry-run. The PipelineRun passes the pipeline's defaults,
// placeholders on `.invalid` hosts for required params (listed in its
// taskgate.dev/placeholders annotation), a volumeClaimTemplate for
// non-optional workspaces and no credentials.
func runIntegrate(args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("integrate", stderr)
	pipelines := fs.String("pipelines", "", "the build pipelines: `DIR` is a build-definitions checkout or its pipelines/ (default: PATH/pipelines)")
	changedFrom := fs.String("changed-from", "", "only the submissions changed since `REV` (as validate --changed-from)")
	out := fs.String("out", "", "write <submission>/<pipeline>/pipeline.yaml and pipelinerun.yaml under `DIR`")
	paths, err := parseInterleaved(fs, args)
	if err != nil {
		return exitUsage
	}
	if *out == "" {
		fmt.Fprintln(stderr, "usage: taskgate integrate [PATH] [--pipelines DIR] [--changed-from REV] --out DIR")
		return exitUsage
	}
	plan, ok := openCatalog("integrate", paths, *changedFrom, stderr)
	if !ok {
		return exitUsage
	}
	repo := plan.Repo
	repo.PipelinesDir = *pipelines
	contract, err := pipeline.Load(integration.PipelinesDir(repo))
	if err != nil {
		fmt.Fprintf(stderr, "taskgate integrate: %v (pass --pipelines DIR)\n", err)
		return exitUsage
	}
	status := exitOK
	for _, s := range plan.Submissions {
		s = s.Load()
		if s.Manifest == nil || s.Manifest.Task == nil {
			continue // not a Task: nothing to compose (validate says why)
		}
		fits, err := integration.Analyze(contract, s)
		if err != nil {
			fmt.Fprintf(stdout, "%s: not composed: %v\n", s.ID(), err)
			status = exitFindings
			continue
		}
		// not fitting one pipeline is no failure: fitting none (or a
		// pipeline the Task names) is, as validate judges it
		_, named := s.Manifest.Task.Annotations[pipeline.PipelinesAnnotation]
		fitsOne := false
		for _, f := range fits {
			fitsOne = fitsOne || f.OK()
		}
		if !fitsOne {
			status = exitFindings
		}
		for _, f := range fits {
			if !f.OK() {
				fmt.Fprintf(stdout, "%s: does not fit %s: %s\n", s.ID(), f.Build.Name, strings.Join(f.Problems(), "; "))
				if named {
					status = exitFindings
				}
				continue
			}
			dir := filepath.Join(*out, filepath.FromSlash(s.Dir), f.Build.Name)
			if err := writeFit(dir, f); err != nil {
				fmt.Fprintf(stderr, "taskgate integrate: %v\n", err)
				return exitUsage
			}
			fmt.Fprintf(stdout, "%s: fits %s as %s: %s\n", s.ID(), f.Build.Name, f.Slot, dir)
		}
	}
	return status
}

func writeFit(dir string, f *pipeline.Fit) error {
	pr := f.PipelineRun()
	if errs := pr.Validate(pipeline.Context()); errs != nil {
		return fmt.Errorf("the PipelineRun for %s fails Tekton validation (a taskgate bug): %v", f.Composed.Name, errs)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	for name, obj := range map[string]any{"pipeline.yaml": f.Composed, "pipelinerun.yaml": pr} {
		data, err := manifestYAML(obj)
		if err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
			return err
		}
	}
	return nil
}

// manifestYAML renders an API object as a manifest: without the nulls
// and the empty status the Go types marshal.
func manifestYAML(obj any) ([]byte, error) {
	raw, err := json.Marshal(obj)
	if err != nil {
		return nil, err
	}
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		return nil, err
	}
	delete(m, "status")
	return yaml.Marshal(dropNulls(m))
}

func dropNulls(v any) any {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			if e == nil {
				delete(x, k)
				continue
			}
			x[k] = dropNulls(e)
		}
	case []any:
		for i, e := range x {
			x[i] = dropNulls(e)
		}
	}
	return v
}
