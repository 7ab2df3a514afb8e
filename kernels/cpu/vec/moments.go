package vec

// Batch normalisation's loops: sums in float64 over float32 data, and the per-element
// normalisation computed in float64. The sums are taken in eight interleaved lanes (element i
// goes to lane i mod 8 of its block of 8), the lanes combined as ((l0+l4)+(l2+l6)) +
// ((l1+l5)+(l3+l7)), and the elements past the last whole block added one by one: the AVX2
// versions hold the lanes in two YMM registers of four float64, and the plain-Go twins follow
// the same order, so both give bit-identical results. Each element's own arithmetic is the
// expression its doc gives, evaluated in float64 without fused multiply-adds.

// Sum returns Σ x in float64.
func Sum(x []float32) float64 {
	n8 := len(x) &^ 7
	var s float64
	if useAVX2 && n8 > 0 {
		s = sumAVX2(&x[0], n8)
	} else {
		var lanes [8]float64
		for i := 0; i < n8; i += 8 {
			for j := range lanes {
				lanes[j] += float64(x[i+j])
			}
		}
		s = combine(&lanes)
	}
	for _, v := range x[n8:] {
		s += float64(v)
	}
	return s
}

// SumSqDev returns Σ (x − mean)² in float64.
func SumSqDev(x []float32, mean float64) float64 {
	n8 := len(x) &^ 7
	var s float64
	if useAVX2 && n8 > 0 {
		s = sumSqDevAVX2(&x[0], n8, mean)
	} else {
		var lanes [8]float64
		for i := 0; i < n8; i += 8 {
			for j := range lanes {
				d := float64(x[i+j]) - mean
				lanes[j] += d * d
			}
		}
		s = combine(&lanes)
	}
	for _, v := range x[n8:] {
		d := float64(v) - mean
		s += d * d
	}
	return s
}

// SumDyDev returns Σ dy and Σ dy·(x − mean) in float64; x must be at least as long as dy.
func SumDyDev(dy, x []float32, mean float64) (sumDy, sumDyDev float64) {
	x = x[:len(dy)]
	n8 := len(dy) &^ 7
	if useAVX2 && n8 > 0 {
		sumDy, sumDyDev = sumDyDevAVX2(&dy[0], &x[0], n8, mean)
	} else {
		var a, b [8]float64
		for i := 0; i < n8; i += 8 {
			for j := range a {
				g := float64(dy[i+j])
				a[j] += g
				b[j] += g * (float64(x[i+j]) - mean)
			}
		}
		sumDy, sumDyDev = combine(&a), combine(&b)
	}
	for i := n8; i < len(dy); i++ {
		g := float64(dy[i])
		sumDy += g
		sumDyDev += g * (float64(x[i]) - mean)
	}
	return sumDy, sumDyDev
}

// combine adds the eight lanes in the fixed order the assembly uses.
func combine(l *[8]float64) float64 {
	return ((l[0] + l[4]) + (l[2] + l[6])) + ((l[1] + l[5]) + (l[3] + l[7]))
}

// Normalise sets y = float32((x − mean)·scale + shift) for every element of y; x must be at
// least as long. y may be x.
func Normalise(y, x []float32, mean, scale, shift float64) {
	x = x[:len(y)]
	n8 := len(y) &^ 7
	if useAVX2 && n8 > 0 {
		normaliseAVX2(&y[0], &x[0], n8, mean, scale, shift)
	} else {
		n8 = 0
	}
	for i := n8; i < len(y); i++ {
		y[i] = float32((float64(x[i])-mean)*scale + shift)
	}
}

// NormaliseGrad sets dx = float32(scale·(dy − meanDy − ((x − mean)·invstd)·meanDyXhat)) for
// every element of dx, batch normalisation's input gradient; dy and x must be at least as
// long. dx may be dy.
func NormaliseGrad(dx, dy, x []float32, mean, invstd, scale, meanDy, meanDyXhat float64) {
	dy, x = dy[:len(dx)], x[:len(dx)]
	n8 := len(dx) &^ 7
	if useAVX2 && n8 > 0 {
		normaliseGradAVX2(&dx[0], &dy[0], &x[0], n8, &[5]float64{mean, invstd, scale, meanDy, meanDyXhat})
	} else {
		n8 = 0
	}
	for i := n8; i < len(dx); i++ {
		xhat := (float64(x[i]) - mean) * invstd
		dx[i] = float32(scale * (float64(dy[i]) - meanDy - xhat*meanDyXhat))
	}
}
