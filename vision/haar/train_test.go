package haar

import (
	"bytes"
	"image"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"
)

// syntheticFace draws a 12x12 "face" (dark eye band on a light patch with a dark mouth) with
// noise, so a cascade has something real but easy to learn.
func syntheticFace(rng *rand.Rand) *image.Gray {
	g := image.NewGray(image.Rect(0, 0, 12, 12))
	for y := 0; y < 12; y++ {
		for x := 0; x < 12; x++ {
			v := 170
			if y >= 3 && y <= 4 && (x >= 2 && x <= 4 || x >= 7 && x <= 9) {
				v = 60
			}
			if y == 8 && x >= 4 && x <= 7 {
				v = 80
			}
			g.Pix[y*12+x] = uint8(v + rng.IntN(90) - 45)
		}
	}
	return g
}

// noiseImage is a face-free background: random grey rectangles (some of them dark bars
// like the eyes and mouth) over noise.
func noiseImage(rng *rand.Rand, w, h int) *image.Gray {
	g := image.NewGray(image.Rect(0, 0, w, h))
	for i := range g.Pix {
		g.Pix[i] = uint8(100 + rng.IntN(100))
	}
	for range w * h / 40 {
		x0, y0 := rng.IntN(w), rng.IntN(h)
		x1, y1 := min(w, x0+1+rng.IntN(6)), min(h, y0+1+rng.IntN(4))
		v := uint8(rng.IntN(256))
		for y := y0; y < y1; y++ {
			for x := x0; x < x1; x++ {
				g.Pix[y*w+x] = v
			}
		}
	}
	return g
}

// syntheticSet draws faces synthetic faces and backgrounds 80x60 noise images from seed.
func syntheticSet(seed uint64, faces, backgrounds int) ([]*image.Gray, []Background) {
	rng := rand.New(rand.NewPCG(seed, seed))
	var fs []*image.Gray
	for range faces {
		fs = append(fs, syntheticFace(rng))
	}
	var bgs []Background
	for range backgrounds {
		bgs = append(bgs, Background{Img: noiseImage(rng, 80, 60)})
	}
	return fs, bgs
}

// TestTrainLearnsAndRoundTrips trains a small cascade on synthetic faces and backgrounds, then
// checks that it keeps the faces, rejects most background windows, and survives Write/Read
// unchanged (the XML holds every number exactly).
func TestTrainLearnsAndRoundTrips(t *testing.T) {
	faces, bgs := syntheticSet(1, 300, 20)
	rng := rand.New(rand.NewPCG(7, 7)) // the faces and windows it is checked on
	for _, discrete := range []bool{false, true} {
		c, reps, err := Train(faces, nil, bgs, TrainConfig{Width: 12, Height: 12, Stages: 3, FeatureSample: 400,
			Negatives: 300, Discrete: discrete, Seed: 3, Workers: 2})
		if err != nil {
			t.Fatal(err)
		}
		if len(c.Stages) == 0 || len(reps) != len(c.Stages) {
			t.Fatalf("discrete=%v: %d stages, %d reports", discrete, len(c.Stages), len(reps))
		}
		t.Logf("discrete=%v: %+v", discrete, reps)
		s := newScanner(c.compile())
		kept := 0
		for range 200 {
			if cascadeAccepts(s, syntheticFace(rng)) {
				kept++
			}
		}
		if kept < 180 {
			t.Errorf("discrete=%v: cascade keeps %d of 200 new faces", discrete, kept)
		}
		_, accept := mineNegatives(c, nil, []Background{{Img: noiseImage(rng, 80, 60)}}, TrainConfig{Width: 12, Height: 12, Negatives: 1000, Workers: 1}, rng)
		t.Logf("discrete=%v: keeps %d/200 faces, accepts %.4f of background windows", discrete, kept, accept)
		if accept > 0.05 {
			t.Errorf("discrete=%v: cascade accepts %.3f of background windows", discrete, accept)
		}
		var buf bytes.Buffer
		if err := c.Write(&buf); err != nil {
			t.Fatal(err)
		}
		back, err := Read(&buf)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(back, c) {
			t.Errorf("discrete=%v: cascade changed through Write/Read", discrete)
		}
		more, _, err := Train(faces, nil, bgs, TrainConfig{Width: 12, Height: 12, Stages: 1, FeatureSample: 400,
			Negatives: 300, Discrete: discrete, Seed: 4, Workers: 2, TargetFalseAlarm: 1e-9, Resume: back})
		if err != nil || len(more.Stages) != len(c.Stages)+1 || !reflect.DeepEqual(more.Stages[:len(c.Stages)], c.Stages) {
			t.Errorf("discrete=%v: resuming did not add one stage after the %d kept ones (err %v)", discrete, len(c.Stages), err)
		}
	}
}

// TestWriteReadStock writes OpenCV's trees-and-tilted eye cascade in our layout and reads it
// back identical.
func TestWriteReadStock(t *testing.T) {
	c := stockCascade(t, "haarcascade_eye_tree_eyeglasses.xml")
	var buf bytes.Buffer
	if err := c.Write(&buf); err != nil {
		t.Fatal(err)
	}
	back, err := Read(&buf)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(back, c) {
		t.Error("cascade changed through Write/Read")
	}
}

func TestTrainRejectsBadInput(t *testing.T) {
	rng := rand.New(rand.NewPCG(2, 2))
	faces := []*image.Gray{syntheticFace(rng)}
	bgs := []Background{{Img: noiseImage(rng, 50, 50)}}
	for name, run := range map[string]func() error{
		"too few faces": func() error { _, _, err := Train(faces, nil, bgs, TrainConfig{Width: 12, Height: 12}); return err },
		"wrong size":    func() error { _, _, err := Train(faces, nil, bgs, TrainConfig{}); return err },
		"no negatives": func() error {
			many := make([]*image.Gray, 20)
			for i := range many {
				many[i] = syntheticFace(rng)
			}
			_, _, err := Train(many, nil, nil, TrainConfig{Width: 12, Height: 12})
			return err
		},
	} {
		if err := run(); err == nil || strings.TrimSpace(err.Error()) == "" {
			t.Errorf("%s: no error", name)
		} else {
			t.Logf("%s: %v", name, err)
		}
	}
}

// Training gives the same cascade whatever the number of workers: negatives mined in parallel
// are taken in the order of their jobs, not as the workers finish.
func TestTrainIsDeterministicAcrossWorkers(t *testing.T) {
	faces, bgs := syntheticSet(2, 200, 12)
	var first *Cascade
	for _, workers := range []int{1, 2, 3} {
		c, _, err := Train(faces, nil, bgs, TrainConfig{Width: 12, Height: 12, Stages: 3, FeatureSample: 300,
			Negatives: 200, Seed: 5, Workers: workers})
		if err != nil {
			t.Fatal(err)
		}
		if first == nil {
			first = c
		} else if !reflect.DeepEqual(c, first) {
			t.Fatalf("%d workers trained another cascade than 1 worker", workers)
		}
	}
}
