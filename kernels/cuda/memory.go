//go:build cuda

package cuda

import (
	"errors"
	"fmt"
	"math/bits"
	"sync"
	"sync/atomic"

	"gorgonia.org/cu"
)

// allocator is a caching allocator. cuMemAlloc and cuMemFree are slow and synchronize the
// device, so a training step must not call them: a released block goes onto a free list for
// its size class and the next request of that class takes it back. Classes are powers of two
// up to 1 MiB and quarter steps between powers of two above (at most 25% waste); the VGG
// tensors are mostly powers of two already.
//
// Reuse is safe without any event tracking because every kernel runs on the one stream: work
// queued after the block was handed out again runs after the work that used it before.
type allocator struct {
	d *device

	mu    sync.Mutex // guards free; Release may come from any goroutine
	free  map[int64][]cu.DevicePtr
	owned map[cu.DevicePtr]int64 // every block cuMemAlloc gave us, by class size
}

func newAllocator(d *device) *allocator {
	return &allocator{d: d, free: map[int64][]cu.DevicePtr{}, owned: map[cu.DevicePtr]int64{}}
}

// sizeClass rounds a request up to its class.
func sizeClass(n int64) int64 {
	const small = 1 << 20
	if n <= 256 {
		return 256
	}
	pow := int64(1) << (63 - bits.LeadingZeros64(uint64(n-1)) + 1) // next power of two ≥ n
	if pow <= small {
		return pow
	}
	step := pow / 8 // quarters of the interval [pow/2, pow]
	return (n + step - 1) / step * step
}

// alloc returns a block of at least n bytes. Owner goroutine only.
func (a *allocator) alloc(n int64) (cu.DevicePtr, int64, error) {
	class := sizeClass(n)
	a.mu.Lock()
	if list := a.free[class]; len(list) > 0 {
		p := list[len(list)-1]
		a.free[class] = list[:len(list)-1]
		a.mu.Unlock()
		return p, class, nil
	}
	a.mu.Unlock()
	p, err := cu.MemAlloc(class)
	if errors.Is(err, cu.OutOfMemory) {
		// Give the cached blocks of other sizes back to the driver and try once more.
		if ferr := a.trim(); ferr != nil {
			return 0, 0, ferr
		}
		p, err = cu.MemAlloc(class)
	}
	if err != nil {
		free, total, ierr := cu.MemInfo()
		if ierr != nil {
			return 0, 0, fmt.Errorf("allocating %s: %w", mib(class), err)
		}
		return 0, 0, fmt.Errorf("out of device memory: asked for %s, %s free of %s: %w",
			mib(class), mib(free), mib(total), err)
	}
	a.mu.Lock()
	a.owned[p] = class
	a.mu.Unlock()
	return p, class, nil
}

// release puts a block back on its free list; any goroutine.
func (a *allocator) release(p cu.DevicePtr, class int64) {
	a.mu.Lock()
	a.free[class] = append(a.free[class], p)
	a.mu.Unlock()
}

// trim frees every cached block. Owner goroutine only.
func (a *allocator) trim() error {
	a.mu.Lock()
	defer a.mu.Unlock()
	if err := a.d.stream.Synchronize(); err != nil {
		return fmt.Errorf("waiting before freeing cached memory: %w", err)
	}
	for class, list := range a.free {
		for _, p := range list {
			if err := cu.MemFree(p); err != nil {
				return fmt.Errorf("freeing cached memory: %w", err)
			}
			delete(a.owned, p)
		}
		delete(a.free, class)
	}
	return nil
}

// freeAll returns every block to the driver, cached or still held by tensors. Owner goroutine
// only, at Close.
func (a *allocator) freeAll() error {
	a.mu.Lock()
	defer a.mu.Unlock()
	var errs []error
	for p := range a.owned {
		if err := cu.MemFree(p); err != nil {
			errs = append(errs, fmt.Errorf("cuda Close: freeing memory: %w", err))
		}
	}
	a.owned = map[cu.DevicePtr]int64{}
	a.free = map[int64][]cu.DevicePtr{}
	return errors.Join(errs...)
}

// cached reports how many bytes sit on the free lists and how many are held in all.
func (a *allocator) cached() (free, held int64) {
	a.mu.Lock()
	defer a.mu.Unlock()
	for class, list := range a.free {
		free += class * int64(len(list))
	}
	for _, class := range a.owned {
		held += class
	}
	return free, held
}

func mib(n int64) string { return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20)) }

// Buffer is device memory behind a tensor (tensor.Buffer, Location "cuda").
type Buffer struct {
	mem      *allocator
	ptr      cu.DevicePtr
	class    int64
	released atomic.Bool
	// uploaded holds the int32 values last copied in from the host (by Upload, or by Copy
	// from a buffer that had them), nil once a kernel has written the buffer or for float32
	// data. Labels reach the loss ops this way, so their range is checked on the host with
	// no device round trip; see Backend.labelValues.
	uploaded atomic.Pointer[[]int32]
}

func (*Buffer) Location() string { return "cuda" }

// Release hands the block back to the caching allocator; later calls do nothing.
func (b *Buffer) Release() {
	if !b.released.Swap(true) {
		b.mem.release(b.ptr, b.class)
	}
}
