package dataset

import (
	"context"
	"runtime"
	"sync"
)

// workerCount turns a requested number of workers into a usable one: 0 or less means one
// per CPU.
func workerCount(workers int) int {
	if workers <= 0 {
		return runtime.NumCPU()
	}
	return workers
}

// forEach calls fn(worker, i) for i in [0, n) from the given number of goroutines and
// returns when all calls are done or ctx is cancelled (then with ctx's error). worker
// (0..workers-1) lets fn keep per-goroutine state without locking.
func forEach(ctx context.Context, n, workers int, fn func(worker, i int)) error {
	workers = min(workerCount(workers), max(n, 1))
	next := make(chan int)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				fn(w, i)
			}
		}()
	}
	var err error
feed:
	for i := range n {
		select {
		case next <- i:
		case <-ctx.Done():
			err = ctx.Err()
			break feed
		}
	}
	close(next)
	wg.Wait()
	return err
}
