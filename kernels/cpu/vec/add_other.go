//go:build !amd64

package vec

// hasAVX2: no assembly on this architecture.
const hasAVX2 = false

func addAVX2(dst, src *float32, n int) { panic("vec: no AVX2 on this architecture") }

func reluAVX2(dst, src *float32, n int) { panic("vec: no AVX2 on this architecture") }

func reluMaskAVX2(dx, dy, y *float32, n int) { panic("vec: no AVX2 on this architecture") }
