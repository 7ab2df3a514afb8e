// Package eyeloc finds the centres of both eyes in a face box: a small convolutional network,
// trained with this module's own engine (nn), that reads a grey crop around the box and says,
// for each eye's x and for its y, which of the crop's Side pixel columns (or rows) it lies
// in. Issue 21 asked for a learned locator: the Haar eye cascade it replaces looks for each eye
// on its own, misses eyes in small, tilted or turned faces, and put both eyes within a tenth
// of the distance between them on 9 of dlib_train's 18 faces.
//
// Each coordinate is a classification over Side bins, one per crop pixel, learnt with the
// softmax cross-entropy the engine already has (as SimCC does for body keypoints: Li et al.,
// "SimCC: a Simple Coordinate Classification Perspective for Human Pose Estimation", ECCV
// 2022); the answer is the expectation of the bins about the most probable one, which places
// it between pixels. The spread of the bins says how sure the network is.
//
// The embedded weights (data/eyeloc.safetensors) were trained by recipe_test.go with a fixed
// seed on exact eye positions: celebs60's ArcFace-aligned photos and vision/synth's faces,
// moved, scaled and turned in the box as a detector frames faces. Default returns them.
package eyeloc

import (
	"crypto/sha256"
	_ "embed"
	"encoding/hex"
	"fmt"
	"image"
	"math"
	"strconv"
	"sync"

	"github.com/vgglab/vgg/kernels/cpu"
	"github.com/vgglab/vgg/nn"
	"github.com/vgglab/vgg/tensor"
)

// heads are the coordinates the network answers, each as Side logits: the image-left eye's x
// and y, then the image-right eye's.
const heads = 4

//go:embed data/eyeloc.safetensors
var defaultWeights []byte

// Locator finds eyes in face boxes. It is safe for concurrent use (the network runs one batch
// at a time).
type Locator struct {
	mu          sync.Mutex
	ctx         *nn.Context
	net         *nn.Sequential
	fingerprint string
}

// Eyes are a face's eye centres as the locator sees them.
type Eyes struct {
	// Centres are in the picture's continuous coordinates (pixel (x, y) covers
	// [x, x+1) x [y, y+1)), the eye on the picture's left (the subject's right eye) first.
	Centres [2][2]float64
	// Spread is how unsure the network is: the standard deviation of its bins, averaged over
	// the four coordinates, as a share of the distance between the eyes it found. Clear faces
	// spread 0.03 to 0.06, dlib_train's small, turned ones up to 0.08, and cbcl24's non-face
	// patches 0.12 to 0.35 (10th to 90th percentile; notes/framing.md).
	Spread float64
}

// Default returns the locator with the embedded weights, made once on first use. The weights
// are part of the source tree and checked by the tests, so a failure to read them is a build
// defect and panics.
func Default() *Locator { return defaultLocator() }

var defaultLocator = sync.OnceValue(func() *Locator {
	l, err := Load("embedded eyeloc weights", defaultWeights)
	if err != nil {
		panic(err)
	}
	return l
})

// network builds the locator on ctx: four 3x3 convolutions (16, 32, 64, 64 channels) with
// ReLUs, max pools after the first, second and fourth (48 -> 24 -> 12 -> 6 pixels), then
// 2304 -> 128 -> 4·48 fully connected. About 360,000 weights, 23 MFLOP a crop.
func network(ctx *nn.Context) *nn.Sequential {
	return &nn.Sequential{Layers: []nn.Layer{
		nn.NewConv2D(ctx, "0", 1, 16), nn.NewReLU(ctx, "1"), nn.NewMaxPool2D(ctx, "2"),
		nn.NewConv2D(ctx, "3", 16, 32), nn.NewReLU(ctx, "4"), nn.NewMaxPool2D(ctx, "5"),
		nn.NewConv2D(ctx, "6", 32, 64), nn.NewReLU(ctx, "7"),
		nn.NewConv2D(ctx, "8", 64, 64), nn.NewReLU(ctx, "9"), nn.NewMaxPool2D(ctx, "10"),
		nn.NewFlatten("11"),
		nn.NewLinear(ctx, "12", 64*(Side/8)*(Side/8), 128), nn.NewReLU(ctx, "13"),
		nn.NewLinear(ctx, "14", 128, heads*Side),
	}}
}

// newLocator makes a locator with freshly initialised weights drawn from seed.
func newLocator(seed uint64) (*Locator, error) {
	ctx := &nn.Context{Backend: cpu.New(), Seed: seed}
	net := network(ctx)
	if err := nn.InitParams(ctx.Backend, net.Params(), seed); err != nil {
		return nil, err
	}
	return &Locator{ctx: ctx, net: net}, nil
}

// Load makes a locator from safetensors weights (name says where they come from in errors).
func Load(name string, weights []byte) (*Locator, error) {
	l, err := newLocator(0)
	if err != nil {
		return nil, err
	}
	meta, err := nn.ReadParams(name, weights, l.ctx.Backend, l.net.Params())
	if err != nil {
		return nil, err
	}
	if v, ok := meta["side"]; ok && v != strconv.Itoa(Side) {
		return nil, fmt.Errorf("%s: made for %s-pixel crops, this locator reads %d", name, v, Side)
	}
	sum := sha256.Sum256(weights)
	l.fingerprint = hex.EncodeToString(sum[:])
	return l, nil
}

// Save writes the weights to path (a safetensors file, written atomically).
func (l *Locator) Save(path string) error {
	return nn.SaveParams(path, l.net.Params(), l.ctx.Backend, map[string]string{"side": strconv.Itoa(Side)})
}

// Fingerprint names the weights (a SHA-256 of the file they were loaded from), so that
// framing cached with one locator is not reused with another. A locator being trained has
// none.
func (l *Locator) Fingerprint() string { return l.fingerprint }

// Locate returns the eyes of the face in each box of grey. Each crop is read as it is and
// mirrored, and the two answers averaged (the mirror's eyes swapped back), which halves any
// lean to one side the network learnt.
func (l *Locator) Locate(grey *image.Gray, boxes []image.Rectangle) ([]Eyes, error) {
	if len(boxes) == 0 {
		return nil, nil
	}
	crops := make([][]float32, 0, 2*len(boxes))
	for _, b := range boxes {
		c := Crop(grey, b)
		crops = append(crops, c, mirror(c))
	}
	l.mu.Lock()
	logits, err := l.forward(crops)
	l.mu.Unlock()
	if err != nil {
		return nil, err
	}
	out := make([]Eyes, len(boxes))
	for i, b := range boxes {
		plain := decode(logits[2*i*heads*Side:])
		flipped := decode(logits[(2*i+1)*heads*Side:])
		var c [heads]float64
		var spread float64
		for h := range heads {
			// The mirror's image-left eye is the photo's image-right one, and its x runs
			// the other way.
			m := h ^ 2
			if h%2 == 0 {
				c[h] = (plain[h].mean + Side - flipped[m].mean) / 2
			} else {
				c[h] = (plain[h].mean + flipped[m].mean) / 2
			}
			spread += (plain[h].dev + flipped[m].dev) / 2 / heads
		}
		w := boxWindow(b)
		var e Eyes
		for k := range 2 {
			e.Centres[k][0], e.Centres[k][1] = w.toPicture(c[2*k], c[2*k+1])
		}
		between := math.Hypot(c[2]-c[0], c[3]-c[1])
		e.Spread = spread / math.Max(between, 1)
		out[i] = e
	}
	return out, nil
}

// bins is one coordinate's answer: where it is in crop pixels and the spread of the bins
// about it.
type bins struct{ mean, dev float64 }

// decode reads the heads of one crop's logits: for each, the softmax over its Side bins, and
// the expectation of the bins within two of the most probable (so that a second, fainter
// candidate elsewhere does not pull the answer between the two), as a crop position (bin i
// covers [i, i+1)); dev is the standard deviation of all the bins about it.
func decode(logits []float32) [heads]bins {
	var out [heads]bins
	for h := range heads {
		z := logits[h*Side : (h+1)*Side]
		best := 0
		for i, v := range z {
			if v > z[best] {
				best = i
			}
		}
		p := make([]float64, Side)
		var total float64
		for i, v := range z {
			p[i] = math.Exp(float64(v - z[best]))
			total += p[i]
		}
		var near, nearSum float64
		for i := max(best-2, 0); i <= min(best+2, Side-1); i++ {
			near += p[i] * (float64(i) + 0.5)
			nearSum += p[i]
		}
		mean := near / nearSum
		var variance float64
		for i := range p {
			d := float64(i) + 0.5 - mean
			variance += p[i] / total * d * d
		}
		out[h] = bins{mean: mean, dev: math.Sqrt(variance)}
	}
	return out
}

// forward runs the network on a batch of crops and returns the logits, heads·Side per crop.
// The caller holds l.mu.
func (l *Locator) forward(crops [][]float32) ([]float32, error) {
	host := tensor.Zeros(len(crops), 1, Side, Side)
	data := host.Float32s()
	for i, crop := range crops {
		copy(data[i*Side*Side:], crop)
	}
	out, err := l.net.ForwardHost(l.ctx.Backend, host)
	if err != nil {
		return nil, err
	}
	return out.Float32s(), nil
}
