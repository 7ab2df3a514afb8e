package dataset

import (
	"math"
	"slices"
	"testing"

	"github.com/vgglab/vgg/tensor"
	"github.com/vgglab/vgg/vision"
)

// TestMixBatch checks the mix of every picture against its formula on a batch whose partners
// form a cycle (0 -> 2 -> 1 -> 0), so that a picture overwritten before its partner read it
// would show, and a fixed point (3 mixed with itself stays itself).
func TestMixBatch(t *testing.T) {
	const n, per = 4, 3 * 2 * 2
	x := tensor.Zeros(n, 3, 2, 2)
	labels := tensor.New(tensor.Int32, n)
	xs := x.Float32s()
	for i := range xs {
		xs[i] = float32(i%per) + 100*float32(i/per)
	}
	copy(labels.Int32s(), []int32{5, 6, 7, 8})
	original := append([]float32(nil), xs...)
	partner := []int{2, 0, 1, 3}
	mix := MixBatch(x, labels, 0.75, partner)
	if mix.Lambda != 0.75 {
		t.Errorf("lambda %v, want 0.75", mix.Lambda)
	}
	for k, p := range partner {
		if got, want := mix.PartnerLabels.Int32s()[k], labels.Int32s()[p]; got != want {
			t.Errorf("picture %d: partner label %d, want %d", k, got, want)
		}
		for i := range per {
			want := 0.75*float64(original[k*per+i]) + 0.25*float64(original[p*per+i])
			if got := float64(xs[k*per+i]); math.Abs(got-want) > 1e-4 {
				t.Fatalf("picture %d value %d: %v, want %v", k, i, got, want)
			}
		}
	}
}

// TestLoaderMixup: with Mixup 1 every training batch is mixed, with its own draw, the same
// whatever the workers; with 0 none is; the weights lie in [0.5, 1].
func TestLoaderMixup(t *testing.T) {
	d, _ := loaderSet(t)
	norm := vision.Normalization{Mean: [3]float32{0.4, 0.3, 0.5}, Std: [3]float32{0.2, 0.2, 0.3}}
	load := func(mixup float64, workers int) []*Batch {
		a := DefaultAugment
		a.Mixup = mixup
		l, err := NewLoader(d, NewSource(SourceOptions{Size: 12}), LoaderOptions{BatchSize: 4, Shuffle: true, Seed: 11, Augment: a, Norm: norm, Workers: workers})
		if err != nil {
			t.Fatal(err)
		}
		return epochBatches(t, l, 2)
	}
	plain, one, four := load(0, 2), load(1, 1), load(1, 4)
	if !sameBatches(one, four) {
		t.Error("mixed batches differ between 1 and 4 workers")
	}
	lambdas := map[float32]bool{}
	for i, b := range one {
		if plain[i].Mix != nil {
			t.Errorf("batch %d mixed with Mixup 0", i)
		}
		if b.Mix == nil {
			t.Fatalf("batch %d not mixed with Mixup 1", i)
		}
		if b.Mix.Lambda < 0.5 || b.Mix.Lambda > 1 {
			t.Errorf("batch %d: lambda %v outside [0.5, 1]", i, b.Mix.Lambda)
		}
		if b.Mix.Lambda != four[i].Mix.Lambda || !slices.Equal(b.Mix.PartnerLabels.Int32s(), four[i].Mix.PartnerLabels.Int32s()) {
			t.Errorf("batch %d: the mix differs between 1 and 4 workers", i)
		}
		lambdas[b.Mix.Lambda] = true
	}
	if len(lambdas) < 2 {
		t.Errorf("every batch drew the same lambda %v", lambdas)
	}
	if err := (Augment{Mixup: 1.5}).Validate(); err == nil {
		t.Error("a mixup share of 1.5 was accepted")
	}
}
