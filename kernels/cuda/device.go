//go:build cuda

package cuda

import (
	"errors"
	"fmt"
	"math"
	"runtime"
	"unsafe"

	"gorgonia.org/cu"
)

// device owns one CUDA context. A CUDA context is current on one OS thread at a time, and Go
// moves goroutines between threads, so a single goroutine locked to its thread (run) makes
// every driver call; the backend's methods send it closures through work and wait for the
// answer. Without this, calls made from whatever thread a goroutine lands on fail with
// CUDA_ERROR_INVALID_CONTEXT.
//
// All kernels and copies go on one stream, in order, so a training step never waits on the
// host: only Download and Sync synchronize.
type device struct {
	work chan func()
	done chan struct{}

	dev    cu.Device
	ctx    cu.CUContext
	stream cu.Stream

	name          string
	major, minor  int
	multiprocs    int
	totalMem      int64
	driverVersion int

	functions map[kernel]cu.Function
	modules   map[string]cu.Module
	// lastOp names the most recent op queued, so that an asynchronous fault reported at the
	// next synchronization can say where it probably came from.
	lastOp string

	mem *allocator
}

// openDevice creates a context on GPU 0 and starts the goroutine that owns it.
func openDevice() (*device, error) {
	d := &device{
		work:      make(chan func()),
		done:      make(chan struct{}),
		functions: map[kernel]cu.Function{},
		modules:   map[string]cu.Module{},
	}
	started := make(chan error)
	go d.run(started)
	if err := <-started; err != nil {
		return nil, err
	}
	d.mem = newAllocator(d)
	return d, nil
}

// run is the owner goroutine: it sets up the context on its locked thread, then executes the
// closures sent to it until close.
func (d *device) run(started chan<- error) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	if err := d.setUp(); err != nil {
		started <- err
		return
	}
	started <- nil
	for f := range d.work {
		f()
	}
	close(d.done)
}

func (d *device) setUp() error {
	n, err := cu.NumDevices()
	if err != nil {
		return fmt.Errorf("cuda: counting devices: %w", err)
	}
	if n == 0 {
		return errors.New("cuda: the driver sees no GPU")
	}
	if d.dev, err = cu.GetDevice(0); err != nil {
		return fmt.Errorf("cuda: device 0: %w", err)
	}
	if d.ctx, err = d.dev.MakeContext(cu.SchedAuto); err != nil {
		return fmt.Errorf("cuda: creating a context: %w", err)
	}
	if err = cu.SetCurrentContext(d.ctx); err != nil {
		return fmt.Errorf("cuda: making the context current: %w", err)
	}
	if d.stream, err = cu.MakeStream(cu.NonBlocking); err != nil {
		return fmt.Errorf("cuda: creating a stream: %w", err)
	}
	if d.name, err = d.dev.Name(); err != nil {
		return fmt.Errorf("cuda: device name: %w", err)
	}
	if d.totalMem, err = d.dev.TotalMem(); err != nil {
		return fmt.Errorf("cuda: device memory: %w", err)
	}
	attrs, err := d.dev.Attributes(cu.ComputeCapabilityMajor, cu.ComputeCapabilityMinor, cu.MultiprocessorCount)
	if err != nil {
		return fmt.Errorf("cuda: device attributes: %w", err)
	}
	d.major, d.minor, d.multiprocs = attrs[0], attrs[1], attrs[2]
	d.driverVersion = cu.Version()
	return nil
}

// do runs f on the owner goroutine and returns its error.
func (d *device) do(f func() error) error {
	result := make(chan error, 1)
	d.work <- func() { result <- f() }
	return <-result
}

// close frees everything and ends the owner goroutine.
func (d *device) close() error {
	err := d.do(func() error {
		var errs []error
		if err := d.stream.Synchronize(); err != nil {
			errs = append(errs, fmt.Errorf("cuda Close: pending work failed: %w", err))
		}
		errs = append(errs, d.mem.freeAll())
		for name, m := range d.modules {
			if err := m.Unload(); err != nil {
				errs = append(errs, fmt.Errorf("cuda Close: unloading %s: %w", name, err))
			}
		}
		if err := d.stream.Destroy(); err != nil {
			errs = append(errs, fmt.Errorf("cuda Close: stream: %w", err))
		}
		if err := d.ctx.Destroy(); err != nil {
			errs = append(errs, fmt.Errorf("cuda Close: context: %w", err))
		}
		return errors.Join(errs...)
	})
	close(d.work)
	<-d.done
	return err
}

// function returns the loaded kernel, loading its PTX module (a JIT compile by the driver)
// the first time any of the module's kernels is launched. Owner goroutine only.
func (d *device) function(k kernel) (cu.Function, error) {
	if f, ok := d.functions[k]; ok {
		return f, nil
	}
	m, ok := d.modules[k.module]
	if !ok {
		ptx, err := modulePTX(k.module)
		if err != nil {
			return cu.Function{}, err
		}
		if m, err = cu.LoadData(ptx); err != nil {
			return cu.Function{}, fmt.Errorf("loading PTX module %s.ptx: %w", k.module, err)
		}
		d.modules[k.module] = m
	}
	f, err := m.Function(k.entry)
	if err != nil {
		return cu.Function{}, fmt.Errorf("kernel %s in %s.ptx: %w", k.entry, k.module, err)
	}
	d.functions[k] = f
	return f, nil
}

// dim3 is a grid or block size.
type dim3 struct{ x, y, z int }

// launch queues kernel k on the stream. Owner goroutine only. Every argument is passed as
// a 64-bit slot, because cu.Function.Launch copies 8 bytes per parameter: 32-bit ints and
// floats sit in the low half (little-endian), which is where the kernel reads them.
func (d *device) launch(k kernel, grid, block dim3, args ...uint64) error {
	f, err := d.function(k)
	if err != nil {
		return err
	}
	params := make([]unsafe.Pointer, len(args))
	for i := range args {
		params[i] = unsafe.Pointer(&args[i])
	}
	if err := f.Launch(grid.x, grid.y, grid.z, block.x, block.y, block.z, 0, d.stream, params); err != nil {
		return fmt.Errorf("launching %s (grid %v, block %v): %w", k.entry, grid, block, err)
	}
	return nil
}

// memset32 queues filling n 32-bit words at p with the bit pattern v. Owner goroutine only.
func (d *device) memset32(p cu.DevicePtr, v uint32, n int) error {
	return cu.MemsetD32Async(p, uint(v), int64(n), d.stream)
}

// gridFor sizes a grid-stride launch of 256-thread blocks over n work items: enough blocks to
// fill every multiprocessor many times over, no more than the work needs.
func (d *device) gridFor(n int) dim3 {
	blocks := (n + 255) / 256
	blocks = min(blocks, d.multiprocs*32)
	return dim3{max(blocks, 1), 1, 1}
}

// Kernel argument slots.
func ptrArg(p cu.DevicePtr) uint64 { return uint64(p) }
func intArg(v int) uint64          { return uint64(uint32(int32(v))) }
func floatArg(v float32) uint64    { return uint64(math.Float32bits(v)) }
