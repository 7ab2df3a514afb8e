//go:build !amd64

package winograd

func dataAVX2(v *float32, stride int, s *float32, lanes int) { panic("winograd: no AVX2 here") }

func resultAVX2(o *float32, m *float32, stride int, lanes int, bias float32) {
	panic("winograd: no AVX2 here")
}

func gatherAVX2(s *float32, plane *float32, offsets *int32, rowStride int, lanes int) {
	panic("winograd: no AVX2 here")
}

func scatterAVX2(out *float32, o *float32, offsets *int32, width int, groups int) {
	panic("winograd: no AVX2 here")
}

func rowAVX2(s *float32, x *float32, rowStride int) { panic("winograd: no AVX2 here") }

func gradAVX2(v *float32, stride int, s *float32, lanes int) { panic("winograd: no AVX2 here") }

func tileRowAVX2(s *float32, x *float32, rowStride int) { panic("winograd: no AVX2 here") }
