package vec

// MaxPoolRows computes one row of 2x2 max-pooling windows: for j < len(out), the window of
// top[2j], top[2j+1], bottom[2j], bottom[2j+1] (in that order) sets out[j] to its first
// maximum by a strict > (so ties go to the earlier element, and a NaN never wins over the
// first element) and arg[j] to that element's offset in its plane: at+2j, at+2j+1,
// at+width+2j or at+width+2j+1. top and bottom hold at least 2·len(out) elements.
//
// Cost: 4 loads, 3 compares and 2 stores per window. The AVX2 version takes 8 windows at a
// time: it splits each row's 16 values into even and odd columns (VSHUFPS, VPERMPD), keeps
// the odd one where it is greater (VCMPPS, VBLENDVPS) and the bottom row's winner where it
// is greater than the top's, carrying the offsets along in integer lanes; then one at a time.
func MaxPoolRows(out []float32, arg []int32, top, bottom []float32, at, width int) {
	n := len(out)
	arg, top, bottom = arg[:n], top[:2*n], bottom[:2*n]
	done := 0
	if useAVX2 && n >= 8 {
		done = n &^ 7
		maxPoolRowsAVX2(&out[0], &arg[0], &top[0], &bottom[0], done, int32(at), int32(width))
	}
	maxPoolRowsGo(out[done:], arg[done:], top[2*done:], bottom[2*done:], at+2*done, width)
}

// maxPoolRowsGo is MaxPoolRows in plain Go, the reference and fallback.
func maxPoolRowsGo(out []float32, arg []int32, top, bottom []float32, at, width int) {
	for j := range out {
		best, where := top[2*j], at+2*j
		if v := top[2*j+1]; v > best {
			best, where = v, at+2*j+1
		}
		if v := bottom[2*j]; v > best {
			best, where = v, at+width+2*j
		}
		if v := bottom[2*j+1]; v > best {
			best, where = v, at+width+2*j+1
		}
		out[j], arg[j] = best, int32(where)
	}
}
