package vec

// hasAVX2: the amd64 assembly exists; simd.Allowed still checks the CPU and VGG_SIMD.
const hasAVX2 = true

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
