package dataset

import (
	"context"
	"errors"
	"image"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/vgglab/vgg/vision"
)

// epochBatches runs one epoch and returns its batches, failing the test on an error.
func epochBatches(t *testing.T, l *Loader, epoch int) []*Batch {
	t.Helper()
	var out []*Batch
	for b, err := range l.Epoch(context.Background(), epoch) {
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, b)
	}
	return out
}

func sameBatches(a, b []*Batch) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i].Index != b[i].Index || !slices.Equal(a[i].Paths, b[i].Paths) ||
			!slices.Equal(a[i].Labels.Int32s(), b[i].Labels.Int32s()) {
			return false
		}
		x, y := a[i].X.Float32s(), b[i].X.Float32s()
		for j := range x {
			if math.Float32bits(x[j]) != math.Float32bits(y[j]) {
				return false
			}
		}
	}
	return true
}

func loaderSet(t *testing.T) (*Dataset, string) {
	t.Helper()
	root := makeSet(t, []string{"Ann", "Bob", "Cy"}, []int{7, 5, 11})
	d, err := Scan(root, vision.Decoder{})
	if err != nil {
		t.Fatal(err)
	}
	return d, root
}

func TestLoaderDeterministicAcrossWorkers(t *testing.T) {
	d, _ := loaderSet(t)
	norm := vision.Normalization{Mean: [3]float32{0.4, 0.3, 0.5}, Std: [3]float32{0.2, 0.2, 0.3}}
	opts := LoaderOptions{BatchSize: 4, Shuffle: true, Seed: 11, Augment: DefaultAugment, Norm: norm}
	var runs [][]*Batch
	for _, setup := range []struct {
		workers, ahead int
		cache          bool
	}{{1, 1, false}, {4, 2, false}, {3, 8, true}, {8, 1, true}} {
		o := opts
		o.Workers, o.Ahead = setup.workers, setup.ahead
		l, err := NewLoader(d, NewSource(SourceOptions{Size: 12, Cache: setup.cache}), o)
		if err != nil {
			t.Fatal(err)
		}
		runs = append(runs, epochBatches(t, l, 3))
	}
	for i := 1; i < len(runs); i++ {
		if !sameBatches(runs[0], runs[i]) {
			t.Errorf("setup %d produced different batches from setup 0", i)
		}
	}

	b := runs[0]
	// 23 samples in batches of 4: five full batches and one of 3.
	if len(b) != 6 || b[5].X.Dim(0) != 3 || b[0].X.Shape().String() != "[4 3 12 12]" || b[5].Labels.Numel() != 3 {
		t.Fatalf("%d batches, last X %v", len(b), b[len(b)-1].X.Shape())
	}
	// Every sample exactly once, with its own label.
	var seen []string
	for _, batch := range b {
		for k, p := range batch.Paths {
			seen = append(seen, p)
			if want := d.Classes[batch.Labels.Int32s()[k]]; filepath.Base(filepath.Dir(p)) != want {
				t.Errorf("%s labelled %s", p, want)
			}
		}
	}
	slices.Sort(seen)
	if !slices.Equal(seen, paths(d)) {
		t.Error("the epoch did not visit every sample exactly once")
	}
}

func TestLoaderEpochs(t *testing.T) {
	d, _ := loaderSet(t)
	src := NewSource(SourceOptions{Size: 8, Cache: true})
	shuffled, err := NewLoader(d, src, LoaderOptions{BatchSize: 5, Shuffle: true, Seed: 1, Augment: DefaultAugment, Norm: vision.Identity, Workers: 2})
	if err != nil {
		t.Fatal(err)
	}
	e0, e1 := epochBatches(t, shuffled, 0), epochBatches(t, shuffled, 1)
	if slices.Equal(e0[0].Paths, e1[0].Paths) {
		t.Error("epochs 0 and 1 began with the same samples")
	}
	// Resuming at epoch 1 in a fresh loader reproduces it exactly.
	resumed, _ := NewLoader(d, NewSource(SourceOptions{Size: 8}), LoaderOptions{BatchSize: 5, Shuffle: true, Seed: 1, Augment: DefaultAugment, Norm: vision.Identity, Workers: 3})
	if !sameBatches(e1, epochBatches(t, resumed, 1)) {
		t.Error("a fresh loader at epoch 1 differs from the one that ran epoch 0 first")
	}
	// Without shuffling or augmentation: dataset order and plain pictures.
	plain, _ := NewLoader(d, src, LoaderOptions{BatchSize: 5, Norm: vision.Identity})
	var order []string
	for _, b := range epochBatches(t, plain, 7) {
		order = append(order, b.Paths...)
	}
	if !slices.Equal(order, paths(d)) {
		t.Error("unshuffled loader is not in dataset order")
	}
	first := epochBatches(t, plain, 0)[0]
	img, _ := src.Image(d.Samples[0].Path)
	want := make([]float32, 3*8*8)
	vision.ToCHW(img, vision.Identity, want)
	if !slices.Equal(first.X.Float32s()[:len(want)], want) {
		t.Error("unaugmented sample differs from ToCHW of its picture")
	}
}

func TestLoaderStopsCleanly(t *testing.T) {
	d, root := loaderSet(t)
	src := NewSource(SourceOptions{Size: 8})
	l, _ := NewLoader(d, src, LoaderOptions{BatchSize: 2, Workers: 3, Ahead: 2, Shuffle: true, Norm: vision.Identity})
	before := runtime.NumGoroutine()

	// Breaking out of the loop stops the workers.
	for b, err := range l.Epoch(context.Background(), 0) {
		if err != nil || b.Index == 1 {
			break
		}
	}
	// Cancelling the context ends the epoch with the context's error.
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var last error
	n := 0
	for _, err := range l.Epoch(ctx, 0) {
		if err != nil {
			last = err
			break
		}
		n++
		if n == 2 {
			cancel()
		}
	}
	if !errors.Is(last, context.Canceled) || n != 2 {
		t.Errorf("after cancel: %d batches then %v, want 2 then context.Canceled", n, last)
	}
	deadline := time.Now().Add(2 * time.Second)
	for runtime.NumGoroutine() > before && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if g := runtime.NumGoroutine(); g > before {
		t.Errorf("%d goroutines after the loops, %d before: workers leaked", g, before)
	}

	// A photo that cannot be read ends the epoch with an error naming it.
	bad := filepath.Join(root, "Bob", "002.png")
	if err := os.WriteFile(bad, []byte("gone bad"), 0o644); err != nil {
		t.Fatal(err)
	}
	var got error
	for _, err := range l.Epoch(context.Background(), 0) {
		if err != nil {
			got = err
		}
	}
	if got == nil || !strings.Contains(got.Error(), bad) {
		t.Errorf("bad photo: %v, want an error naming %s", got, bad)
	}
}

func TestNewLoaderChecksOptions(t *testing.T) {
	d, _ := loaderSet(t)
	src := NewSource(SourceOptions{Size: 8})
	for name, o := range map[string]LoaderOptions{
		"batch size 0":    {Norm: vision.Identity},
		"zero std":        {BatchSize: 2},
		"scale of 1":      {BatchSize: 2, Norm: vision.Identity, Augment: Augment{MaxScale: 1}},
		"negative rotate": {BatchSize: 2, Norm: vision.Identity, Augment: Augment{MaxRotate: -1}},
	} {
		if _, err := NewLoader(d, src, o); err == nil {
			t.Errorf("%s accepted", name)
		}
	}
	if _, err := NewLoader(d.subset(nil), src, LoaderOptions{BatchSize: 2, Norm: vision.Identity}); err == nil {
		t.Error("empty set accepted")
	}
}

// TestLoaderLooksAheadBoundedly checks that the workers stop Ahead batches beyond the one
// the consumer holds, however fast they are, so memory stays bounded.
func TestLoaderLooksAheadBoundedly(t *testing.T) {
	d, _ := loaderSet(t) // 23 samples
	var loaded atomic.Int32
	src := NewSource(SourceOptions{Size: 8, Frame: func(img image.Image) (image.Image, string, error) {
		loaded.Add(1)
		return img, "", nil
	}})
	const batch, ahead = 2, 3
	l, _ := NewLoader(d, src, LoaderOptions{BatchSize: batch, Workers: 4, Ahead: ahead, Norm: vision.Identity})
	for b, err := range l.Epoch(context.Background(), 0) {
		if err != nil {
			t.Fatal(err)
		}
		if b.Index == 0 {
			// A slow training step: wait until the workers have run as far ahead as they
			// may, then a little longer to give an unbounded pipeline the chance to overshoot.
			want := int32((1 + ahead) * batch)
			deadline := time.Now().Add(5 * time.Second)
			for loaded.Load() < want && time.Now().Before(deadline) {
				time.Sleep(5 * time.Millisecond)
			}
			time.Sleep(50 * time.Millisecond)
			if n := loaded.Load(); n != want {
				t.Errorf("%d samples loaded while the consumer holds batch 0, want %d (batch 0 and %d ahead)", n, want, ahead)
			}
		}
	}
	if n := loaded.Load(); n != 23 {
		t.Errorf("%d samples loaded in the epoch, want 23", n)
	}
}
