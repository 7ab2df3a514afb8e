package cpu

import (
	"sync"
	"sync/atomic"
	"testing"
)

// TestParallelFor checks that every index is visited exactly once, in the chunks the split
// promises, whether the call runs on the team, from inside another call's chunk (nested) or
// from several goroutines at once (the team busy), and after the helpers have gone to sleep.
func TestParallelFor(t *testing.T) {
	check := func(n, workers int) {
		t.Helper()
		visits := make([]atomic.Int32, n)
		parallelFor(n, workers, func(w, lo, hi int) {
			if parts := min(workers, n); lo != w*n/parts || hi != (w+1)*n/parts {
				t.Errorf("n=%d workers=%d: worker %d got [%d, %d)", n, workers, w, lo, hi)
			}
			for i := lo; i < hi; i++ {
				visits[i].Add(1)
			}
		})
		for i := range visits {
			if v := visits[i].Load(); v != 1 {
				t.Fatalf("n=%d workers=%d: index %d visited %d times", n, workers, i, v)
			}
		}
	}
	for _, n := range []int{0, 1, 2, 3, 7, 100} {
		for _, workers := range []int{1, 2, 3, 5} {
			check(n, workers)
		}
	}
	// Nested: each chunk of an outer call runs an inner call of its own.
	parallelFor(4, 4, func(_, _, _ int) { check(50, 3) })
	// Concurrent callers: one holds the team, the others start goroutines.
	var wg sync.WaitGroup
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 50 {
				check(64, 3)
			}
		}()
	}
	wg.Wait()
	// Long pauses between calls let the helpers fall asleep; the calls must still complete.
	for range 3 {
		for i := 0; i < 20*spinLimit; i++ {
			_ = i * i
		}
		check(10, 4)
	}
}
