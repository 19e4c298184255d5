package rlimit

import (
	"strings"
	"testing"
	"time"
)

// The child runs under the limits from its first instruction.
func TestCommandSetsLimits(t *testing.T) {
	lim := Limits{CPU: 3 * time.Second, AddressSpace: 300 << 20, Wall: 10 * time.Second}
	cmd, cancel, err := Command(lim, "/bin/sh", "-c", "ulimit -t; ulimit -v; echo ${TASKGATE_RLIMIT:-unset}")
	if err != nil {
		t.Fatal(err)
	}
	defer cancel()
	out, err := cmd.CombinedOutput()
	if got := strings.Fields(string(out)); err != nil || strings.Join(got, " ") != "3 307200 unset" {
		t.Fatalf("limits in the child: %q (%v)", out, err)
	}
}

func TestExplain(t *testing.T) {
	for name, c := range map[string]struct {
		script, want string
		lim          Limits
	}{
		"cpu":  {"while :; do :; done", "it used up its 1s of CPU time", Limits{CPU: time.Second, AddressSpace: 1 << 30, Wall: 20 * time.Second}},
		"wall": {"sleep 5", "it ran past its 300ms wall clock", Limits{CPU: 10 * time.Second, AddressSpace: 1 << 30, Wall: 300 * time.Millisecond}},
		"ok":   {"exit 3", "", Limits{CPU: 10 * time.Second, AddressSpace: 1 << 30, Wall: 10 * time.Second}},
	} {
		cmd, cancel, err := Command(c.lim, "/bin/sh", "-c", c.script)
		if err != nil {
			t.Fatal(err)
		}
		err = cmd.Run()
		cancel()
		if got := Explain(cmd, c.lim, ""); err == nil || got != c.want {
			t.Errorf("%s: %v, explained %q, want %q", name, err, got, c.want)
		}
	}
}
