package vec

import "math"

// AdamStep holds what one Adam update needs besides the tensors: the hyper-parameters and
// the step's bias corrections 1-β1^t and 1-β2^t (see kernels.AdamConfig).
type AdamStep struct {
	LR, WeightDecay, Beta1, Beta2, Eps float32
	Corr1, Corr2                       float32
	// Decoupled applies the weight decay to the parameters (AdamW), not to the gradient.
	Decoupled bool
}

// Adam updates the parameters p and the moments m and v from the gradient g, element by
// element, as torch.optim.Adam (or AdamW) does:
//
//	p -= lr·wd·p (decoupled)  or  g += wd·p
//	m = β1·m + (1-β1)·g;  v = β2·v + (1-β2)·g·g
//	p -= lr·(m/corr1) / (sqrt(v/corr2) + eps)
//
// g, m and v are at least as long as p.
//
// Cost: 4 loads, 3 stores, a division pair and a square root per element. The AVX2 version
// runs 8 elements at a time with the same operations in the same order (no fused
// multiply-adds; VSQRTPS rounds as float32(math.Sqrt) does), then one at a time.
func Adam(p, g, m, v []float32, s AdamStep) {
	n := len(p)
	g, m, v = g[:n], m[:n], v[:n]
	done := 0
	if useAVX2 && n >= 8 {
		done = n &^ 7
		c := [9]float32{s.LR * s.WeightDecay, s.WeightDecay, s.Beta1, 1 - s.Beta1, s.Beta2, 1 - s.Beta2, s.Corr1, s.Corr2, s.LR}
		adamAVX2(&p[0], &g[0], &m[0], &v[0], done, &c, s.Eps, s.Decoupled)
	}
	adamGo(p[done:], g[done:], m[done:], v[done:], s)
}

// adamGo is Adam in plain Go, the reference and fallback.
func adamGo(p, g, m, v []float32, s AdamStep) {
	g, m, v = g[:len(p)], m[:len(p)], v[:len(p)]
	for i := range p {
		gi := g[i]
		if s.Decoupled {
			p[i] -= s.LR * s.WeightDecay * p[i]
		} else {
			gi += s.WeightDecay * p[i]
		}
		mi := s.Beta1*m[i] + (1-s.Beta1)*gi
		vi := s.Beta2*v[i] + (1-s.Beta2)*gi*gi
		m[i], v[i] = mi, vi
		p[i] -= s.LR * (mi / s.Corr1) / (sqrt32(vi/s.Corr2) + s.Eps)
	}
}

// sqrt32 is the float32 square root, correctly rounded (as VSQRTPS).
func sqrt32(x float32) float32 { return float32(math.Sqrt(float64(x))) }
