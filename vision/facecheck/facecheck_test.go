package facecheck

import (
	"image"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vgglab/vgg/nn"
	"github.com/vgglab/vgg/vision/haar"
	"github.com/vgglab/vgg/vision/synth"
)

// synthFaces are crops of made-up faces (vision/synth) at the box the face cascade finds on
// them, and texture crops that hold no face.
func synthCrops(t *testing.T, seed uint64, n int) (faces, textures [][]float32) {
	t.Helper()
	rng := rand.New(rand.NewPCG(seed, 1))
	for i := 0; len(faces) < n; i++ {
		g := haar.Grey(synth.Render(seed, i, 0, 96))
		dets, err := haar.FrontalFace().Detect(g, haar.DefaultParams())
		if err != nil {
			t.Fatal(err)
		}
		if len(dets) == 0 {
			if i > 3*n {
				t.Fatalf("the cascade found only %d of %d made-up faces", len(faces), i)
			}
			continue
		}
		faces = append(faces, Crop(g, dets[0].Box))
		textures = append(textures, Crop(stripes(rng, 96), dets[0].Box))
	}
	return faces, textures
}

// stripes is a picture of random gratings and blobs: structure, but no face.
func stripes(rng *rand.Rand, side int) *image.Gray {
	g := image.NewGray(image.Rect(0, 0, side, side))
	angle, period := rng.Float64()*math.Pi, 3+rng.Float64()*12
	for y := range side {
		for x := range side {
			v := 128 + 90*math.Sin(2*math.Pi*(float64(x)*math.Cos(angle)+float64(y)*math.Sin(angle))/period)
			g.Pix[y*side+x] = uint8(math.Max(0, math.Min(255, v+rng.Float64()*30-15)))
		}
	}
	return g
}

func TestCropIsStandardised(t *testing.T) {
	g := haar.Grey(synth.Render(1, 0, 0, 80))
	for _, box := range []image.Rectangle{image.Rect(10, 10, 70, 70), image.Rect(-20, 50, 30, 100), image.Rect(30, 30, 42, 42)} {
		c := Crop(g, box)
		if len(c) != Side*Side {
			t.Fatalf("crop of %v has %d values", box, len(c))
		}
		var sum, sq float64
		for _, v := range c {
			sum += float64(v)
			sq += float64(v) * float64(v)
		}
		mean := sum / float64(len(c))
		dev := math.Sqrt(sq/float64(len(c)) - mean*mean)
		if math.Abs(mean) > 1e-4 || math.Abs(dev-1) > 1e-3 {
			t.Errorf("crop of %v: mean %.5f, deviation %.5f; want 0 and 1", box, mean, dev)
		}
	}
	// A flat crop stays flat instead of being blown up into noise.
	flat := image.NewGray(image.Rect(0, 0, 40, 40))
	for i := range flat.Pix {
		flat.Pix[i] = uint8(100 + i%2)
	}
	for _, v := range Crop(flat, flat.Rect) {
		if math.Abs(float64(v)) > 0.1 {
			t.Fatalf("a flat crop has a value %.3f; want near 0", v)
		}
	}
}

func TestMirror(t *testing.T) {
	c := make([]float32, Side*Side)
	c[3] = 1
	m := Mirror(c)
	if m[Side-4] != 1 || Mirror(m)[3] != 1 {
		t.Error("Mirror does not flip rows left to right")
	}
}

// A checker trained on made-up faces against textures tells new ones apart, and saving and
// loading it keeps its scores and threshold.
func TestTrainSaveLoad(t *testing.T) {
	faces, textures := synthCrops(t, 1, 64)
	var losses []float64
	c, err := Train(faces, textures, TrainConfig{Epochs: 8, Batch: 16, Seed: 3, Threshold: 0.7,
		Progress: func(_ int, loss float64) { losses = append(losses, loss) }})
	if err != nil {
		t.Fatal(err)
	}
	if len(losses) != 8 || !(losses[7] < losses[0]/2) {
		t.Errorf("losses by epoch %v: want 8 that fall by half", losses)
	}
	newFaces, newTextures := synthCrops(t, 2, 25)
	faceScores, err := c.scoreCrops(newFaces)
	if err != nil {
		t.Fatal(err)
	}
	textureScores, err := c.scoreCrops(newTextures)
	if err != nil {
		t.Fatal(err)
	}
	right := 0
	for i := range faceScores {
		if faceScores[i] >= 0.5 {
			right++
		}
		if textureScores[i] < 0.5 {
			right++
		}
	}
	t.Logf("%d of 50 unseen crops told apart; losses by epoch %.3f", right, losses)
	if right < 45 {
		t.Errorf("%d of 50 unseen crops told apart; want at least 45", right)
	}

	path := filepath.Join(t.TempDir(), "check.safetensors")
	if err := c.Save(path); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	loaded, err := Load(path, data)
	if err != nil {
		t.Fatal(err)
	}
	if loaded.Threshold != 0.7 || loaded.Fingerprint() == "" {
		t.Errorf("loaded threshold %v, fingerprint %q; want 0.7 and a fingerprint", loaded.Threshold, loaded.Fingerprint())
	}
	again, err := loaded.scoreCrops(newFaces)
	if err != nil {
		t.Fatal(err)
	}
	for i := range again {
		if again[i] != faceScores[i] {
			t.Fatalf("crop %d scores %v after loading, %v before", i, again[i], faceScores[i])
		}
	}
}

func TestLoadRefusesBadWeights(t *testing.T) {
	for name, data := range map[string][]byte{
		"empty":     nil,
		"truncated": defaultWeights[:len(defaultWeights)/2],
		"garbage":   []byte("0123456789abcdef not safetensors"),
	} {
		if _, err := Load("weights.safetensors", data); err == nil || !strings.Contains(err.Error(), "weights.safetensors") {
			t.Errorf("%s: error %v; want one naming weights.safetensors", name, err)
		}
	}
}

// Weights made for another crop size are refused, naming both sizes.
func TestLoadRefusesOtherCropSize(t *testing.T) {
	c, err := newChecker(1)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "w.safetensors")
	if err := nn.SaveParams(path, c.net.Params(), c.ctx.Backend, map[string]string{"side": "16"}); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Load(path, data); err == nil || !strings.Contains(err.Error(), "16-pixel") {
		t.Errorf("error %v; want one naming the 16-pixel crops", err)
	}
}

func TestTrainRefusesBadCrops(t *testing.T) {
	good := [][]float32{make([]float32, Side*Side)}
	if _, err := Train(nil, good, TrainConfig{}); err == nil {
		t.Error("training without faces: no error")
	}
	if _, err := Train(good, [][]float32{make([]float32, 10)}, TrainConfig{}); err == nil {
		t.Error("training on a crop of the wrong size: no error")
	}
}

// The embedded checker takes made-up faces (the people of vgg demo) for faces, and gratings,
// noise and flat walls for none.
func TestDefaultChecker(t *testing.T) {
	c := Default()
	if c.Fingerprint() == "" || !(c.Threshold > 0 && c.Threshold < 1) {
		t.Fatalf("fingerprint %q, threshold %v", c.Fingerprint(), c.Threshold)
	}
	faces, textures := synthCrops(t, 9, 20)
	fs, err := c.scoreCrops(faces)
	if err != nil {
		t.Fatal(err)
	}
	ts, err := c.scoreCrops(textures)
	if err != nil {
		t.Fatal(err)
	}
	accepted, rejected := 0, 0
	for i := range fs {
		if fs[i] >= c.Threshold {
			accepted++
		}
		if ts[i] < c.Threshold {
			rejected++
		}
	}
	if accepted < 18 || rejected < 18 {
		t.Errorf("%d of 20 made-up faces accepted, %d of 20 textures rejected; want at least 18 of each", accepted, rejected)
	}
}
