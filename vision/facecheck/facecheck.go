// Package facecheck is the second look at every box the Haar face detector returns: a small
// convolutional network, trained with this module's own engine (nn), that reads a grey crop
// around the box and says how likely it is to hold a face. The cascade decides on a few
// hundred rectangle sums and fires on hands, bottles and clothing that share a face's light
// and dark blocks (issue 21); the network sees the whole crop. notes/framing.md has what it
// was trained on and what it does on held-out photos.
//
// The embedded weights (data/facecheck.safetensors) were trained by recipe_test.go with a
// fixed seed; Default returns them.
package facecheck

import (
	"crypto/sha256"
	_ "embed"
	"encoding/hex"
	"fmt"
	"image"
	"math"
	"slices"
	"strconv"
	"sync"

	"github.com/vgglab/vgg/kernels"
	"github.com/vgglab/vgg/kernels/cpu"
	"github.com/vgglab/vgg/nn"
	"github.com/vgglab/vgg/tensor"
	"github.com/vgglab/vgg/vision"
)

// Side is the side of the grey crop the network reads.
const Side = 32

// Margin is how much the crop reaches past the box on every side, as a share of the box's
// side: the detector's boxes are tight (brows to chin), and a little hair, ear and collar
// around them tells a face from a face-like blob.
const Margin = 0.125

// DefaultThreshold is the face probability under which a checker rejects a box: even odds.
// On the held-out photos (notes/framing.md) it loses none of the faces the cascade finds on
// dlib_train or on celebs60's upright LFW photos.
const DefaultThreshold = 0.5

//go:embed data/facecheck.safetensors
var defaultWeights []byte

// Checker scores face crops. It is safe for concurrent use (the network runs one batch at a
// time). A copy shares the network: copying Default's checker and changing the copy's
// Threshold leaves Default's alone.
type Checker struct {
	// Threshold is the face probability a box needs to be kept.
	Threshold float64

	*model
	fingerprint string
}

// model is the network and the lock that lets one batch through it at a time.
type model struct {
	mu  sync.Mutex
	ctx *nn.Context
	net *nn.Sequential
}

// Default returns the checker with the embedded weights, made once on first use. The weights
// are part of the source tree and checked by the tests, so a failure to read them is a build
// defect and panics.
func Default() *Checker { return defaultChecker() }

var defaultChecker = sync.OnceValue(func() *Checker {
	c, err := Load("embedded facecheck weights", defaultWeights)
	if err != nil {
		panic(err)
	}
	return c
})

// network builds the classifier on ctx: three 3x3 convolutions (8, 16, 32 channels), each
// followed by a ReLU and a 2x2 max pool (32 -> 16 -> 8 -> 4 pixels), then 512 -> 32 -> 2
// fully connected; class 1 is "face". About 22,000 weights, 1.3 MFLOP a crop.
func network(ctx *nn.Context) *nn.Sequential {
	return &nn.Sequential{Layers: []nn.Layer{
		nn.NewConv2D(ctx, "0", 1, 8), nn.NewReLU(ctx, "1"), nn.NewMaxPool2D(ctx, "2"),
		nn.NewConv2D(ctx, "3", 8, 16), nn.NewReLU(ctx, "4"), nn.NewMaxPool2D(ctx, "5"),
		nn.NewConv2D(ctx, "6", 16, 32), nn.NewReLU(ctx, "7"), nn.NewMaxPool2D(ctx, "8"),
		nn.NewFlatten("9"),
		nn.NewLinear(ctx, "10", 32*(Side/8)*(Side/8), 32), nn.NewReLU(ctx, "11"),
		nn.NewLinear(ctx, "12", 32, 2),
	}}
}

// newChecker makes a checker with freshly initialised weights drawn from seed.
func newChecker(seed uint64) (*Checker, error) {
	ctx := &nn.Context{Backend: cpu.New(), Seed: seed}
	net := network(ctx)
	if err := nn.InitParams(ctx.Backend, net.Params(), seed); err != nil {
		return nil, err
	}
	return &Checker{Threshold: DefaultThreshold, model: &model{ctx: ctx, net: net}}, nil
}

// Load makes a checker from safetensors weights (name says where they come from in errors).
// The file's "threshold" metadata, when present, sets Threshold.
func Load(name string, weights []byte) (*Checker, error) {
	c, err := newChecker(0)
	if err != nil {
		return nil, err
	}
	meta, err := nn.ReadParams(name, weights, c.ctx.Backend, c.net.Params())
	if err != nil {
		return nil, err
	}
	if v, ok := meta["side"]; ok && v != strconv.Itoa(Side) {
		return nil, fmt.Errorf("%s: made for %s-pixel crops, this checker reads %d", name, v, Side)
	}
	if v, ok := meta["threshold"]; ok {
		t, err := strconv.ParseFloat(v, 64)
		if err != nil || !(t > 0 && t < 1) {
			return nil, fmt.Errorf("%s: threshold %q is not a probability between 0 and 1", name, v)
		}
		c.Threshold = t
	}
	sum := sha256.Sum256(weights)
	c.fingerprint = hex.EncodeToString(sum[:])
	return c, nil
}

// Save writes the weights and Threshold to path (a safetensors file, written atomically).
func (c *Checker) Save(path string) error {
	meta := map[string]string{"threshold": strconv.FormatFloat(c.Threshold, 'g', -1, 64), "side": strconv.Itoa(Side)}
	return nn.SaveParams(path, c.net.Params(), c.ctx.Backend, meta)
}

// Fingerprint names the weights (a SHA-256 of the file they were loaded from), so that
// framing cached with one checker is not reused with another. A checker being trained has
// none.
func (c *Checker) Fingerprint() string { return c.fingerprint }

// Scores returns the face probability of each box of grey (see Crop).
func (c *Checker) Scores(grey *image.Gray, boxes []image.Rectangle) ([]float64, error) {
	crops := make([][]float32, len(boxes))
	for i, b := range boxes {
		crops[i] = Crop(grey, b)
	}
	return c.scoreCrops(crops)
}

// IsFace says whether the box of grey holds a face, and with what probability.
func (c *Checker) IsFace(grey *image.Gray, box image.Rectangle) (bool, float64, error) {
	s, err := c.Scores(grey, []image.Rectangle{box})
	if err != nil {
		return false, 0, err
	}
	return s[0] >= c.Threshold, s[0], nil
}

// scoreCrops runs the network on crops (each Side*Side values from Crop).
func (c *Checker) scoreCrops(crops [][]float32) ([]float64, error) {
	if len(crops) == 0 {
		return nil, nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	logits, err := c.forward(crops)
	if err != nil {
		return nil, err
	}
	out := make([]float64, len(crops))
	for i := range out {
		out[i] = faceProbability(logits[2*i], logits[2*i+1])
	}
	return out, nil
}

// forward runs the network on a batch of crops and returns the logits, two per crop. The
// caller holds c.mu.
func (c *Checker) forward(crops [][]float32) ([]float32, error) {
	host := tensor.Zeros(len(crops), 1, Side, Side)
	data := host.Float32s()
	for i, crop := range crops {
		copy(data[i*Side*Side:], crop)
	}
	out, err := c.net.ForwardHost(c.ctx.Backend, host)
	if err != nil {
		return nil, err
	}
	return out.Float32s(), nil
}

// faceProbability is the softmax probability of class 1 from the two logits.
func faceProbability(notFace, face float32) float64 {
	return 1 / (1 + math.Exp(float64(notFace)-float64(face)))
}

// Crop is what the network reads for a box of grey: the square of the box's larger side
// grown by Margin on every side, about the box's centre, averaged down (or interpolated up)
// to Side x Side, the pixels beyond the image's edge repeating its border, then standardised
// to zero mean and unit deviation, so that lighting and contrast do not count.
func Crop(grey *image.Gray, box image.Rectangle) []float32 {
	side := float64(max(box.Dx(), box.Dy())) * (1 + 2*Margin)
	cx := float64(box.Min.X+box.Max.X) / 2
	cy := float64(box.Min.Y+box.Max.Y) / 2
	x0, y0 := cx-side/2, cy-side/2
	step := side / Side
	r := grey.Rect
	at := func(x, y int) float64 {
		x = min(max(x, r.Min.X), r.Max.X-1)
		y = min(max(y, r.Min.Y), r.Max.Y-1)
		return float64(grey.Pix[grey.PixOffset(x, y)])
	}
	out := make([]float32, Side*Side)
	// spans gives each output row or column the source pixels it averages: at least one
	// pixel, the one under its centre when the crop is enlarged.
	spans := func(origin float64) [Side][2]int {
		var s [Side][2]int
		for i := range s {
			lo, hi := origin+float64(i)*step, origin+float64(i+1)*step
			a, b := int(math.Floor(lo+0.5)), int(math.Floor(hi+0.5))
			if b <= a {
				a = int(math.Floor((lo + hi) / 2))
				b = a + 1
			}
			s[i] = [2]int{a, b}
		}
		return s
	}
	xs, ys := spans(x0), spans(y0)
	var sum, sumSq float64
	for v, sy := range ys {
		for u, sx := range xs {
			var acc float64
			for y := sy[0]; y < sy[1]; y++ {
				for x := sx[0]; x < sx[1]; x++ {
					acc += at(x, y)
				}
			}
			p := acc / float64((sy[1]-sy[0])*(sx[1]-sx[0]))
			out[v*Side+u] = float32(p)
			sum += p
			sumSq += p * p
		}
	}
	n := float64(Side * Side)
	mean := sum / n
	// A floor on the deviation keeps a flat crop (a wall, the sky) from being blown up into
	// noise that could look like anything.
	dev := math.Max(math.Sqrt(math.Max(sumSq/n-mean*mean, 0)), 8)
	for i, p := range out {
		out[i] = float32((float64(p) - mean) / dev)
	}
	return out
}

// Mirror returns a crop flipped left to right (a mirrored face is another training face).
func Mirror(crop []float32) []float32 {
	out := slices.Clone(crop)
	vision.MirrorCHW(out, Side)
	return out
}

// backend is the checker's compute backend (the CPU: the network is tiny).
func (c *Checker) backend() kernels.Backend { return c.ctx.Backend }
