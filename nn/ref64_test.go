package nn

import (
	"fmt"
	"math"

	"github.com/vgglab/vgg/kernels"
	"github.com/vgglab/vgg/tensor"
)

// ref64 is a float64 re-implementation of a model's forward pass and loss, in the plainest
// loops, for the gradient check: differences of a float64 function with a tiny step are exact
// to ~1e-9, where float32 ones drown in rounding noise long before the step is small enough to
// stay clear of the ReLU and max-pool kinks. It walks the model's own layer list, so it computes
// whatever network the model is, with the same dropout masks (kernels.DropoutKeep and the
// layer's seed).
type ref64 struct {
	m      *Model
	params map[string][]float64
	// buffers are the batch norms' running statistics, which evaluation mode uses.
	buffers map[string][]float64
}

// newRef64 copies the model's current parameters to float64.
func newRef64(b kernels.Backend, m *Model) (*ref64, error) {
	r := &ref64{m: m, params: map[string][]float64{}, buffers: map[string][]float64{}}
	for _, p := range m.Params() {
		host := tensor.Zeros(p.Shape...)
		if err := b.Download(host, p.Value); err != nil {
			return nil, err
		}
		r.params[p.Name] = toFloat64(host.Float32s())
	}
	for _, buf := range m.Buffers() {
		host := tensor.Zeros(buf.Shape...)
		if err := b.Download(host, buf.Value); err != nil {
			return nil, err
		}
		r.buffers[buf.Name] = toFloat64(host.Float32s())
	}
	return r, nil
}

func toFloat64(v []float32) []float64 {
	out := make([]float64, len(v))
	for i, f := range v {
		out[i] = float64(f)
	}
	return out
}

// loss is the batch-mean cross-entropy of the model on x (NCHW, n images) against labels.
func (r *ref64) loss(x []float64, n int, labels []int32) float64 {
	return r.lossFrom(0, x, r.m.InputShape(n), labels)
}

// lossFrom runs the model from layer number first on, a being that layer's input of the given
// shape, and returns the batch-mean cross-entropy.
func (r *ref64) lossFrom(first int, a []float64, shape tensor.Shape, labels []int32) float64 {
	n := shape[0]
	for _, l := range r.m.Layers()[first:] {
		out, err := l.OutShape(shape)
		if err != nil {
			panic(err)
		}
		switch l := l.(type) {
		case *Conv2D:
			a = conv64(a, r.params[l.Weight.Name], r.params[l.Bias.Name], shape, out)
		case *ReLU:
			a = apply64(a, func(_ int, v float64) float64 { return math.Max(v, 0) })
		case *BatchNorm2D:
			a = batchNorm64(a, shape, r.params[l.Weight.Name], r.params[l.Bias.Name],
				r.buffers[l.RunningMean.Name], r.buffers[l.RunningVar.Name], r.m.Ctx.Training)
		case *MaxPool2D:
			a = maxPool64(a, shape)
		case *Flatten: // NCHW is already C,H,W-major per image
		case *Linear:
			a = linear64(a, r.params[l.Weight.Name], r.params[l.Bias.Name], n, l.In, l.Out)
		case *Dropout:
			if r.m.Ctx.Training {
				seed, scale := l.Seed(r.m.Ctx.Seed, r.m.Ctx.Step), 1/(1-float64(l.P))
				a = apply64(a, func(i int, v float64) float64 {
					if kernels.DropoutKeep(seed, uint64(i), l.P) {
						return v * scale
					}
					return 0
				})
			}
		default:
			panic(fmt.Sprintf("ref64: no reference for %T", l))
		}
		shape = out
	}
	classes := shape[1]
	var total float64
	for i := 0; i < n; i++ {
		row := a[i*classes : (i+1)*classes]
		maxv := math.Inf(-1)
		for _, v := range row {
			maxv = math.Max(maxv, v)
		}
		var sum float64
		for _, v := range row {
			sum += math.Exp(v - maxv)
		}
		total += maxv + math.Log(sum) - row[labels[i]]
	}
	return total / float64(n)
}

func apply64(a []float64, f func(i int, v float64) float64) []float64 {
	out := make([]float64, len(a))
	for i, v := range a {
		out[i] = f(i, v)
	}
	return out
}

// conv64 is a 3x3, stride 1, pad 1 convolution, straight from the definition: every output
// plane starts at its bias and gains weight * (the input plane shifted by the tap's offset).
func conv64(x, w, bias []float64, in, out tensor.Shape) []float64 {
	n, c, h, wd := in[0], in[1], in[2], in[3]
	k := out[1]
	y := make([]float64, out.Numel())
	for b := 0; b < n; b++ {
		for o := 0; o < k; o++ {
			yp := y[(b*k+o)*h*wd : (b*k+o+1)*h*wd]
			for i := range yp {
				yp[i] = bias[o]
			}
			for ci := 0; ci < c; ci++ {
				xp := x[(b*c+ci)*h*wd : (b*c+ci+1)*h*wd]
				for r := 0; r < 3; r++ {
					for q := 0; q < 3; q++ {
						wv := w[((o*c+ci)*3+r)*3+q]
						// Output (i, j) reads input (i+r-1, j+q-1) where that is inside.
						for i := max(0, 1-r); i < min(h, h+1-r); i++ {
							for j := max(0, 1-q); j < min(wd, wd+1-q); j++ {
								yp[i*wd+j] += wv * xp[(i+r-1)*wd+j+q-1]
							}
						}
					}
				}
			}
		}
	}
	return y
}

func maxPool64(x []float64, in tensor.Shape) []float64 {
	n, c, h, w := in[0], in[1], in[2], in[3]
	y := make([]float64, n*c*(h/2)*(w/2))
	for p := 0; p < n*c; p++ {
		for i := 0; i < h/2; i++ {
			for j := 0; j < w/2; j++ {
				at := func(di, dj int) float64 { return x[(p*h+2*i+di)*w+2*j+dj] }
				y[(p*(h/2)+i)*(w/2)+j] = math.Max(math.Max(at(0, 0), at(0, 1)), math.Max(at(1, 0), at(1, 1)))
			}
		}
	}
	return y
}

func linear64(x, w, bias []float64, n, in, out int) []float64 {
	y := make([]float64, n*out)
	for b := 0; b < n; b++ {
		for o := 0; o < out; o++ {
			s := bias[o]
			for i := 0; i < in; i++ {
				s += x[b*in+i] * w[o*in+i]
			}
			y[b*out+o] = s
		}
	}
	return y
}

// batchNorm64 normalises each channel of x [N,C,H,W] with its mean and biased variance over
// the whole batch (training: the batch's samples are coupled, which is why the loss is taken
// over the batch) or with the running statistics (evaluation).
func batchNorm64(x []float64, in tensor.Shape, gamma, beta, runMean, runVar []float64, training bool) []float64 {
	n, c, hw := in[0], in[1], in[2]*in[3]
	y := make([]float64, len(x))
	for ch := 0; ch < c; ch++ {
		mean, variance := runMean[ch], runVar[ch]
		if training {
			var sum, sq float64
			for b := 0; b < n; b++ {
				for _, v := range x[(b*c+ch)*hw : (b*c+ch+1)*hw] {
					sum += v
				}
			}
			mean = sum / float64(n*hw)
			for b := 0; b < n; b++ {
				for _, v := range x[(b*c+ch)*hw : (b*c+ch+1)*hw] {
					sq += (v - mean) * (v - mean)
				}
			}
			variance = sq / float64(n*hw)
		}
		scale := gamma[ch] / math.Sqrt(variance+BatchNormEps)
		for b := 0; b < n; b++ {
			for i := (b*c + ch) * hw; i < (b*c+ch+1)*hw; i++ {
				y[i] = (x[i]-mean)*scale + beta[ch]
			}
		}
	}
	return y
}
