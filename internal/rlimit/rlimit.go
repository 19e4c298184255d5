// Package rlimit runs a program under CPU-time and address-space limits
// set on the child before it runs a single instruction of its own. Go's
// os/exec cannot call setrlimit between fork and exec, the step images
// have no shell for `ulimit`, and prlimit after the start comes too late
// for a program that reserves its heap first (shellcheck's GHC runtime):
// so the child is this very binary, which sets the limits on itself in
// an init function and execs the program.
package rlimit

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"time"
	"unsafe"
)

// env carries the limits and marks the re-executed binary.
const env = "TASKGATE_RLIMIT"

// Limits bound one child process.
type Limits struct {
	CPU          time.Duration // CPU time (user + system), whole seconds
	AddressSpace int64         // bytes of virtual memory
	Wall         time.Duration // wall clock, enforced by the parent
}

func init() {
	v, ok := os.LookupEnv(env)
	if !ok {
		return
	}
	os.Unsetenv(env)
	cpu, as, _ := strings.Cut(v, ",")
	c, err1 := strconv.ParseUint(cpu, 10, 64)
	a, err2 := strconv.ParseUint(as, 10, 64)
	if err1 != nil || err2 != nil || len(os.Args) < 2 {
		fail("bad %s=%q", env, v)
	}
	// Everything execve needs is built first: once the address-space limit
	// is below what this Go process already maps, any allocation (a new
	// heap span) would fail with "out of memory" before the exec.
	path, err := syscall.BytePtrFromString(os.Args[1])
	if err != nil {
		fail("exec %s: %v", os.Args[1], err)
	}
	argv, err := syscall.SlicePtrFromStrings(os.Args[1:])
	if err != nil {
		fail("exec %s: %v", os.Args[1], err)
	}
	envv, err := syscall.SlicePtrFromStrings(os.Environ())
	if err != nil {
		fail("exec %s: %v", os.Args[1], err)
	}
	// the soft CPU limit sends SIGXCPU, the hard one SIGKILL a second later
	cpuLim, asLim := syscall.Rlimit{Cur: c, Max: c + 1}, syscall.Rlimit{Cur: a, Max: a}
	if err := syscall.Setrlimit(syscall.RLIMIT_CPU, &cpuLim); err != nil {
		fail("setrlimit CPU: %v", err)
	}
	if _, _, e := syscall.RawSyscall(syscall.SYS_SETRLIMIT, uintptr(syscall.RLIMIT_AS), uintptr(unsafe.Pointer(&asLim)), 0); e != 0 {
		os.Exit(126) // nothing may allocate now: no message
	}
	_, _, e := syscall.RawSyscall(syscall.SYS_EXECVE, uintptr(unsafe.Pointer(path)), uintptr(unsafe.Pointer(&argv[0])), uintptr(unsafe.Pointer(&envv[0])))
	os.Exit(128 + int(e&0x7f)) // execve failed; its errno in the status, nothing allocated
}

func fail(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "taskgate rlimit: "+format+"\n", args...)
	os.Exit(127)
}

// Command prepares path (an absolute program path) to run under lim. The
// returned cancel releases the wall-clock timer.
func Command(lim Limits, path string, args ...string) (*exec.Cmd, context.CancelFunc, error) {
	self, err := os.Executable()
	if err != nil {
		return nil, nil, fmt.Errorf("cannot find the taskgate binary to start %s under limits: %v", path, err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), lim.Wall)
	cmd := exec.CommandContext(ctx, self, append([]string{path}, args...)...)
	secs := max(1, int64(lim.CPU/time.Second))
	cmd.Env = append(os.Environ(), env+"="+strconv.FormatInt(secs, 10)+","+strconv.FormatInt(lim.AddressSpace, 10))
	return cmd, cancel, nil
}

// Explain says which limit stopped a child that failed, or "" when none
// did.
func Explain(cmd *exec.Cmd, lim Limits, stderr string) string {
	ps := cmd.ProcessState
	if ps == nil {
		return ""
	}
	if st, ok := ps.Sys().(syscall.WaitStatus); ok && st.Signaled() {
		switch {
		case st.Signal() == syscall.SIGXCPU || ps.UserTime()+ps.SystemTime() >= lim.CPU:
			return fmt.Sprintf("it used up its %s of CPU time", lim.CPU)
		case st.Signal() == syscall.SIGKILL:
			return fmt.Sprintf("it ran past its %s wall clock", lim.Wall)
		}
	}
	for _, oom := range []string{"out of memory", "Heap exhausted", "cannot allocate"} {
		if strings.Contains(stderr, oom) {
			return fmt.Sprintf("it ran out of its %d MB of memory", lim.AddressSpace>>20)
		}
	}
	return ""
}
