package direct

import "unsafe"

// forwardGo is Forward's plain-Go kernel for goVariant's 4x8 tile: for each input channel and
// tap, every output of the tile gains one product, kept in a local tile of sums.
func forwardGo(outp *float32, outLd int, inp *float32, planeLen, rowStride, channels int, wp, biasp *float32) {
	const rows, cols = 4, 8
	out := unsafe.Slice(outp, (rows-1)*outLd+cols)
	in := unsafe.Slice(inp, (channels-1)*planeLen+cols+2*rowStride+2)
	w := unsafe.Slice(wp, channels*9*rows)
	var sums [rows][cols]float32
	for c := 0; c < channels; c++ {
		for t := 0; t < 9; t++ {
			x := in[c*planeLen+t/3*rowStride+t%3:][:cols]
			f := w[(c*9+t)*rows:][:rows]
			for m := range sums {
				for j := range sums[m] {
					sums[m][j] += f[m] * x[j]
				}
			}
		}
	}
	bias := unsafe.Slice(biasp, rows)
	for m := range sums {
		for j, sum := range sums[m] {
			out[m*outLd+j] = sum + bias[m]
		}
	}
}

// filterGo is Filter's plain-Go kernel for goVariant's 4 filters x 3 taps x 8 lanes.
func filterGo(accp, dyp *float32, dyLd int, xp *float32, n int) {
	const rows, lanes = 4, 8
	acc := unsafe.Slice(accp, rows*3*lanes)
	dy := unsafe.Slice(dyp, (rows-1)*dyLd+n)
	x := unsafe.Slice(xp, n+2)
	for m := 0; m < rows; m++ {
		for kx := 0; kx < 3; kx++ {
			a := acc[(m*3+kx)*lanes:][:lanes]
			for s := 0; s < n; s += lanes {
				for l := range a {
					a[l] += dy[m*dyLd+s+l] * x[s+l+kx]
				}
			}
		}
	}
}

// sumLanesGo is SumLanes for goVariant's 8 lanes.
func sumLanesGo(dstp, srcp *float32, groups int) {
	const lanes = 8
	dst, src := unsafe.Slice(dstp, groups), unsafe.Slice(srcp, groups*lanes)
	for i := range dst {
		var sum float32
		for _, p := range src[i*lanes:][:lanes] {
			sum += p
		}
		dst[i] = sum
	}
}
