package integration

import (
	"strings"
	"testing"

	"taskgate.dev/taskgate/internal/testrepo"
	"taskgate.dev/taskgate/pkg/catalog"
	"taskgate.dev/taskgate/pkg/check"
)

// Hand-made Tasks that do not fit, each failing with its rule on its line,
// against the hand-made pipelines.
func TestTasksThatDoNotFit(t *testing.T) {
	fixturePipelines := mini(t, "pipelines")
	const img = "registry.access.redhat.com/ubi9/ubi-minimal@sha256:95413c8dacaac773421428947a431c1cb099d19b4b1125df77d5d1cd2f463ab8"
	head := func(ann string) string {
		return "apiVersion: tekton.dev/v1\nkind: Task\nmetadata:\n  name: partner-scan\n" + ann + "spec:\n"
	}
	step := "  steps:\n  - name: scan\n    image: " + img + "\n    script: |\n"
	writes := "      printf '{\"result\":\"SUCCESS\",\"timestamp\":\"%s\",\"successes\":1,\"failures\":0,\"warnings\":0}' \"$(date -u +%FT%TZ)\" > \"$(results.TEST_OUTPUT.path)\"\n"
	for _, tc := range []struct {
		name, yaml string
		rule       *check.Check
		line       int
		want       string
	}{
		{"a required param nothing binds",
			head("") + "  params:\n  - name: image-url\n  - name: license-server\n  results:\n  - name: TEST_OUTPUT\n" + step + writes,
			UnboundParam, 8, `required param "license-server" (no default) cannot be bound in all 2 build pipelines`},
		{"a workspace only source pipelines provide, targeting a trusted-artifacts pipeline",
			head("  annotations:\n    taskgate.dev/pipelines: docker-build-oci-ta\n") + "  params:\n  - name: image-url\n  workspaces:\n  - name: source\n  results:\n  - name: TEST_OUTPUT\n" + step + writes,
			Workspace, 11, `workspace "source" (not optional) cannot be provided by docker-build-oci-ta`},
		{"a check that never writes TEST_OUTPUT",
			head("") + "  params:\n  - name: image-url\n  results:\n  - name: TEST_OUTPUT\n" + step + "      echo scanned\n",
			TestOutput, 9, "declares TEST_OUTPUT but no step writes $(results.TEST_OUTPUT.path)"},
		{"an image check emitting IMAGE_URL",
			head("") + "  params:\n  - name: image-url\n  results:\n  - name: TEST_OUTPUT\n  - name: IMAGE_URL\n" + step + writes + "      echo -n quay.io/evil/other > \"$(results.IMAGE_URL.path)\"\n",
			Provenance, 10, "result IMAGE_URL is read by Tekton Chains"},
		{"a Task no place takes (its result feeds nothing, it takes nothing of the build)",
			head("") + "  results:\n  - name: report\n" + step + "      echo -n x > \"$(results.report.path)\"\n",
			Compose, 4, "fits none of the build pipelines it targets: no place of the 2 takes it"},
	} {
		s := submission(t, tc.yaml, fixturePipelines)
		res := check.Run([]*catalog.Submission{s}, Checks, nil)
		var errs []check.Finding
		for _, f := range res.Submissions[0].Findings {
			if f.Severity == check.Error {
				errs = append(errs, f)
			}
		}
		if len(errs) != 1 || errs[0].Rule != tc.rule.ID || errs[0].Line != tc.line || !strings.Contains(errs[0].Message, tc.want) {
			t.Errorf("%s: want one %s error at line %d (%q), got %v", tc.name, tc.rule.ID, tc.line, tc.want, errs)
		}
	}
}

// A check writes TEST_OUTPUT any way a script writes a result: through an
// env var holding the path, tee, a shell variable, command/args, or a
// StepAction of the repository.
func TestTestOutputWrittenAnyWay(t *testing.T) {
	head := "apiVersion: tekton.dev/v1\nkind: Task\nmetadata:\n  name: t\nspec:\n  params:\n  - name: image-url\n  results:\n  - name: TEST_OUTPUT\n  steps:\n  - name: s\n    image: x\n"
	shape := `{"result":"SUCCESS","timestamp":"t","successes":0,"failures":0,"warnings":0}`
	for name, step := range map[string]string{
		"env var":        "    env:\n    - name: OUT\n      value: $(results.TEST_OUTPUT.path)\n    script: |\n      echo '" + shape + "' > \"$OUT\"\n",
		"tee":            "    script: |\n      echo '" + shape + "' | tee $(results.TEST_OUTPUT.path)\n",
		"shell variable": "    script: |\n      out=$(results.TEST_OUTPUT.path)\n      echo '" + shape + "' > \"$out\"\n",
		"args":           "    command: [sh, -c]\n    args:\n    - |\n      echo '" + shape + "' > $(results.TEST_OUTPUT.path)\n",
	} {
		if fs := run(TestOutput, submission(t, head+step, "")); len(fs) != 0 {
			t.Errorf("%s: %v", name, fs)
		}
	}
	// a step whose StepAction (in the repository) writes it
	s := submission(t, "apiVersion: tekton.dev/v1\nkind: Task\nmetadata:\n  name: t\nspec:\n  params:\n  - name: image-url\n  results:\n  - name: TEST_OUTPUT\n  steps:\n  - name: s\n    ref:\n      name: report\n", "")
	testrepo.Write(t, s.Repo.Root, map[string]string{"stepactions/report/0.1/report.yaml": "apiVersion: tekton.dev/v1beta1\nkind: StepAction\nmetadata:\n  name: report\nspec:\n  image: x\n  script: |\n    echo '" + shape + "' > $(results.TEST_OUTPUT.path)\n"})
	if fs := run(TestOutput, s); len(fs) != 0 {
		t.Errorf("StepAction: %v", fs)
	}
	// and without it, the Task is told
	if fs := run(TestOutput, submission(t, "apiVersion: tekton.dev/v1\nkind: Task\nmetadata:\n  name: t\nspec:\n  params:\n  - name: image-url\n  results:\n  - name: TEST_OUTPUT\n  steps:\n  - name: s\n    ref:\n      name: report\n", "")); len(fs) != 1 {
		t.Errorf("unresolved StepAction: %v", fs)
	}
}
