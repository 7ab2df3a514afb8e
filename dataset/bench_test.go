package dataset

import (
	"context"
	"testing"

	"github.com/vgglab/vgg/vision"
	"github.com/vgglab/vgg/vision/synth"
)

// benchLoader measures a training epoch over 64 synthetic 160x160 JPEGs (the size of the
// K-pop crops in celebs60) into 128x128 augmented batches of 32.
func benchLoader(b *testing.B, cache bool) {
	root := b.TempDir()
	if err := synth.WriteDataset(context.Background(), root, synth.Options{Seed: 1, Identities: 4, Photos: 16, Size: 160}); err != nil {
		b.Fatal(err)
	}
	set, err := Scan(root, vision.Decoder{})
	if err != nil {
		b.Fatal(err)
	}
	src := NewSource(SourceOptions{Size: 128, Cache: cache})
	if err := set.Verify(context.Background(), src, 0, nil); err != nil {
		b.Fatal(err)
	}
	l, err := NewLoader(set, src, LoaderOptions{BatchSize: 32, Shuffle: true, Augment: DefaultAugment, Norm: vision.Identity})
	if err != nil {
		b.Fatal(err)
	}
	epoch := 0
	for b.Loop() {
		for _, err := range l.Epoch(context.Background(), epoch) {
			if err != nil {
				b.Fatal(err)
			}
		}
		epoch++
	}
	b.ReportMetric(float64(epoch*len(set.Samples))/b.Elapsed().Seconds(), "img/s")
}

func BenchmarkLoaderDecoding(b *testing.B) { benchLoader(b, false) }
func BenchmarkLoaderCached(b *testing.B)   { benchLoader(b, true) }
