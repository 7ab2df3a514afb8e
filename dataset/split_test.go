package dataset

import (
	"fmt"
	"math"
	"slices"
	"testing"
)

// fakeSet is a dataset of counts[i] samples per class, with paths only (Split reads no files).
func fakeSet(counts ...int) *Dataset {
	d := &Dataset{Root: "fake"}
	for label, n := range counts {
		d.Classes = append(d.Classes, fmt.Sprintf("id%02d", label))
		for p := range n {
			d.Samples = append(d.Samples, Sample{Path: fmt.Sprintf("fake/id%02d/%03d.jpg", label, p), Label: label})
		}
	}
	return d
}

func paths(d *Dataset) []string {
	var out []string
	for _, s := range d.Samples {
		out = append(out, s.Path)
	}
	return out
}

func TestSplitStratified(t *testing.T) {
	// A tenth of each identity, rounded; at least 3 where that is at most a fifth; at least one
	// photo kept for training.
	counts := []int{1, 2, 3, 10, 14, 15, 18, 41, 120}
	wantVals := []int{0, 0, 0, 2, 2, 3, 3, 4, 12}
	d := fakeSet(counts...)
	train, val, err := d.Split(7, 0.1)
	if err != nil {
		t.Fatal(err)
	}
	trainCounts, valCounts := train.Counts(), val.Counts()
	for label, n := range counts {
		wantVal := wantVals[label]
		if valCounts[label] != wantVal || trainCounts[label] != n-wantVal {
			t.Errorf("class of %d: %d train %d val, want %d val", n, trainCounts[label], valCounts[label], wantVal)
		}
		if trainCounts[label] < 1 {
			t.Errorf("class of %d has no training photo", n)
		}
	}
	// Together the two sets are the whole set, each sample exactly once.
	all := append(paths(train), paths(val)...)
	slices.Sort(all)
	if want := paths(d); !slices.Equal(all, want) {
		t.Error("train and validation are not a partition of the set")
	}
	if !slices.Equal(train.Classes, d.Classes) || !slices.Equal(val.Classes, d.Classes) {
		t.Error("splits lost the class list")
	}
}

func TestSplitDeterministic(t *testing.T) {
	d := fakeSet(12, 30, 7)
	train1, val1, _ := d.Split(42, 0.25)
	train2, val2, _ := d.Split(42, 0.25)
	if !slices.Equal(paths(train1), paths(train2)) || !slices.Equal(paths(val1), paths(val2)) {
		t.Error("the same seed gave different splits")
	}
	_, val3, _ := d.Split(43, 0.25)
	if slices.Equal(paths(val1), paths(val3)) {
		t.Error("seeds 42 and 43 chose the same validation photos")
	}
	train0, val0, _ := d.Split(42, 0)
	if len(val0.Samples) != 0 || len(train0.Samples) != len(d.Samples) {
		t.Error("fraction 0 should keep everything for training")
	}
	for _, bad := range []float64{-0.1, 1, math.NaN()} {
		if _, _, err := d.Split(1, bad); err == nil {
			t.Errorf("fraction %v accepted", bad)
		}
	}
}
