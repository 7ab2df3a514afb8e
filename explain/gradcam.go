// Package explain shows what the network looks at and what it computes: Grad-CAM heatmaps
// (where in the face the evidence for an identity lies), the first layer's filters, and the
// feature maps of every block, as pictures a learner can read.
package explain

import (
	"fmt"
	"math"

	"github.com/vgglab/vgg/nn"
	"github.com/vgglab/vgg/tensor"
)

// CAM is a class activation map: one value per cell of the last convolution block's feature
// maps (8x8 for 128-pixel faces), each cell covering a Size/W x Size/H patch of the face.
type CAM struct {
	W, H int
	// Values are row-major, ReLU'd and scaled so the largest is 1; all zero when nothing in
	// the face speaks for the class.
	Values []float32
	// Class is the classifier output explained and Logit its score for this face.
	Class int
	Logit float32
	// Logits are the classifier's scores for every class and Embedding the face's raw
	// embedding (nn.Model.Embedding), both from the same forward pass: a caller that wants the answer and its
	// heatmap runs the network once.
	Logits, Embedding []float32
}

// TopClass asks GradCAM to explain the class the network scores highest for the face.
const TopClass = -1

// GradCAM computes the Grad-CAM of Selvaraju et al. (2017) for one face x, a host tensor
// [1, 3, S, S] normalised as the model expects, and one class:
//
//  1. forward the face; A = the last convolution's feature maps after its ReLU and before the
//     last max pool (K maps of 8x8 at S=128: the finest maps that have seen the whole face);
//  2. backpropagate the class's logit (before the softmax, so the other classes' scores do not
//     leak in) to A: dy/dA, through the classifier, flatten and the max pool;
//  3. weigh each map by its mean gradient, alpha_k = mean_ij dy/dA_k[i,j]: how much the class
//     score rises when map k brightens everywhere;
//  4. CAM = ReLU(sum_k alpha_k A_k): only what speaks for the class, not against it.
//
// The model runs in evaluation mode (no dropout). The parameters' gradients are overwritten on
// the way, so do not call it between a training step's backward and its update. class may be
// TopClass: the class of the highest logit.
func GradCAM(m *nn.Model, x *tensor.Tensor, class int) (*CAM, error) {
	if class != TopClass && (class < 0 || class >= m.Config.Classes) {
		return nil, fmt.Errorf("gradcam: class %d is out of range: the model has %d classes", class, m.Config.Classes)
	}
	input, err := uploadFace("gradcam", m, x)
	if err != nil {
		return nil, err
	}
	defer input.Release()
	b := m.Ctx.Backend
	logits, err := m.Forward(input)
	if err != nil {
		return nil, err
	}
	hostLogits := tensor.Zeros(logits.Shape()...)
	if err := b.Download(hostLogits, logits); err != nil {
		return nil, err
	}
	features := tensor.Zeros(m.Features().Shape()...)
	if err := b.Download(features, m.Features()); err != nil {
		return nil, err
	}
	embedding := tensor.Zeros(m.Embedding().Shape()...)
	if err := b.Download(embedding, m.Embedding()); err != nil {
		return nil, err
	}
	if class == TopClass {
		class = 0
		for i, v := range hostLogits.Float32s() {
			if v > hostLogits.Float32s()[class] {
				class = i
			}
		}
	}

	// d(logit of class)/d(logits) is the one-hot vector of the class.
	oneHot := tensor.Zeros(logits.Shape()...)
	oneHot.Float32s()[class] = 1
	dlogits, err := b.Alloc(tensor.Float32, oneHot.Shape()...)
	if err != nil {
		return nil, err
	}
	defer dlogits.Release()
	if err := b.Upload(dlogits, oneHot); err != nil {
		return nil, err
	}
	dfeatures, err := m.BackwardToFeatures(dlogits)
	if err != nil {
		return nil, err
	}
	grads := tensor.Zeros(dfeatures.Shape()...)
	if err := b.Download(grads, dfeatures); err != nil {
		return nil, err
	}

	k, h, w := features.Dim(1), features.Dim(2), features.Dim(3)
	cam := &CAM{W: w, H: h, Values: make([]float32, h*w), Class: class, Logit: hostLogits.Float32s()[class],
		Logits: hostLogits.Float32s(), Embedding: embedding.Float32s()}
	a, g := features.Float32s(), grads.Float32s()
	plane := h * w
	sum := make([]float64, plane)
	for c := range k {
		var alpha float64
		for _, v := range g[c*plane : (c+1)*plane] {
			alpha += float64(v)
		}
		alpha /= float64(plane)
		for i, v := range a[c*plane : (c+1)*plane] {
			sum[i] += alpha * float64(v)
		}
	}
	var top float64
	for _, v := range sum {
		top = math.Max(top, v)
	}
	if top > 0 {
		for i, v := range sum {
			cam.Values[i] = float32(math.Max(v, 0) / top)
		}
	}
	return cam, nil
}

// Upsample returns the map at width x height by bilinear interpolation, each cell's value
// sitting at the centre of the patch it covers (as OpenCV's resize and PyTorch's interpolate
// with align_corners=False do), so the heat lands on the face where the network saw it instead
// of shifting by half a cell.
func (c *CAM) Upsample(width, height int) []float32 {
	out := make([]float32, width*height)
	for y := range height {
		sy := (float64(y)+0.5)*float64(c.H)/float64(height) - 0.5
		y0, fy := splitCoordinate(sy, c.H)
		y1 := min(y0+1, c.H-1)
		for x := range width {
			sx := (float64(x)+0.5)*float64(c.W)/float64(width) - 0.5
			x0, fx := splitCoordinate(sx, c.W)
			x1 := min(x0+1, c.W-1)
			top := (1-fx)*float64(c.Values[y0*c.W+x0]) + fx*float64(c.Values[y0*c.W+x1])
			bottom := (1-fx)*float64(c.Values[y1*c.W+x0]) + fx*float64(c.Values[y1*c.W+x1])
			out[y*width+x] = float32((1-fy)*top + fy*bottom)
		}
	}
	return out
}

// splitCoordinate clamps a source coordinate into [0, n-1] and splits it into a cell index and
// the fraction of the way to the next cell.
func splitCoordinate(s float64, n int) (int, float64) {
	s = math.Max(0, math.Min(s, float64(n-1)))
	i := int(s)
	return i, s - float64(i)
}
