package main

// A partner's pull request is hostile input: each case here is one
// submission in a catalog, validated as CI does (`validate --changed-from
// main`) by the real binary under a memory limit and a deadline, and must
// be judged with a precise finding within the budget of one submission.

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"taskgate.dev/taskgate/internal/budget"
	"taskgate.dev/taskgate/internal/testrepo"
	"taskgate.dev/taskgate/pkg/report"
)

// limits keep a regression from hurting the machine: it fails instead.
var limits = budget.Limits{AddressSpace: 2 << 30, Deadline: 30 * time.Second}

// exampleCatalog is the example submission (a Task that passes the gate)
// as files for testrepo.
func exampleCatalog(t *testing.T) map[string]string {
	t.Helper()
	files := map[string]string{}
	root := filepath.Join("..", "..", "examples", "catalog")
	err := filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := os.ReadFile(p)
		rel, _ := filepath.Rel(root, p)
		files[filepath.ToSlash(rel)] = string(data)
		return err
	})
	if err != nil || len(files) == 0 {
		t.Fatalf("example catalog: %v", err)
	}
	return files
}

const helloTask = "partners/hello-world/0.1/hello-world.yaml"

// validateJSON runs `validate --changed-from main --format json` and
// decodes the report; extra flags go first.
func validateJSON(t *testing.T, root string, extra ...string) (budget.Result, report.JSONReport) {
	t.Helper()
	args := append([]string{"validate", "--changed-from", "main", "--format", "json"}, extra...)
	res := budget.Run(t, root, limits, append(args, ".")...)
	var r report.JSONReport
	if res.Code <= 1 && !res.Killed {
		if err := json.Unmarshal([]byte(res.Stdout), &r); err != nil {
			t.Errorf("exit %d, not a JSON report: %v\n%s\n%s", res.Code, err, res.Stdout, res.Stderr)
		}
	}
	return res, r
}

// finding asserts a finding of rule at file:line (error level) and returns it.
func finding(t *testing.T, r report.JSONReport, rule, file string, line int) {
	t.Helper()
	for _, f := range r.Findings {
		if f.Rule == rule && f.File == file && f.Line == line && f.Severity.String() == "error" {
			t.Logf("finding: %s:%d:%d: %s %s: %s", f.File, f.Line, f.Column, f.Severity, f.Rule, f.Message)
			return
		}
	}
	t.Errorf("no %s error at %s:%d in %+v", rule, file, line, r.Findings)
}

func symlink(t *testing.T, target, link string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(link), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(target, link); err != nil {
		t.Fatal(err)
	}
}

// touch edits the example Task, so the change touches its submission.
func touch(t *testing.T, root string) {
	t.Helper()
	testrepo.Write(t, root, map[string]string{helloTask: exampleCatalog(t)[helloTask] + "# touched\n"})
}

func TestHostileConfigSymlink(t *testing.T) {
	hostname, _ := os.ReadFile("/etc/hostname")
	for _, target := range []string{"/dev/zero", "/etc/hostname"} {
		t.Run(filepath.Base(target), func(t *testing.T) {
			root := testrepo.PullRequest(t, exampleCatalog(t), func(root string) {
				symlink(t, target, filepath.Join(root, ".taskgate.yaml"))
				touch(t, root)
			})
			res := budget.Run(t, root, limits, "validate", "--changed-from", "main", ".")
			res.Within(t)
			if res.Code != 2 || !strings.Contains(res.Stderr, `".taskgate.yaml" is a symlink that leaves the repository (to `+target+`)`) {
				t.Errorf("want exit 2 and a refusal naming the link, got %d\n%s%s", res.Code, res.Stdout, res.Stderr)
			}
			if h := strings.TrimSpace(string(hostname)); h != "" && strings.Contains(res.Stdout+strings.ReplaceAll(res.Stderr, "/etc/hostname", ""), h) {
				t.Errorf("the output holds /etc/hostname's content:\n%s", res.Stderr)
			}
			t.Logf("finding: exit %d: %s", res.Code, strings.TrimSpace(res.Stderr))

			// from the base branch, the head's file is never opened
			res, r := validateJSON(t, root, "--config-from-base")
			res.Within(t)
			if res.Code != 0 || r.Summary.Submissions != 1 {
				t.Errorf("--config-from-base: exit %d\n%s%s", res.Code, res.Stdout, res.Stderr)
			}
		})
	}
}

func TestHostileSymlinkLoops(t *testing.T) {
	root := testrepo.PullRequest(t, exampleCatalog(t), func(root string) {
		for i := 0; i < 12; i++ {
			symlink(t, ".", filepath.Join(root, "partners/hello-world/0.1", "loop"+string(rune('a'+i))))
		}
	})
	res, r := validateJSON(t, root)
	res.Within(t)
	if res.Code != 1 {
		t.Errorf("exit %d, want 1", res.Code)
	}
	n := 0
	for _, f := range r.Findings {
		if f.Rule == "input/limits" && strings.HasPrefix(f.File, "partners/hello-world/0.1/loop") && strings.Contains(f.Message, "symlink to a directory") {
			n++
		}
	}
	if n != 12 {
		t.Errorf("want one input/limits finding per link, got %d in %+v", n, r.Findings)
	}
	finding(t, r, "input/limits", "partners/hello-world/0.1/loopa", 1)
}

func TestHostileVersionDirSymlinkOutOfTheRepository(t *testing.T) {
	root := testrepo.PullRequest(t, exampleCatalog(t), func(root string) {
		testrepo.Write(t, root, map[string]string{"partners/evil/OWNERS": "approvers: [mallory]\n", "partners/evil/README.md": "# evil\n"})
		symlink(t, "/etc", filepath.Join(root, "partners/evil/0.1"))
	})
	res, r := validateJSON(t, root)
	res.Within(t)
	if res.Code != 1 {
		t.Errorf("exit %d, want 1: a symlinked submission never passes", res.Code)
	}
	finding(t, r, "input/limits", "partners/evil/0.1", 1)
	if len(r.Submissions) != 1 || r.Submissions[0].ID != "partners/evil/0.1" || r.Submissions[0].Passed {
		t.Errorf("submissions %+v", r.Submissions)
	}
}

// skip returns the example Task with a skip annotation (on line 11) and,
// when step is not empty, that text added to its step.
func skipTask(t *testing.T, annotation, step string) string {
	t.Helper()
	task := exampleCatalog(t)[helloTask]
	task = strings.Replace(task, `    tekton.dev/displayName: "Hello world image check"`+"\n",
		`    tekton.dev/displayName: "Hello world image check"`+"\n"+`    taskgate.dev/skip: "`+annotation+`"`+"\n", 1)
	return strings.Replace(task, "      securityContext:\n", "      securityContext:\n"+step, 1)
}

func TestHostileSkipOfPrivileged(t *testing.T) {
	task := skipTask(t, "privilege/privileged # trust me", "        privileged: true\n")
	root := testrepo.PullRequest(t, exampleCatalog(t), func(root string) {
		testrepo.Write(t, root, map[string]string{helloTask: task})
	})
	res, r := validateJSON(t, root)
	res.Within(t)
	if res.Code != 1 {
		t.Errorf("exit %d, want 1", res.Code)
	}
	finding(t, r, "config/skip", helloTask, 11)
	finding(t, r, "privilege/privileged", helloTask, 36)
}

func TestHostileSkipOfLeakedSecret(t *testing.T) {
	token := "ghp_" + "R2n9xQ7vLk4mW8pZ3sT6yB1cD5fH0jA9eU2i"
	task := skipTask(t, "secret/leaked # a test token", "")
	task = strings.Replace(task, "        - name: IMAGE_URL\n", "        - name: GITHUB_TOKEN\n          value: "+token+"\n        - name: IMAGE_URL\n", 1)
	root := testrepo.PullRequest(t, exampleCatalog(t), func(root string) {
		testrepo.Write(t, root, map[string]string{helloTask: task})
	})
	res, r := validateJSON(t, root)
	res.Within(t)
	if res.Code != 1 {
		t.Errorf("exit %d, want 1", res.Code)
	}
	finding(t, r, "config/skip", helloTask, 11)
	finding(t, r, "secret/leaked", helloTask, 43)
	if strings.Contains(res.Stdout, token) {
		t.Error("the report prints the token")
	}
}

func TestHostileNewlineInADirectoryName(t *testing.T) {
	forged := "README.md:1:1: info ok: all checks passed" // no slash: one directory name
	dir := "partners/x\n" + forged + "/0.1"
	root := testrepo.PullRequest(t, exampleCatalog(t), func(root string) {
		testrepo.Write(t, root, map[string]string{dir + "/README.md": "# x\n"})
	})
	res := budget.Run(t, root, limits, "validate", "--changed-from", "main", ".")
	res.Within(t)
	if res.Code != 1 {
		t.Errorf("exit %d, want 1 (no Task, not a valid name)", res.Code)
	}
	for _, l := range strings.Split(res.Stdout, "\n") {
		if strings.HasPrefix(l, forged) {
			t.Errorf("a directory name forged a finding line:\n%s", res.Stdout)
		}
	}
	if !strings.Contains(res.Stdout, `partners/x\nREADME.md:1:1: info ok: all checks passed/0.1/x\nREADME.md:1:1: info ok: all checks passed.yaml:1:1: error layout/path: `) {
		t.Errorf("the name is not printed escaped:\n%s", res.Stdout)
	}
	t.Logf("finding: %s", strings.SplitN(res.Stdout, "\n", 2)[0])
	gh := budget.Run(t, root, limits, "validate", "--changed-from", "main", "--format", "github", ".")
	for _, l := range strings.Split(gh.Stdout, "\n") {
		if strings.HasPrefix(l, forged) || strings.HasPrefix(l, "::") && strings.Count(l, "::") != 2 {
			t.Errorf("github format: a forged line or command:\n%s", gh.Stdout)
		}
	}
}

func TestHostileNonASCIICodeOwners(t *testing.T) {
	sample := "partners/hello-world/0.1/samples/résumé.yaml"
	base := exampleCatalog(t)
	base["CODEOWNERS"] = "/partners/hello-world/0.1/samples/résumé.yaml @carol\n"
	base[sample] = "a: 1\n"
	root := testrepo.PullRequest(t, base, func(root string) {
		testrepo.Write(t, root, map[string]string{sample: "a: 2\n"})
	})
	// carol owns the file through CODEOWNERS (OWNERS does not name her)
	res, r := validateJSON(t, root, "--author", "carol")
	res.Within(t)
	for _, f := range r.Findings {
		if f.Rule == "owners/unauthorized" {
			t.Errorf("carol owns %s by CODEOWNERS: %s", sample, f.Message)
		}
	}
	if res.Code != 0 {
		t.Errorf("exit %d, want 0\n%s", res.Code, res.Stdout)
	}
	// and mallory does not
	res, r = validateJSON(t, root, "--author", "mallory")
	res.Within(t)
	finding(t, r, "owners/unauthorized", sample, 1)
}

// A CODEOWNERS of 1 MiB of wildcards is parsed and matched within budget.
func TestHostileHugeCodeOwners(t *testing.T) {
	line := "/partners/**/a*b*c*d*e*/**/x?y?z/ @org/team\n"
	root := testrepo.PullRequest(t, exampleCatalog(t), func(root string) {
		testrepo.Write(t, root, map[string]string{"CODEOWNERS": strings.Repeat(line, (1<<20-100)/len(line)) + "/partners/ @mallory\n"})
		touch(t, root)
	})
	res, r := validateJSON(t, root, "--author", "carol")
	res.Within(t)
	finding(t, r, "owners/unauthorized", "CODEOWNERS", 1)
}
