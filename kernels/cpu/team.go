package cpu

import (
	"runtime"
	"sync"
	"sync/atomic"
)

// parallelFor runs body(worker, lo, hi) over [0, n) split into at most `workers` contiguous
// chunks, chunk w = [w·n/workers, (w+1)·n/workers) on its own goroutine as worker w (the
// caller runs chunk 0). The split depends only on n and workers, and every body writes
// disjoint outputs, so results never depend on scheduling.
//
// A training step of the small network makes some two hundred such calls, most of them a
// few tens of microseconds long. Starting goroutines for each, the second core often had to
// be woken from sleep first (tens of microseconds of futex) and two threads ran the step only
// 1.23x faster than one. So the chunks go to a team of helper goroutines that stay awake,
// yielding, for a while after each call (spinLimit) before they sleep; a call made while the
// team is busy (by another backend, or from inside a chunk) starts goroutines as before.
func parallelFor(n, workers int, body func(worker, lo, hi int)) {
	workers = min(workers, n)
	if workers <= 1 {
		if n > 0 {
			body(0, 0, n)
		}
		return
	}
	chunk := func(w int) { body(w, w*n/workers, (w+1)*n/workers) }
	if !theTeam.busy.CompareAndSwap(false, true) {
		spawn(workers, chunk)
		return
	}
	theTeam.run(workers, chunk)
	theTeam.busy.Store(false)
}

// spawn runs chunks 1..workers-1 on new goroutines and chunk 0 on the caller's.
func spawn(workers int, chunk func(w int)) {
	var wg sync.WaitGroup
	for w := 1; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			chunk(w)
		}()
	}
	chunk(0)
	wg.Wait()
}

// spinLimit is how many times a helper or the caller yields (runtime.Gosched) while waiting
// before it sleeps: long enough to span the serial work between two ops of a training step,
// short enough that an idle team goes to sleep within milliseconds.
const spinLimit = 5000

// team is the process's helper goroutines; one call uses it at a time (busy).
type team struct {
	busy    atomic.Bool
	current atomic.Pointer[teamTask]
	helpers []*helper
	// done receives a token from the helper that finishes a task's last chunk, for a caller
	// that stopped spinning; a token left over from an earlier task is harmless.
	done chan struct{}
}

// teamTask is one call: chunk w runs on helper w-1 for 1 <= w < workers. Each call makes a
// new one, so a helper tells tasks apart by pointer (the one it saw last stays alive).
type teamTask struct {
	workers int
	chunk   func(w int)
	pending atomic.Int64 // chunks not yet finished by the helpers
}

// helper is one helper goroutine's wake-up line.
type helper struct {
	index  int
	parked atomic.Bool
	wake   chan struct{}
}

var theTeam = &team{done: make(chan struct{}, 1)}

// run hands chunks 1..workers-1 to the helpers, runs chunk 0 and waits for the rest.
func (t *team) run(workers int, chunk func(w int)) {
	for len(t.helpers) < workers-1 {
		h := &helper{index: len(t.helpers), wake: make(chan struct{}, 1)}
		t.helpers = append(t.helpers, h)
		go t.serve(h)
	}
	task := &teamTask{workers: workers, chunk: chunk}
	task.pending.Store(int64(workers - 1))
	t.current.Store(task)
	for _, h := range t.helpers[:workers-1] {
		if h.parked.Load() {
			select {
			case h.wake <- struct{}{}:
			default:
			}
		}
	}
	chunk(0)
	for spins := 0; task.pending.Load() > 0; spins++ {
		if spins < spinLimit {
			pause(func() bool { return task.pending.Load() > 0 })
			continue
		}
		<-t.done
	}
}

// pause waits a little while waiting holds: a short run of checks first (a chunk often ends
// within a microsecond or two), then one yield to whatever else is runnable.
func pause(waiting func() bool) {
	for range 100 {
		if !waiting() {
			return
		}
	}
	runtime.Gosched()
}

// serve is a helper's loop: wait for a task newer than the last one seen (yielding, then
// asleep), and run its chunk if it has one for this helper.
func (t *team) serve(h *helper) {
	var seen *teamTask
	for {
		task := t.current.Load()
		for spins := 0; task == seen; spins++ {
			if spins < spinLimit {
				pause(func() bool { return t.current.Load() == seen })
			} else {
				// Parked must be visible before the task is looked at again: either the
				// caller sees it and sends a wake-up, or this sees the caller's new task.
				h.parked.Store(true)
				if task = t.current.Load(); task == seen {
					<-h.wake
				}
				h.parked.Store(false)
			}
			task = t.current.Load()
		}
		seen = task
		if w := h.index + 1; w < task.workers {
			task.chunk(w)
			if task.pending.Add(-1) == 0 {
				select {
				case t.done <- struct{}{}:
				default:
				}
			}
		}
	}
}
