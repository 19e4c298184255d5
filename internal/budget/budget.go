// Package budget runs the taskgate binary as a child process, under an
// address-space limit and a wall-clock deadline, and reports what the run
// cost: tests assert the gate's time and memory budgets on hostile input
// without letting a regression hurt the machine.
package budget

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"
)

// The budgets the gate promises for one submission, whatever it holds.
const (
	Time   = 5 * time.Second
	Memory = 500 << 20 // bytes of peak resident memory
)

// Limits bound the child. A run that reaches them fails the test instead
// of exhausting the machine.
type Limits struct {
	AddressSpace int64         // bytes (ulimit -v); 0: 4 GiB
	Deadline     time.Duration // wall clock; 0: 60 s
}

// Result is what one run printed and cost.
type Result struct {
	Code           int
	Stdout, Stderr string
	Wall, CPU      time.Duration // CPU: user + system
	MaxRSS         int64         // bytes
	Killed         bool          // the deadline was reached
}

var (
	buildOnce sync.Once
	binary    string
	buildErr  error
)

// Binary builds cmd/taskgate once per test process and returns its path;
// $TASKGATE_BINARY names another build instead (another revision's, to
// measure before and after a change).
func Binary(tb testing.TB) string {
	tb.Helper()
	buildOnce.Do(func() {
		if binary = os.Getenv("TASKGATE_BINARY"); binary != "" {
			return
		}
		dir, err := os.MkdirTemp("", "taskgate-budget-")
		if err != nil {
			buildErr = err
			return
		}
		binary = filepath.Join(dir, "taskgate")
		out, err := exec.Command("go", "build", "-o", binary, "taskgate.dev/taskgate/cmd/taskgate").CombinedOutput()
		if err != nil {
			buildErr = errors.New(err.Error() + "\n" + string(out))
		}
	})
	if buildErr != nil {
		tb.Fatalf("building taskgate: %v", buildErr)
	}
	return binary
}

// Run runs `taskgate args...` in dir under the limits.
func Run(tb testing.TB, dir string, lim Limits, args ...string) Result {
	tb.Helper()
	bin := Binary(tb)
	if lim.AddressSpace == 0 {
		lim.AddressSpace = 4 << 30
	}
	if lim.Deadline == 0 {
		lim.Deadline = 60 * time.Second
	}
	ctx, cancel := context.WithTimeout(context.Background(), lim.Deadline)
	defer cancel()
	// ulimit applies to the exec'd taskgate and whatever it starts (shellcheck).
	script := "ulimit -v " + strconv.FormatInt(lim.AddressSpace>>10, 10) + ` && exec "$0" "$@"`
	cmd := exec.CommandContext(ctx, "/bin/sh", append([]string{"-c", script, bin}, args...)...)
	cmd.Dir = dir
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	start := time.Now()
	err := cmd.Run()
	res := Result{Wall: time.Since(start), Stdout: stdout.String(), Stderr: stderr.String(), Killed: ctx.Err() != nil}
	var exit *exec.ExitError
	switch {
	case err == nil, res.Killed:
	case errors.As(err, &exit):
		res.Code = exit.ExitCode()
	default:
		tb.Fatalf("running taskgate %v: %v", args, err)
	}
	if cmd.ProcessState == nil { // killed before it started
		return res
	}
	if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
		res.CPU = time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
		res.MaxRSS = ru.Maxrss << 10 // Linux reports KiB
	}
	return res
}

// Within fails the test when a run was killed or went over the budget of
// one submission (Time of CPU, Memory of peak RSS).
func (r Result) Within(tb testing.TB) {
	tb.Helper()
	tb.Logf("wall %s, cpu %s, peak RSS %d MiB, exit %d", r.Wall.Round(time.Millisecond), r.CPU.Round(time.Millisecond), r.MaxRSS>>20, r.Code)
	if r.Killed {
		tb.Fatalf("taskgate ran past its deadline and was killed\nstderr: %s", r.Stderr)
	}
	// CPU time, not wall: on a loaded machine wall time measures the load
	// (the deadline still bounds the wall clock).
	if r.CPU > Time {
		tb.Errorf("took %s of CPU, over the %s budget", r.CPU.Round(time.Millisecond), Time)
	}
	if r.MaxRSS > Memory {
		tb.Errorf("peak RSS %d MiB, over the %d MiB budget", r.MaxRSS>>20, Memory>>20)
	}
}
