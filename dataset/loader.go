package dataset

import (
	"context"
	"fmt"
	"iter"
	"sync"

	"github.com/vgglab/vgg/kernels"
	"github.com/vgglab/vgg/tensor"
	"github.com/vgglab/vgg/vision"
)

// LoaderOptions configures a batch pipeline.
type LoaderOptions struct {
	// BatchSize is the number of samples per batch; the last batch of an epoch may be smaller.
	BatchSize int
	// Workers is the number of goroutines building batches (0: one per CPU).
	Workers int
	// Ahead is how many batches may be ready or in the making beyond the one the consumer
	// holds (0: twice Workers). It bounds memory: at most Ahead+1 batches exist at once.
	Ahead int
	// Shuffle visits the samples in a new random order each epoch (training); without it,
	// in dataset order (validation, evaluation).
	Shuffle bool
	// Seed fixes the shuffles and the augmentation.
	Seed uint64
	// Augment varies the pictures (training); its zero value leaves them as they are.
	Augment Augment
	// Norm standardises the channels, usually ComputeNorm of the training split. Its zero
	// value (std 0) is refused; vision.Identity keeps raw values in [0, 1].
	Norm vision.Normalization
}

// Batch is a group of samples ready for the network.
type Batch struct {
	// Index is the batch's position in its epoch, from 0.
	Index int
	// X holds the pictures, float32 [B, 3, Size, Size] on the host.
	X *tensor.Tensor
	// Labels holds the identity of each picture, int32 [B].
	Labels *tensor.Tensor
	// Paths are the photo files, for reports of what was misclassified.
	Paths []string
	// Mix, when set, says that the pictures were mixed in pairs (Augment.Mixup, MixBatch):
	// each is to be learnt as Mix.Lambda of its label and 1-Lambda of its partner's.
	Mix *Mix
}

// Loader turns a Dataset into batches, epoch after epoch.
type Loader struct {
	set  *Dataset
	src  *Source
	opts LoaderOptions
}

// NewLoader checks the options and returns a loader over set's samples, read through src.
func NewLoader(set *Dataset, src *Source, opts LoaderOptions) (*Loader, error) {
	if len(set.Samples) == 0 {
		return nil, fmt.Errorf("dataset: no samples to load from %s", set.Root)
	}
	if opts.BatchSize <= 0 {
		return nil, fmt.Errorf("dataset: batch size %d must be positive", opts.BatchSize)
	}
	if err := opts.Augment.Validate(); err != nil {
		return nil, err
	}
	if err := opts.Norm.Validate(); err != nil {
		return nil, fmt.Errorf("dataset: %w", err)
	}
	opts.Workers = workerCount(opts.Workers)
	if opts.Ahead <= 0 {
		opts.Ahead = 2 * opts.Workers
	}
	return &Loader{set: set, src: src, opts: opts}, nil
}

// NumBatches is the number of batches in an epoch.
func (l *Loader) NumBatches() int {
	return (len(l.set.Samples) + l.opts.BatchSize - 1) / l.opts.BatchSize
}

// Order returns the sample indices of an epoch in the order they are batched: a
// permutation fixed by (Seed, epoch) when shuffling, dataset order otherwise.
func (l *Loader) Order(epoch int) []int {
	n := len(l.set.Samples)
	if l.opts.Shuffle {
		return kernels.NewStreamRand(l.opts.Seed, purposeShuffle, epoch, 0).Perm(n)
	}
	order := make([]int, n)
	for i := range order {
		order[i] = i
	}
	return order
}

// Epoch yields the batches of one epoch in order. Worker goroutines build batches ahead
// of the consumer, yet the content and order of every batch depend only on the seed and
// epoch, never on timing. Iteration stops after the first error (a photo that cannot be
// loaded, named in the error; Verify beforehand to skip such photos) or when ctx is
// cancelled; breaking out of the loop early stops the workers too.
func (l *Loader) Epoch(ctx context.Context, epoch int) iter.Seq2[*Batch, error] {
	return func(yield func(*Batch, error) bool) {
		ctx, cancel := context.WithCancel(ctx)
		order := l.Order(epoch)
		nBatches := l.NumBatches()
		// One result slot per batch, each buffered, so a worker never waits on the consumer
		// to hand over a finished batch; the tokens are what bound the look-ahead.
		results := make([]chan batchResult, nBatches)
		for i := range results {
			results[i] = make(chan batchResult, 1)
		}
		tokens := make(chan struct{}, l.opts.Ahead)
		jobs := make(chan int)
		var wg sync.WaitGroup
		defer func() { cancel(); wg.Wait() }()

		wg.Add(1)
		go func() { // dispatcher: hands out batch numbers in order, Ahead at a time
			defer wg.Done()
			defer close(jobs)
			for i := range nBatches {
				select {
				case tokens <- struct{}{}:
				case <-ctx.Done():
					return
				}
				select {
				case jobs <- i:
				case <-ctx.Done():
					return
				}
			}
		}()
		for range l.opts.Workers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := range jobs {
					lo := i * l.opts.BatchSize
					hi := min(lo+l.opts.BatchSize, len(order))
					b, err := l.build(ctx, epoch, i, order[lo:hi])
					results[i] <- batchResult{b, err}
				}
			}()
		}

		for i := range nBatches {
			// A cancelled context wins even over a batch that is already waiting.
			if err := ctx.Err(); err != nil {
				yield(nil, err)
				return
			}
			var r batchResult
			select {
			case r = <-results[i]:
			case <-ctx.Done():
				yield(nil, ctx.Err())
				return
			}
			if r.err != nil {
				yield(nil, r.err)
				return
			}
			<-tokens // this batch leaves the pipeline: another may start
			if !yield(r.batch, nil) {
				return
			}
		}
	}
}

type batchResult struct {
	batch *Batch
	err   error
}

// build loads, varies and normalises the samples of one batch.
func (l *Loader) build(ctx context.Context, epoch, index int, samples []int) (*Batch, error) {
	size := l.src.Size()
	plane := 3 * size * size
	x := tensor.Zeros(len(samples), 3, size, size)
	labels := tensor.New(tensor.Int32, len(samples))
	b := &Batch{Index: index, X: x, Labels: labels, Paths: make([]string, len(samples))}
	xs, ys := x.Float32s(), labels.Int32s()
	for k, si := range samples {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		s := l.set.Samples[si]
		img, err := l.src.Image(s.Path)
		if err != nil {
			return nil, err
		}
		l.opts.Augment.Draw(l.opts.Seed, epoch, si, size).Apply(img, l.opts.Norm, xs[k*plane:(k+1)*plane])
		ys[k] = int32(s.Label)
		b.Paths[k] = s.Path
	}
	if l.opts.Augment.Mixup > 0 {
		rng := kernels.NewStreamRand(l.opts.Seed, purposeMixup, epoch, index)
		if rng.Float64() < l.opts.Augment.Mixup {
			b.Mix = MixBatch(x, labels, 0.5+0.5*rng.Float64(), rng.Perm(len(samples)))
		}
	}
	return b, nil
}
