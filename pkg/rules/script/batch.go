package script

import (
	"errors"
	"fmt"
	"runtime"
	"sync"

	"mvdan.cc/sh/v3/syntax"
	"taskgate.dev/taskgate/pkg/check"
)

// Batches bound one shellcheck run: scripts of one dialect, up to
// maxBatch of them or until they hold batchBytes (a larger script goes
// alone). Starting shellcheck (under limits, through a re-exec of this
// binary: ~13 ms of CPU) costs as much as checking a small script, so
// many scripts share one start. A batch of 48 KiB takes shellcheck ~0.4 s
// of CPU, well within the limits of one run; a batch that still fails
// them (a loaded machine, a hostile script) is checked script by script,
// so that only the cost, never a verdict, depends on the batching.
var (
	maxBatch   = 96
	batchBytes = 48 << 10
)

// shellchecker is the run's shellcheck: one value per run that every
// submission's script/shellcheck hands its scripts to. It is shown each
// submission before its checks run (Announce), so that shellcheck
// checks many submissions' scripts per process, and each distinct
// script (dialect and masked text) once.
var shellchecker = &check.Input{
	Name:   "shellcheck",
	PerRun: true,
	Compute: func(*check.Pass) (any, error) {
		bin, err := LookShellcheck()
		return &batcher{bin: bin, missing: err, slots: runtime.GOMAXPROCS(0), jobs: map[job]*result{}}, nil
	},
	// what it gives a check depends on the scripts and on which
	// shellcheck runs, and the check's Environment names that one
	Digest:           func(any) string { return "shellcheck" },
	AnnounceRequires: []*check.Input{Parsed},
	Announce: func(v any, p *check.Pass) {
		b := v.(*batcher)
		if b.missing != nil {
			return
		}
		b.mu.Lock()
		defer b.mu.Unlock()
		// not parsed yet: the run would hold every syntax tree at once;
		// a script that turns out not to parse is checked for nothing
		for _, sc := range Of(p) {
			if sc.Shell != "" && shellcheckShells[sc.Shell] != "" && CheckBounds(sc.Text) == nil {
				b.want(sc)
			}
		}
	},
}

// checkable returns the scripts shellcheck is to check: shell scripts of
// a dialect it knows that parse (script/syntax reports the others).
func checkable(scripts []*Script) []*Script {
	var out []*Script
	for _, sc := range scripts {
		if sc.Shell == "" || shellcheckShells[sc.Shell] == "" {
			continue
		}
		var pe syntax.ParseError
		var be *BoundsError
		if _, err := sc.parse(); !errors.As(err, &pe) && !errors.As(err, &be) {
			out = append(out, sc)
		}
	}
	return out
}

// batcher runs shellcheck on the scripts asked for, at most slots
// processes at a time, each on a batch of the scripts waiting.
type batcher struct {
	bin     string
	missing error // shellcheck is not installed
	slots   int

	mu      sync.Mutex
	jobs    map[job]*result // every script asked for, checked or not
	queue   []*result       // not started yet, in the order asked
	running int
}

type job struct{ dialect, text string }

// result is one distinct script's verdict, ready when done is closed.
type result struct {
	job
	started  bool
	awaited  bool // a check waits for it
	alone    bool // its batch failed: it is checked on its own
	done     chan struct{}
	comments []comment
	err      error
}

// want returns the result of a script, queueing it the first time
// (b.mu held).
func (b *batcher) want(sc *Script) *result {
	j := job{dialect(sc), sc.Masked()}
	r := b.jobs[j]
	if r == nil {
		r = &result{job: j, done: make(chan struct{})}
		b.jobs[j] = r
		b.queue = append(b.queue, r)
	}
	return r
}

// check returns shellcheck's verdict on each script, starting the
// batches that hold them if none has yet.
func (b *batcher) check(scripts []*Script) []*result {
	b.mu.Lock()
	out := make([]*result, len(scripts))
	for i, sc := range scripts {
		out[i] = b.want(sc)
		out[i].awaited = true
	}
	b.dispatch(out)
	b.mu.Unlock()
	for _, r := range out {
		<-r.done
	}
	return out
}

// dispatch starts batches while a slot is free (b.mu held), first the
// one holding the scripts a check waits for. A batch starts only when the
// queue holds a whole one, or when nothing runs and a check waits for a
// script: the scripts announced meanwhile go together, instead of each
// check (or each batch's end) starting a shellcheck for a few.
func (b *batcher) dispatch(first []*result) {
	for b.running < b.slots {
		if (b.running > 0 || !b.awaited()) && !b.full() {
			return // a batch's end, or a check asking, starts what waits
		}
		batch := b.take(first)
		if len(batch) == 0 {
			return
		}
		first = nil
		b.running++
		go b.run(batch)
	}
}

// awaited says whether a check waits for a script not started (b.mu
// held).
func (b *batcher) awaited() bool {
	for _, r := range b.queue {
		if !r.started && r.awaited {
			return true
		}
	}
	return false
}

// full says whether the queue holds a whole batch of one dialect (b.mu
// held).
func (b *batcher) full() bool {
	n, size := map[string]int{}, map[string]int{}
	for _, r := range b.queue {
		if !r.started {
			n[r.dialect]++
			size[r.dialect] += len(r.text)
			if n[r.dialect] >= maxBatch || size[r.dialect] >= batchBytes {
				return true
			}
		}
	}
	return false
}

// take removes a batch from the queue: scripts of one dialect, first
// those of first that are not started, then the oldest waiting; a script
// whose batch failed goes alone.
func (b *batcher) take(first []*result) []*result {
	var lead *result
	for _, rs := range [][]*result{first, b.queue} {
		for _, r := range rs {
			if lead == nil && !r.started {
				lead = r
			}
		}
	}
	if lead == nil {
		return nil
	}
	batch, size := []*result{}, 0
	add := func(r *result) {
		if !r.started && r.dialect == lead.dialect && len(batch) < maxBatch && size < batchBytes && (r == lead || !r.alone && !lead.alone) {
			r.started = true
			batch = append(batch, r)
			size += len(r.text)
		}
	}
	add(lead)
	for _, r := range first {
		add(r)
	}
	for _, r := range b.queue {
		add(r)
	}
	queue := b.queue[:0]
	for _, r := range b.queue {
		if !r.started {
			queue = append(queue, r)
		}
	}
	clear(b.queue[len(queue):])
	b.queue = queue
	return batch
}

// run checks a batch; when shellcheck fails on a batch of several (one
// script may be why), each goes back in the queue to be checked alone,
// so that no script's verdict depends on another's.
func (b *batcher) run(batch []*result) {
	texts := make([]string, len(batch))
	for i, r := range batch {
		texts[i] = r.text
	}
	comments, err := func() (cs [][]comment, err error) {
		defer func() {
			if p := recover(); p != nil {
				err = fmt.Errorf("taskgate crashed running it (%v)", p)
			}
		}()
		return shellcheckRun(b.bin, batch[0].dialect, texts)
	}()
	b.mu.Lock()
	defer b.mu.Unlock()
	b.running--
	switch {
	case err != nil && len(batch) > 1:
		for _, r := range batch {
			r.started, r.alone = false, true
		}
		b.queue = append(batch, b.queue...)
	default:
		for i, r := range batch {
			if err != nil {
				r.err = err
			} else {
				r.comments = comments[i]
			}
			close(r.done)
		}
	}
	b.dispatch(nil)
}
