package vec

// addAVX2 is Add for n >= 1 elements at dst and src (add_amd64.s).
//
//go:noescape
func addAVX2(dst, src *float32, n int)

// reluAVX2 is ReLU for n >= 1 elements (relu_amd64.s).
//
//go:noescape
func reluAVX2(dst, src *float32, n int)

// reluMaskAVX2 is ReLUMask for n >= 1 elements (relu_amd64.s).
//
//go:noescape
func reluMaskAVX2(dx, dy, y *float32, n int)

// The batch-norm loops of moments.go for n, a positive multiple of 8, elements
// (moments_amd64.s).
//
//go:noescape
func sumAVX2(x *float32, n int) float64

//go:noescape
func sumSqDevAVX2(x *float32, n int, mean float64) float64

//go:noescape
func sumDyDevAVX2(dy, x *float32, n int, mean float64) (sumDy, sumDyDev float64)

//go:noescape
func normaliseAVX2(y, x *float32, n int, mean, scale, shift float64)

// normaliseGradAVX2's c holds mean, invstd, scale, meanDy and meanDyXhat.
//
//go:noescape
func normaliseGradAVX2(dx, dy, x *float32, n int, c *[5]float64)
