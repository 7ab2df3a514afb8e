package sgemm

// kernelGo6x16 is the portable micro-kernel: the 6x16 tile C = beta·C + A·B from packed
// panels (A k x 6 at a[p*6+i], B k x 16 at b[p*16+j]), summing each element over p in
// order. The tile is accumulated in a local array (the Go compiler keeps it on the stack,
// not in registers), so it costs about 3 memory operations per multiply-add; it is the
// reference the assembly kernels are tested against and the fallback on other machines.
func kernelGo6x16(k int, a, b, c []float32, ldc int, beta float32) {
	const mr, nr = 6, 16
	var acc [mr * nr]float32
	for p := 0; p < k; p++ {
		bp := b[p*nr : p*nr+nr]
		for i, ai := range a[p*mr : p*mr+mr] {
			row := acc[i*nr : i*nr+nr]
			for j, bj := range bp {
				row[j] += ai * bj
			}
		}
	}
	storeTile(acc[:], nr, mr, nr, c, ldc, beta)
}
