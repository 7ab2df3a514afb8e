package vec

// hasAVX2: the amd64 assembly exists; simd.Allowed still checks the CPU and VGG_SIMD.
const hasAVX2 = true

// addAVX2 is Add for n >= 1 elements at dst and src (add_amd64.s).
//
//go:noescape
func addAVX2(dst, src *float32, n int)
