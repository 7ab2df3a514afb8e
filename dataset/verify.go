package dataset

import (
	"context"
	"fmt"
	"math"
	"sync/atomic"

	"github.com/vgglab/vgg/vision"
)

// Verify fully loads every sample through src (decode, preprocess, resize) using the given
// number of worker goroutines (0: one per CPU). Samples that fail — a truncated JPEG, a face
// the aligner cannot find — move from Samples to Skipped, so training never stops on a bad
// file. With src's cache on, this also fills the cache. Verify fails only when an identity
// is left with no usable photo, naming it, or when ctx is cancelled. progress, when not nil,
// is told how many photos are done after each one, from the worker goroutines.
func (d *Dataset) Verify(ctx context.Context, src *Source, workers int, progress func(done int)) error {
	errs := make([]error, len(d.Samples))
	var done atomic.Int64
	err := forEach(ctx, len(d.Samples), workers, func(_, i int) {
		_, errs[i] = src.Image(d.Samples[i].Path)
		if n := done.Add(1); progress != nil {
			progress(int(n))
		}
	})
	if err != nil {
		return err
	}
	kept := d.Samples[:0:0]
	for i, s := range d.Samples {
		if errs[i] != nil {
			d.Skipped = append(d.Skipped, errs[i])
			continue
		}
		kept = append(kept, s)
	}
	d.Samples = kept
	for label, n := range d.Counts() {
		if n == 0 {
			return fmt.Errorf("dataset: identity %q has no usable photo left after decoding", d.Classes[label])
		}
	}
	return nil
}

// ComputeNorm measures the mean and standard deviation of each colour channel (values in
// [0, 1]) over all pixels of the set's pictures as src produces them, before augmentation.
// Compute it on the training split only, so validation stays unseen.
func ComputeNorm(ctx context.Context, set *Dataset, src *Source, workers int) (vision.Normalization, error) {
	if len(set.Samples) == 0 {
		return vision.Normalization{}, fmt.Errorf("dataset: cannot compute channel statistics of an empty set")
	}
	// Per-worker sums in float64: 4,000 pictures of 16,384 pixels is 6.5e7 terms, beyond
	// float32's exact-integer range, and the variance is a difference of large sums.
	workers = workerCount(workers)
	type sums struct{ sum, sumSq [3]float64 }
	partial := make([]sums, workers)
	errs := make([]error, len(set.Samples))
	err := forEach(ctx, len(set.Samples), workers, func(w, i int) {
		img, err := src.Image(set.Samples[i].Path)
		if err != nil {
			errs[i] = err
			return
		}
		p := &partial[w]
		for j := 0; j < len(img.Pix); j += 4 {
			for c := range 3 {
				v := float64(img.Pix[j+c]) / 255
				p.sum[c] += v
				p.sumSq[c] += v * v
			}
		}
	})
	if err != nil {
		return vision.Normalization{}, err
	}
	for _, err := range errs {
		if err != nil {
			return vision.Normalization{}, err
		}
	}
	var total sums
	for _, p := range partial {
		for c := range 3 {
			total.sum[c] += p.sum[c]
			total.sumSq[c] += p.sumSq[c]
		}
	}
	n := float64(len(set.Samples) * src.Size() * src.Size())
	var norm vision.Normalization
	for c := range 3 {
		mean := total.sum[c] / n
		variance := max(total.sumSq[c]/n-mean*mean, 0)
		// A floor on std keeps a single-colour channel (a grey-only collection) finite.
		norm.Mean[c] = float32(mean)
		norm.Std[c] = float32(max(math.Sqrt(variance), 1e-3))
	}
	return norm, nil
}
