package explain

import (
	"image"
	"strings"
	"testing"

	"github.com/vgglab/vgg/nn"
	"github.com/vgglab/vgg/tensor"
)

func TestUpsample(t *testing.T) {
	flat := &CAM{W: 2, H: 2, Values: []float32{0.5, 0.5, 0.5, 0.5}}
	for _, v := range flat.Upsample(7, 5) {
		if v != 0.5 {
			t.Fatalf("a constant map upsampled to %v", v)
		}
	}
	// One hot cell of a 4x4 map: at 8x8 its two centre pixels (1.5 output pixels from the
	// cell centre 0.5 output pixel away) are the brightest, and the far corner stays 0.
	hot := &CAM{W: 4, H: 4, Values: make([]float32, 16)}
	hot.Values[1*4+2] = 1
	up := hot.Upsample(8, 8)
	best, bestAt := float32(-1), 0
	for i, v := range up {
		if v > best {
			best, bestAt = v, i
		}
	}
	if x, y := bestAt%8, bestAt/8; x < 4 || x > 5 || y < 2 || y > 3 {
		t.Fatalf("peak at (%d,%d), want in the hot cell's patch x 4..5, y 2..3", x, y)
	}
	if up[7*8+0] != 0 {
		t.Fatalf("far corner %v, want 0", up[7*8])
	}
}

func TestTurboAndOverlay(t *testing.T) {
	low, mid, high := Turbo(0.1), Turbo(0.5), Turbo(0.9)
	if !(low.B > low.R && low.B > low.G) || !(mid.G > mid.R && mid.G > mid.B) || !(high.R > high.G && high.R > high.B) {
		t.Fatalf("Turbo(0.1, 0.5, 0.9) = %v %v %v: want blue, green, red dominant", low, mid, high)
	}
	face := image.NewRGBA(image.Rect(0, 0, 2, 1))
	copy(face.Pix, []uint8{10, 20, 30, 255, 200, 100, 50, 255})
	heat := []float32{0, 1}
	if got := Overlay(face, heat, 0); string(got.Pix) != string(face.Pix) {
		t.Fatalf("alpha 0 changed the face: %v", got.Pix)
	}
	full := Overlay(face, heat, 1)
	if c := Turbo(1); full.Pix[4] != c.R || full.Pix[5] != c.G || full.Pix[6] != c.B {
		t.Fatalf("alpha 1 gives %v, want the colormap %v", full.Pix[4:8], c)
	}
}

func tinyModel(t *testing.T) *nn.Model {
	t.Helper()
	m, err := nn.New(openCPU(t), nn.Config{Classes: 3, InputSize: 32, WidthDivisor: 16}, 1)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func TestGradCAMRejectsBadInput(t *testing.T) {
	m := tinyModel(t)
	x := tensor.Zeros(1, 3, 32, 32)
	if _, err := GradCAM(m, x, 3); err == nil || !strings.Contains(err.Error(), "3 classes") {
		t.Fatalf("class out of range: %v", err)
	}
	if _, err := GradCAM(m, tensor.Zeros(1, 3, 64, 64), 0); err == nil {
		t.Fatal("a face of the wrong size was accepted")
	}
	cam, err := GradCAM(m, x, 0)
	if err != nil {
		t.Fatal(err)
	}
	if cam.W != 2 || cam.H != 2 || len(cam.Values) != 4 {
		t.Fatalf("CAM of a 32-pixel face is %dx%d, want the 2x2 last block", cam.W, cam.H)
	}
	// TopClass explains the highest logit; the pass's logits and embedding come with it.
	top, err := GradCAM(m, x, TopClass)
	if err != nil {
		t.Fatal(err)
	}
	if len(top.Logits) != 3 || len(top.Embedding) == 0 || top.Logit != top.Logits[top.Class] {
		t.Fatalf("TopClass: class %d, logits %v, %d-wide embedding", top.Class, top.Logits, len(top.Embedding))
	}
	for _, l := range top.Logits {
		if l > top.Logit {
			t.Errorf("TopClass explained class %d (logit %v), but a logit is higher: %v", top.Class, top.Logit, top.Logits)
		}
	}
	for _, v := range cam.Values {
		if v < 0 || v > 1 {
			t.Fatalf("CAM value %v outside [0, 1]", v)
		}
	}
}

func TestTeachingViews(t *testing.T) {
	m := tinyModel(t)
	grid, err := FilterGrid(m, 12)
	if err != nil {
		t.Fatal(err)
	}
	// 4 first-layer filters at 1/16 width: a 2x2 grid of 12-pixel cells with 2-pixel gaps.
	if b := grid.Bounds(); b.Dx() != 2*14+2 || b.Dy() != 2*14+2 {
		t.Fatalf("filter grid is %v", b)
	}
	x := tensor.Zeros(1, 3, 32, 32)
	x.FillNormal(tensor.NewRand(3), 0, 1)
	blocks, err := Activations(m, x)
	if err != nil {
		t.Fatal(err)
	}
	want := []struct {
		c, side int
		layer   string
	}{{4, 32, "cnn.3"}, {8, 16, "cnn.8"}, {16, 8, "cnn.15"}, {32, 4, "cnn.22"}, {32, 2, "cnn.29"}}
	if len(blocks) != len(want) {
		t.Fatalf("%d blocks, want 5", len(blocks))
	}
	if blocks[4].Layer != m.FeaturesLayer() {
		t.Errorf("the last block is %s, the model's feature maps come from %s", blocks[4].Layer, m.FeaturesLayer())
	}
	for i, w := range want {
		bm := blocks[i]
		if bm.Block != i+1 || bm.C != w.c || bm.H != w.side || bm.W != w.side || bm.Layer != w.layer || len(bm.Values) != w.c*w.side*w.side {
			t.Fatalf("block %d: %+v, want %d maps of %d from %s", i+1, bm, w.c, w.side, w.layer)
		}
	}
	// The last block through Activations equals Features after a full forward.
	logits, err := m.Forward(upload(t, m, x))
	if err != nil || logits == nil {
		t.Fatal(err)
	}
	feats := tensor.Zeros(m.Features().Shape()...)
	if err := m.Ctx.Backend.Download(feats, m.Features()); err != nil {
		t.Fatal(err)
	}
	for i, v := range feats.Float32s() {
		if v != blocks[4].Values[i] {
			t.Fatalf("block 5 value %d = %v, Features() = %v", i, blocks[4].Values[i], v)
		}
	}
	g, err := blocks[0].Grid(64)
	if err != nil {
		t.Fatal(err)
	}
	if g.Bounds().Dx() != 2*65+1 {
		t.Fatalf("block 1 grid is %v, want two 64-pixel columns", g.Bounds())
	}
}

func upload(t *testing.T, m *nn.Model, host *tensor.Tensor) *tensor.Tensor {
	t.Helper()
	return toBackend(t, m.Ctx.Backend, host)
}

// With batch norm the blocks end at torchvision's vgg16_bn ReLUs, and Grad-CAM reads the last.
func TestTeachingViewsBatchNorm(t *testing.T) {
	m, err := nn.New(openCPU(t), nn.Config{Arch: nn.ArchVGGDBN, Classes: 3, InputSize: 32, WidthDivisor: 16}, 1)
	if err != nil {
		t.Fatal(err)
	}
	x := tensor.Zeros(1, 3, 32, 32)
	x.FillNormal(tensor.NewRand(3), 0, 1)
	blocks, err := Activations(m, x)
	if err != nil {
		t.Fatal(err)
	}
	var layers []string
	for _, bm := range blocks {
		layers = append(layers, bm.Layer)
	}
	if strings.Join(layers, " ") != "cnn.5 cnn.12 cnn.22 cnn.32 cnn.42" || m.FeaturesLayer() != "cnn.42" {
		t.Errorf("blocks end at %v, features at %s; want cnn.5 cnn.12 cnn.22 cnn.32 cnn.42", layers, m.FeaturesLayer())
	}
	cam, err := GradCAM(m, x, 1)
	if err != nil {
		t.Fatal(err)
	}
	if cam.W != 2 || cam.H != 2 {
		t.Errorf("CAM is %dx%d, want the 2x2 last block", cam.W, cam.H)
	}
}
