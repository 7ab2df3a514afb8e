package dataset

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/vgglab/vgg/vision"
)

// TestCelebs60 reads the shared real photos when VGG_FACES points at them
// (VGG_FACES=/work/shared/faces): the whole layout is scanned, and a few identities are
// decoded and batched.
func TestCelebs60(t *testing.T) {
	faces := os.Getenv("VGG_FACES")
	if faces == "" {
		t.Skip("VGG_FACES is not set: skipping the test on real celebrity photos")
	}
	root := filepath.Join(faces, "celebs60")
	d, err := Scan(root, vision.Decoder{})
	if err != nil {
		t.Fatal(err)
	}
	if len(d.Classes) != 60 || len(d.Samples)+len(d.Skipped) != 4083 {
		t.Errorf("%d identities, %d photos + %d skipped; the README says 60 and 4,083", len(d.Classes), len(d.Samples), len(d.Skipped))
	}
	for _, err := range d.Skipped {
		t.Logf("skipped: %v", err)
	}

	// Three identities of different sources (an LFW 250x250, a film crop, a K-pop crop) in full.
	classes := []string{"Ariel_Sharon", "Dahyun", "Daniel_Radcliffe"}
	labelOf := map[string]int{}
	for label, name := range classes {
		labelOf[name] = label
	}
	var few []Sample
	for _, s := range d.Samples {
		if label, ok := labelOf[d.Classes[s.Label]]; ok {
			few = append(few, Sample{Path: s.Path, Label: label})
		}
	}
	small := &Dataset{Root: root, Classes: classes, Samples: few}
	src := NewSource(SourceOptions{Size: 128, Cache: true})
	if err := small.Verify(context.Background(), src, 0, nil); err != nil {
		t.Fatal(err)
	}
	train, val, err := small.Split(1, 0.2)
	if err != nil {
		t.Fatal(err)
	}
	norm, err := ComputeNorm(context.Background(), train, src, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%d photos of %v: %d train, %d validation, %d skipped; norm %+v",
		len(small.Samples), classes, len(train.Samples), len(val.Samples), len(small.Skipped), norm)
	for c := range 3 {
		if norm.Mean[c] < 0.2 || norm.Mean[c] > 0.8 || norm.Std[c] < 0.1 || norm.Std[c] > 0.45 {
			t.Errorf("channel %d mean %v std %v: not what photos look like", c, norm.Mean[c], norm.Std[c])
		}
	}
	l, err := NewLoader(train, src, LoaderOptions{BatchSize: 32, Shuffle: true, Seed: 1, Augment: DefaultAugment, Norm: norm})
	if err != nil {
		t.Fatal(err)
	}
	batches := 0
	for b, err := range l.Epoch(context.Background(), 0) {
		if err != nil {
			t.Fatal(err)
		}
		batches++
		if b.X.Dim(1) != 3 || b.X.Dim(2) != 128 || b.X.Dim(3) != 128 {
			t.Fatalf("batch shape %v", b.X.Shape())
		}
	}
	if batches != l.NumBatches() {
		t.Errorf("%d batches, want %d", batches, l.NumBatches())
	}
}
