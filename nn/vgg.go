package nn

import (
	"fmt"
	"math"

	"github.com/vgglab/vgg/kernels"
	"github.com/vgglab/vgg/tensor"
)

// Config chooses the architecture and size of a VGG-D network.
type Config struct {
	// Arch is ArchVGGD (the seed's network; empty means it) or ArchVGGDBN (a batch
	// normalisation after every convolution, as torchvision's vgg16_bn).
	Arch string
	// Classes is the number of identities the classifier tells apart.
	Classes int
	// InputSize is the side of the square RGB input; a multiple of 32 (five 2x2 poolings).
	// Zero means 128.
	InputSize int
	// WidthDivisor divides every conv channel count and the 4096/2048 classifier widths: 1 is
	// the paper's network, 16 a toy that tests and CPU demos can afford. Zero means 1.
	WidthDivisor int
	// LinearInit is how Init draws the fully connected weights (the biases start at zero):
	// LinearInitNormal (empty means it), N(0, 0.01²) as torchvision's VGG; or
	// LinearInitKaiming, kaiming_normal_(mode="fan_in", nonlinearity="relu"), that is
	// N(0, 2/in), which keeps the activations' scale through ReLUs whatever the width.
	LinearInit string
}

// The architectures.
const (
	ArchVGGD   = "vgg-d"
	ArchVGGDBN = "vgg-d-bn"
)

// Archs lists the architectures, the default first.
var Archs = []string{ArchVGGD, ArchVGGDBN}

// The initialisations of the linear layers.
const (
	LinearInitNormal  = "normal0.01"
	LinearInitKaiming = "kaiming"
)

// DefaultInputSize is the side of the aligned face crops the seed trained on.
const DefaultInputSize = 128

// InputChannels is 3: RGB.
const InputChannels = 3

// withDefaults fills the zero fields and rejects impossible sizes.
func (c Config) withDefaults() (Config, error) {
	if c.InputSize == 0 {
		c.InputSize = DefaultInputSize
	}
	if c.WidthDivisor == 0 {
		c.WidthDivisor = 1
	}
	if c.Arch == "" {
		c.Arch = ArchVGGD
	}
	if c.LinearInit == "" {
		c.LinearInit = LinearInitNormal
	}
	switch {
	case c.Arch != ArchVGGD && c.Arch != ArchVGGDBN:
		return c, fmt.Errorf("architecture %q is unknown; use %s or %s", c.Arch, ArchVGGD, ArchVGGDBN)
	case c.LinearInit != LinearInitNormal && c.LinearInit != LinearInitKaiming:
		return c, fmt.Errorf("linear init %q is unknown; use %s or %s", c.LinearInit, LinearInitNormal, LinearInitKaiming)
	case c.Classes < 2:
		return c, fmt.Errorf("%d classes; a classifier needs at least 2", c.Classes)
	case c.InputSize < 32 || c.InputSize%32 != 0:
		return c, fmt.Errorf("input size %d is not a positive multiple of 32", c.InputSize)
	}
	switch c.WidthDivisor {
	case 1, 2, 4, 8, 16:
	default:
		return c, fmt.Errorf("width divisor %d is not one of 1, 2, 4, 8, 16", c.WidthDivisor)
	}
	return c, nil
}

// convPlan is configuration D of Simonyan & Zisserman (2015), table 1: the output channels of
// each 3x3 convolution, 0 marking a 2x2 max pool.
var convPlan = []int{64, 64, 0, 128, 128, 0, 256, 256, 256, 0, 512, 512, 512, 0, 512, 512, 512, 0}

// Widths of the two hidden fully connected layers.
const (
	fc1Width = 4096
	fc2Width = 2048
)

// Model is the VGG-D network: cnn (13 convolutions with ReLU, 5 max pools; with ArchVGGDBN a
// batch norm between each convolution and its ReLU), flatten, and fc (three linear layers,
// ReLU and dropout between them). Layer names are the indices of the seed's PyTorch
// nn.Sequential modules (torchvision's vgg16_bn features for ArchVGGDBN), so parameter and
// buffer names match its state_dict.
type Model struct {
	Config  Config
	Ctx     *Context
	CNN     *Sequential
	Flatten *Flatten
	FC      *Sequential

	// EmbeddingLayer is where Embedding is taken: EmbeddingFeatures or EmbeddingFC4 (""
	// means EmbeddingFC4, a checkpoint's from before it was recorded). VGGD sets
	// EmbeddingFeatures, LoadModel what the checkpoint says (ModelInfo.EmbeddingLayer).
	EmbeddingLayer string

	// The layers whose outputs are the model's by-products: the last convolution's ReLU
	// (Grad-CAM's feature maps) and fc.4's ReLU (the fc.4 embedding).
	lastConvReLU, embeddingReLU *ReLU
	features, flat, embedding   *tensor.Tensor
	// batchNorms are the cnn's batch norms, in order (none for ArchVGGD).
	batchNorms []*BatchNorm2D
}

// VGGD builds the network for a configuration, without memory: parameters have names and shapes
// but no values until Init (random) or LoadModel (a checkpoint) gives them some. That is enough
// for the summary's shapes, parameter counts and FLOPs.
func VGGD(cfg Config) (*Model, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	ctx := &Context{}
	// A new network embeds at its features; LoadModel sets what a checkpoint says.
	m := &Model{Config: cfg, Ctx: ctx, CNN: &Sequential{}, FC: &Sequential{}, EmbeddingLayer: EmbeddingFeatures}
	in, size := InputChannels, cfg.InputSize
	for _, out := range convPlan {
		name := fmt.Sprintf("cnn.%d", len(m.CNN.Layers))
		if out == 0 {
			m.CNN.Layers = append(m.CNN.Layers, NewMaxPool2D(ctx, name))
			size /= 2
			continue
		}
		out /= cfg.WidthDivisor
		m.CNN.Layers = append(m.CNN.Layers, NewConv2D(ctx, name, in, out))
		if cfg.Arch == ArchVGGDBN {
			bn := NewBatchNorm2D(ctx, fmt.Sprintf("cnn.%d", len(m.CNN.Layers)), out)
			m.CNN.Layers = append(m.CNN.Layers, bn)
			m.batchNorms = append(m.batchNorms, bn)
		}
		relu := NewReLU(ctx, fmt.Sprintf("cnn.%d", len(m.CNN.Layers)))
		m.CNN.Layers = append(m.CNN.Layers, relu)
		m.lastConvReLU = relu
		in = out
	}
	m.Flatten = NewFlatten("flatten")
	hidden1, hidden2 := fc1Width/cfg.WidthDivisor, fc2Width/cfg.WidthDivisor
	m.embeddingReLU = NewReLU(ctx, "fc.4")
	linear := func(name string, in, out int) *Linear {
		l := NewLinear(ctx, name, in, out)
		if cfg.LinearInit == LinearInitKaiming {
			l.Weight.init = normalInit(math.Sqrt(2 / float64(in)))
		}
		return l
	}
	m.FC.Layers = []Layer{
		linear("fc.0", in*size*size, hidden1),
		NewReLU(ctx, "fc.1"),
		NewDropout(ctx, "fc.2", 0.5),
		linear("fc.3", hidden1, hidden2),
		m.embeddingReLU,
		NewDropout(ctx, "fc.5", 0.5),
		linear("fc.6", hidden2, cfg.Classes),
	}
	return m, nil
}

// New builds a VGG-D on a backend with freshly initialised weights: the same seed gives the
// same weights on every backend. The seed also becomes the run seed of the dropout masks.
func New(b kernels.Backend, cfg Config, seed uint64) (*Model, error) {
	m, err := VGGD(cfg)
	if err != nil {
		return nil, err
	}
	if err := m.Init(b, seed); err != nil {
		m.Release()
		return nil, err
	}
	return m, nil
}

// Layers lists every layer in execution order: cnn, flatten, fc.
func (m *Model) Layers() []Layer {
	ls := append([]Layer(nil), m.CNN.Layers...)
	ls = append(ls, m.Flatten)
	return append(ls, m.FC.Layers...)
}

// Params lists the learnable tensors in state_dict order.
func (m *Model) Params() []*Param {
	return append(m.CNN.Params(), m.FC.Params()...)
}

// Buffers lists the tensors that are state but not learnt (the batch norms' running
// statistics), in state_dict order.
func (m *Model) Buffers() []*Buffer {
	var bs []*Buffer
	for _, bn := range m.batchNorms {
		bs = append(bs, bn.Buffers()...)
	}
	return bs
}

// NumParams is the number of learnable scalars.
func (m *Model) NumParams() int64 {
	var n int64
	for _, p := range m.Params() {
		n += int64(p.Shape.Numel())
	}
	return n
}

// InputShape is the shape of a batch of n images.
func (m *Model) InputShape(n int) tensor.Shape {
	return tensor.Shape{n, InputChannels, m.Config.InputSize, m.Config.InputSize}
}

// FLOPs is the forward cost of one image (see Layer.FLOPs for what is counted).
func (m *Model) FLOPs() int64 {
	var total int64
	shape := m.InputShape(1)
	for _, l := range m.Layers() {
		total += l.FLOPs(shape)
		shape, _ = l.OutShape(shape) // VGGD built the layers to fit; the error cannot happen
	}
	return total
}

// Init allocates the parameters and their gradients on b and draws the initial weights from a
// generator seeded with seed, parameter after parameter in state_dict order. Batch norm's
// parameters and buffers are constants and draw nothing, so a convolution's weights are the
// same for a seed with or without batch norm.
func (m *Model) Init(b kernels.Backend, seed uint64) error {
	m.Ctx.Backend = b
	if err := InitParams(b, m.Params(), seed); err != nil {
		return err
	}
	if err := m.allocBuffers(b); err != nil {
		return err
	}
	m.Ctx.Seed = seed
	return nil
}

// allocParams gives every parameter a value and a zeroed gradient on b, and every buffer its
// initial value.
func (m *Model) allocParams(b kernels.Backend) error {
	m.Ctx.Backend = b
	if err := allocParamValues(b, m.Params()); err != nil {
		return err
	}
	return m.allocBuffers(b)
}

// allocBuffers gives every buffer its initial value on b.
func (m *Model) allocBuffers(b kernels.Backend) error {
	for _, buf := range m.Buffers() {
		var err error
		if buf.Value, err = b.Alloc(tensor.Float32, buf.Shape...); err != nil {
			return fmt.Errorf("alloc %s: %w", buf.Name, err)
		}
		if err := b.Fill(buf.Value, buf.Initial); err != nil {
			return fmt.Errorf("init %s: %w", buf.Name, err)
		}
	}
	for _, bn := range m.batchNorms {
		bn.NumBatchesTracked = 0
	}
	return nil
}

// SetTraining switches dropout and batch statistics on (training) or off (evaluation,
// inference: no dropout, batch norm with the running statistics).
func (m *Model) SetTraining(on bool) { m.Ctx.Training = on }

// Forward runs a batch x [N, 3, S, S] on the model's backend and returns the logits [N, Classes].
func (m *Model) Forward(x *tensor.Tensor) (*tensor.Tensor, error) {
	if m.Ctx.Backend == nil {
		return nil, fmt.Errorf("model: forward before the weights were initialised or loaded")
	}
	if err := tensor.Check("model", "input", x, -1, InputChannels, m.Config.InputSize, m.Config.InputSize); err != nil {
		return nil, err
	}
	if err := tensor.CheckDType("model", "input", x, tensor.Float32); err != nil {
		return nil, err
	}
	features, err := m.CNN.Forward(x)
	if err != nil {
		return nil, err
	}
	flat, err := m.Flatten.Forward(features)
	if err != nil {
		return nil, err
	}
	m.features, m.flat = m.lastConvReLU.y, flat
	logits, err := m.FC.Forward(flat)
	if err != nil {
		return nil, err
	}
	m.embedding = m.embeddingReLU.y
	return logits, nil
}

// Backward backpropagates the gradient of the loss with respect to the logits through the whole
// network, writing every parameter's Grad, and returns the gradient with respect to the input.
func (m *Model) Backward(dlogits *tensor.Tensor) (*tensor.Tensor, error) {
	return m.backward(dlogits, true)
}

// BackwardParams is Backward for training: it writes every parameter's gradient but not the
// gradient with respect to the images, which nothing uses there, so the first convolution
// computes its filter gradient only (as PyTorch does for inputs that need no gradient).
func (m *Model) BackwardParams(dlogits *tensor.Tensor) error {
	_, err := m.backward(dlogits, false)
	return err
}

func (m *Model) backward(dlogits *tensor.Tensor, wantInput bool) (*tensor.Tensor, error) {
	d, err := m.BackwardToFeatures(dlogits)
	if err != nil {
		return nil, err
	}
	// The last ReLU and everything before it remain.
	cnn := m.CNN.Layers
	for i := len(cnn) - 2; i >= 0; i-- {
		if first, ok := cnn[i].(*Conv2D); ok && i == 0 && !wantInput {
			return nil, first.BackwardParams(d)
		}
		if d, err = cnn[i].Backward(d); err != nil {
			return nil, err
		}
	}
	return d, nil
}

// BackwardToFeatures backpropagates dlogits through fc, flatten and the last max pool only, and
// returns the gradient with respect to Features(): what Grad-CAM weighs the feature maps by. It
// writes the gradients of the fc parameters on the way.
func (m *Model) BackwardToFeatures(dlogits *tensor.Tensor) (*tensor.Tensor, error) {
	if m.features == nil {
		return nil, fmt.Errorf("model: backward before forward")
	}
	d, err := m.FC.Backward(dlogits)
	if err != nil {
		return nil, err
	}
	if d, err = m.Flatten.Backward(d); err != nil {
		return nil, err
	}
	lastPool := m.CNN.Layers[len(m.CNN.Layers)-1]
	return lastPool.Backward(d)
}

// Features returns the last convolution's feature maps after its ReLU, [N, 512/width, S/16,
// S/16] (8x8 for 128-pixel faces), from the last Forward: the layer Grad-CAM looks at, the
// finest one that has seen the whole face.
func (m *Model) Features() *tensor.Tensor { return m.features }

// FeaturesLayer names the layer whose output Features returns: the last convolution's ReLU,
// "cnn.29" in vgg-d and "cnn.42" in vgg-d-bn.
func (m *Model) FeaturesLayer() string { return m.lastConvReLU.Name() }

// The layers an embedding may be taken at (Model.EmbeddingLayer, ModelInfo.EmbeddingLayer).
const (
	// EmbeddingFeatures is the last max pool's output, flattened: what the fully connected
	// layers read, 512/width x (InputSize/32)^2 values (256 for the README's small network,
	// 8,192 for the full one at 128 pixels). It tells apart people the model never trained on
	// better than fc.4 (measured: 22.5% -> 29.8%, 47.6% -> 61.2% and 36.7% -> 50.5% top-1 in
	// three enrolments, notes/recipe.md), as the fully connected layers learn the training
	// identities. New models use it.
	EmbeddingFeatures = "features"
	// EmbeddingFC4 is the activation after fc.4's ReLU, before dropout and the classifier,
	// 2048/width values: the embedding of models from before EmbeddingFeatures.
	EmbeddingFC4 = "fc.4"
)

// Embedding returns the face descriptor for nearest-neighbour search from the last Forward, at
// EmbeddingLayer: [N, EmbeddingWidth()].
func (m *Model) Embedding() *tensor.Tensor {
	if m.EmbeddingLayer == EmbeddingFeatures {
		return m.flat
	}
	return m.embedding
}

// EmbeddingWidth is the length of Embedding: the input width of fc.0 for the features, the
// width of fc.3, whose output fc.4's ReLU passes on, for fc.4.
func (m *Model) EmbeddingWidth() int {
	if m.EmbeddingLayer == EmbeddingFeatures {
		return m.FC.Layers[0].(*Linear).In
	}
	return m.FC.Layers[3].(*Linear).Out
}

// Release hands all activation buffers and parameters back to the backend.
func (m *Model) Release() {
	m.CNN.Release()
	m.Flatten.Release()
	m.FC.Release()
	for _, p := range m.Params() {
		release(&p.Value)
		release(&p.Grad)
	}
	for _, buf := range m.Buffers() {
		release(&buf.Value)
	}
	m.features, m.flat, m.embedding = nil, nil, nil
}
