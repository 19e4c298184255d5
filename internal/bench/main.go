// Command bench measures taskgate as a whole process, side by side with
// catlin (the Tekton catalog's own linter) when one is given, on the
// corpus: the 292 tektoncd/catalog Tasks catlin accepts, with plain rules
// (no build pipelines, no shellcheck), with shellcheck, as the full gate
// (shellcheck and the 13 build pipelines of build-definitions), the full
// gate from a warm --cache, one Task end to end with the pipelines, and
// the plain rules and the full gate on ten times the Tasks (nine renamed
// copies of each). It reports CPU time (user+system) and peak RSS,
// medians over the runs, taskgate's ratio to catlin run pair by pair,
// and what ten times the Tasks cost taskgate.
//
// `make bench` runs it; CATLIN_SRC=DIR builds catlin from its sources.
// -timer CMD hands each pair to an external timer instead, called as
// `CMD --vs 'CATLIN COMMAND' -- TASKGATE COMMAND`.
package main

import (
	"flag"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime/debug"
	"slices"
	"sort"
	"strings"
	"syscall"
	"time"
)

// catlinRejects are the tektoncd/catalog Task versions `catlin validate`
// fails (corpus/tektoncd-catalog/SOURCES.md): the other 292 are compared.
var catlinRejects = map[string]bool{
	"jumpstarter-get-lease/0.1": true, "jumpstarter-release-lease/0.1": true, "jumpstarter-run-cmd/0.1": true,
	"oci-cli/0.1": true, "python-boto3-aws/0.1": true, "python-sdk-azure/0.1": true, "rhacs-generic/0.1": true, "yq/0.5": true,
}

// oneTask is the submission timed end to end.
const oneTask = "partners/example-hello-world/0.1"

func main() {
	corpus := flag.String("corpus", "../shared/corpus", "the shared corpus")
	taskgate := flag.String("taskgate", "bin/taskgate", "the taskgate binary")
	catlin := flag.String("catlin", "", "the catlin binary (default: catlin on PATH, if any)")
	runs := flag.Int("runs", 5, "counted runs of each command (after one warm-up)")
	timer := flag.String("timer", "", "an external timer `CMD`, called as CMD --vs 'B' -- A")
	only := flag.String("only", "", "run only the configurations whose name contains one of the comma-separated `TEXTS`")
	flag.Parse()
	if err := run(*corpus, *taskgate, *catlin, *runs, *timer, *only); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

// config is one measurement: taskgate's command and catlin's on the same
// Tasks (nil: taskgate alone).
type config struct {
	name     string
	taskgate []string
	noShell  bool // taskgate runs without shellcheck on PATH
	catlin   []string
	of       string // the configuration this one is ten times (its scaling is reported)
}

func run(corpus, taskgate, catlin string, runs int, timer, only string) error {
	tg, err := filepath.Abs(taskgate)
	if err != nil {
		return err
	}
	// the commands run in a temporary directory: every path absolute
	if corpus, err = filepath.Abs(corpus); err != nil {
		return err
	}
	if _, err := os.Stat(tg); err != nil {
		return fmt.Errorf("taskgate binary: %v (make build)", err)
	}
	if catlin == "" {
		catlin, _ = exec.LookPath("catlin")
	}
	if catlin != "" {
		if catlin, err = filepath.Abs(catlin); err != nil {
			return err
		}
	}
	tmp, err := os.MkdirTemp("", "taskgate-bench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	// both binaries are measured as plain copies: how the page cache holds
	// a file the linker just wrote can add 10 MiB of file-backed peak RSS
	if tg, err = copyExec(tg, filepath.Join(tmp, "bin", "taskgate")); err != nil {
		return err
	}
	if catlin != "" {
		if catlin, err = copyExec(catlin, filepath.Join(tmp, "bin", "catlin")); err != nil {
			return err
		}
	}
	catalog := filepath.Join(tmp, "catalog") // the 292 Tasks
	n, err := copyTasks(filepath.Join(corpus, "tektoncd-catalog"), catalog)
	if err != nil {
		return err
	}
	if n != 292 {
		return fmt.Errorf("%d Task versions catlin accepts in the corpus, want 292: is the corpus complete?", n)
	}
	// ten times the Tasks: the 292 and nine renamed copies of each
	catalog10 := filepath.Join(tmp, "catalog10")
	if err := tenfold(catalog, catalog10); err != nil {
		return err
	}
	bd := filepath.Join(corpus, "build-definitions")
	one := filepath.Join(tmp, "one")
	if err := copyDir(filepath.Join(bd, oneTask), filepath.Join(one, oneTask)); err != nil {
		return err
	}
	if err := copyFile(filepath.Join(bd, "partners/example-hello-world/OWNERS"), filepath.Join(one, "partners/example-hello-world/OWNERS")); err != nil {
		return err
	}
	// what is measured must be what is meant: the one Task is composed
	// into the build pipelines
	out, err := exec.Command(tg, "validate", one, "--format", "json", "--pipelines", bd).Output()
	if n := strings.Count(string(out), `"fits": true`); n < 2 {
		return fmt.Errorf("%s fits %d build pipelines of %s (%v): is the corpus complete?", oneTask, n, bd, err)
	}
	noShell := filepath.Join(tmp, "path") // PATH without shellcheck
	if err := os.Mkdir(noShell, 0o755); err != nil {
		return err
	}
	if git, err := exec.LookPath("git"); err == nil {
		os.Symlink(git, filepath.Join(noShell, "git"))
	}
	cacheDir := filepath.Join(tmp, "cache")

	var catlinAll, catlinAll10, catlinOne []string
	if catlin != "" {
		stop, err := serveHubConfig(filepath.Join(corpus, "tektoncd-catalog", "hub-config.yaml"), tmp)
		if err != nil {
			return err
		}
		defer stop()
		files, err := yamlFiles(catalog)
		if err != nil {
			return err
		}
		catlinAll = append([]string{catlin, "validate"}, files...)
		files10, err := yamlFiles(catalog10)
		if err != nil {
			return err
		}
		catlinAll10 = append([]string{catlin, "validate"}, files10...)
		catlinOne = []string{catlin, "validate", filepath.Join(one, oneTask, "example-hello-world.yaml")}
	}
	configs := []config{
		{"plain rules, 292 Tasks", []string{tg, "validate", catalog, "--format", "json"}, true, catlinAll, ""},
		{"with shellcheck, 292 Tasks", []string{tg, "validate", catalog, "--format", "json"}, false, catlinAll, ""},
		{"full gate (shellcheck, 13 pipelines), 292 Tasks", []string{tg, "validate", catalog, "--format", "json", "--pipelines", bd}, false, catlinAll, ""},
		{"full gate from a warm --cache, 292 Tasks", []string{tg, "validate", catalog, "--format", "json", "--pipelines", bd, "--cache", cacheDir}, false, catlinAll, ""},
		{"one Task end to end, 13 pipelines", []string{tg, "validate", one, "--format", "json", "--pipelines", bd}, false, catlinOne, ""},
		{"plain rules, 2920 Tasks (10x)", []string{tg, "validate", catalog10, "--format", "json"}, true, catlinAll10, "plain rules, 292 Tasks"},
		{"full gate (shellcheck, 13 pipelines), 2920 Tasks (10x)", []string{tg, "validate", catalog10, "--format", "json", "--pipelines", bd}, false, catlinAll10, "full gate (shellcheck, 13 pipelines), 292 Tasks"},
	}
	// without shellcheck, a configuration that counts it would quietly
	// measure the plain rules
	if _, err := exec.LookPath("shellcheck"); err != nil {
		for _, c := range configs {
			if picked(c.name, only) && !c.noShell {
				return fmt.Errorf("shellcheck is not on PATH, so %q would be timed without it (make deps, or -only plain)", c.name)
			}
		}
	}
	debug.FreeOSMemory()
	if catlin == "" {
		fmt.Println("catlin: not given (CATLIN_SRC=DIR or catlin on PATH): taskgate alone")
	}
	measured := map[string]sample{} // taskgate's medians, by configuration
	for _, c := range configs {
		if !picked(c.name, only) {
			continue
		}
		env := os.Environ()
		if c.noShell {
			env = append(env, "PATH="+noShell)
		}
		if timer != "" {
			if err := external(timer, c, env, tmp); err != nil {
				return err
			}
			continue
		}
		got, err := measure(c, env, tmp, runs)
		if err != nil {
			return err
		}
		measured[c.name] = got
		if base, ok := measured[c.of]; ok {
			fmt.Printf("  10x the Tasks: taskgate cpu %.2fx, peak RSS %.2fx of the 292's\n", got.cpu/base.cpu, got.rss/base.rss)
		}
	}
	return nil
}

func picked(name, only string) bool {
	if only == "" {
		return true
	}
	for _, t := range strings.Split(only, ",") {
		if strings.Contains(name, t) {
			return true
		}
	}
	return false
}

// sample is one finished run.
type sample struct{ cpu, rss float64 } // seconds, MiB

func once(argv, env []string, dir string) (sample, error) {
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Env, cmd.Dir, cmd.Stdout = env, dir, io.Discard
	var stderr strings.Builder
	cmd.Stderr = &stderr
	err := cmd.Run()
	if ee, ok := err.(*exec.ExitError); ok && ee.ExitCode() == 1 {
		err = nil // findings: the verdict, not a failure
	}
	if err != nil {
		return sample{}, fmt.Errorf("%s: %v\n%s", filepath.Base(argv[0]), err, stderr.String())
	}
	ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage)
	if !ok {
		return sample{}, fmt.Errorf("no resource usage on this system")
	}
	cpu := time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	return sample{cpu: cpu.Seconds(), rss: float64(ru.Maxrss) / 1024}, nil
}

// measure runs taskgate and catlin in turn, a warm-up first, and returns
// taskgate's medians.
func measure(c config, env []string, dir string, runs int) (sample, error) {
	var a, b []sample
	var ratio, rssRatio []float64
	for i := 0; i <= runs; i++ {
		sa, err := once(c.taskgate, env, dir)
		if err != nil {
			return sample{}, err
		}
		if c.catlin == nil {
			if i > 0 {
				a = append(a, sa)
			}
			continue
		}
		sb, err := once(c.catlin, os.Environ(), dir)
		if err != nil {
			return sample{}, err
		}
		if i > 0 {
			a, b = append(a, sa), append(b, sb)
			ratio, rssRatio = append(ratio, sa.cpu/sb.cpu), append(rssRatio, sa.rss/sb.rss)
		}
	}
	cpu := func(s []sample) []float64 { return pick(s, func(x sample) float64 { return x.cpu }) }
	rss := func(s []sample) []float64 { return pick(s, func(x sample) float64 { return x.rss }) }
	fmt.Printf("%s (%d runs)\n", c.name, runs)
	fmt.Printf("  taskgate  cpu %.3f s  peak RSS %.0f MiB\n", median(cpu(a)), median(rss(a)))
	if c.catlin != nil {
		fmt.Printf("  catlin    cpu %.3f s  peak RSS %.0f MiB\n", median(cpu(b)), median(rss(b)))
		fmt.Printf("  taskgate/catlin  cpu %.2fx  peak RSS %.2fx  (medians of the pairs' ratios; cpu %.2f–%.2fx)\n",
			median(ratio), median(rssRatio), minOf(ratio), maxOf(ratio))
	}
	return sample{cpu: median(cpu(a)), rss: median(rss(a))}, nil
}

// external hands a pair to an external timer.
func external(timer string, c config, env []string, dir string) error {
	argv := strings.Fields(timer)
	if c.catlin != nil {
		argv = append(argv, "--vs", strings.Join(c.catlin, " "))
	}
	argv = append(argv, "--")
	if len(env) > 0 && strings.HasPrefix(env[len(env)-1], "PATH=") && c.noShell {
		argv = append(argv, "env", env[len(env)-1])
	}
	argv = append(argv, c.taskgate...)
	fmt.Printf("%s\n", c.name)
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Dir, cmd.Stdout, cmd.Stderr = dir, os.Stdout, os.Stderr
	return cmd.Run()
}

func pick(s []sample, f func(sample) float64) []float64 {
	out := make([]float64, len(s))
	for i, x := range s {
		out[i] = f(x)
	}
	return out
}

func median(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := append([]float64(nil), xs...)
	sort.Float64s(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

func minOf(xs []float64) float64 {
	s := append([]float64(nil), xs...)
	sort.Float64s(s)
	return s[0]
}

func maxOf(xs []float64) float64 {
	s := append([]float64(nil), xs...)
	sort.Float64s(s)
	return s[len(s)-1]
}

// serveHubConfig serves the hub's category list on 127.0.0.1, where
// catlin reads it (CONFIG_FILE_URL in a .env of its working directory).
func serveHubConfig(file, dir string) (func(), error) {
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write(data) })}
	go srv.Serve(ln)
	env := fmt.Sprintf("CONFIG_FILE_URL=http://%s/hub-config.yaml\n", ln.Addr())
	if err := os.WriteFile(filepath.Join(dir, ".env"), []byte(env), 0o644); err != nil {
		srv.Close()
		return nil, err
	}
	return func() { srv.Close() }, nil
}

// copyTasks copies the task/<name>/<version>/ directories catlin accepts.
func copyTasks(src, dst string) (int, error) {
	versions, err := filepath.Glob(filepath.Join(src, "task", "*", "*"))
	if err != nil {
		return 0, err
	}
	n := 0
	for _, v := range versions {
		rel, _ := filepath.Rel(filepath.Join(src, "task"), v)
		if st, err := os.Stat(v); err != nil || !st.IsDir() || catlinRejects[filepath.ToSlash(rel)] {
			continue
		}
		if err := copyDir(v, filepath.Join(dst, "task", rel)); err != nil {
			return n, err
		}
		n++
	}
	return n, nil
}

// tenfold writes src's Tasks and nine copies of each under another name
// (task/<name>-x<k>/<version>/<name>-x<k>.yaml, metadata.name renamed):
// ten times the submissions, each distinct.
func tenfold(src, dst string) error {
	if err := copyDir(src, dst); err != nil {
		return err
	}
	versions, err := filepath.Glob(filepath.Join(src, "task", "*", "*"))
	if err != nil {
		return err
	}
	for _, v := range versions {
		name := filepath.Base(filepath.Dir(v))
		manifest, err := os.ReadFile(filepath.Join(v, name+".yaml"))
		if err != nil {
			return err
		}
		// the first `name: <name>` line: metadata's
		named := regexp.MustCompile(`(?m)^([ \t]+name:[ \t]*)["']?` + regexp.QuoteMeta(name) + `["']?[ \t]*$`)
		loc := named.FindSubmatchIndex(manifest)
		for k := 1; k < 10; k++ {
			copyName := fmt.Sprintf("%s-x%d", name, k)
			dir := filepath.Join(dst, "task", copyName, filepath.Base(v))
			if err := copyDir(v, dir); err != nil {
				return err
			}
			renamed := manifest
			if loc != nil {
				renamed = slices.Concat(manifest[:loc[3]], []byte(copyName), manifest[loc[1]:])
			}
			os.Remove(filepath.Join(dir, name+".yaml"))
			if err := os.WriteFile(filepath.Join(dir, copyName+".yaml"), renamed, 0o644); err != nil {
				return err
			}
		}
	}
	return nil
}

func copyDir(src, dst string) error {
	return filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		return copyFile(p, filepath.Join(dst, rel))
	})
}

// copyFile streams: a child's peak RSS counts the parent's at the fork
// (vfork), so the harness stays small.
func copyFile(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return err
	}
	out, err := os.Create(dst)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

func copyExec(src, dst string) (string, error) {
	if err := copyFile(src, dst); err != nil {
		return "", err
	}
	return dst, os.Chmod(dst, 0o755)
}

func yamlFiles(dir string) ([]string, error) {
	var out []string
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() && strings.HasSuffix(p, ".yaml") {
			out = append(out, p)
		}
		return err
	})
	sort.Strings(out)
	return out, err
}
