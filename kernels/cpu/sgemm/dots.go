package sgemm

import (
	"fmt"

	"github.com/vgglab/vgg/kernels/cpu/simd"
)

// Dots computes C = beta·C + A·Bᵀ for row-major A (m x k) and B (n x k) as m·n dot products
// of rows, C[i][j] = Σ_p A[i][p]·B[j][p], on up to workers goroutines (each C element is
// one goroutine's, summed in the same order whatever their number). beta == 0 overwrites C
// without reading it.
//
// It suits products whose k is long and whose operands both lie along k, such as a
// convolution's weight gradient (k = the pixels): Sgemm would first transpose B into its
// panels, which for a few rows of A costs more than the multiply-adds. Here nothing is
// packed; with AVX2 a 4x3 tile of C is computed at a time, 4 rows of A against 3 of B, 8
// values of k per step in 12 YMM accumulators (7 loads feed 12 fused multiply-adds),
// summed across lanes at the end. Edge tiles and the plain-Go level run a scalar loop.
func Dots(workers, m, n, k int, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	if m < 0 || n < 0 || k < 0 {
		panic(fmt.Sprintf("sgemm: Dots: negative size m=%d n=%d k=%d", m, n, k))
	}
	checkMatrix("A", m, k, a, lda)
	checkMatrix("B", n, k, b, ldb)
	checkMatrix("C", m, n, c, ldc)
	blocks := ceilDiv(m, dotRows)
	parallelRange(blocks, workers, func(lo, hi int) {
		for i := lo * dotRows; i < min(hi*dotRows, m); i += dotRows {
			for j := 0; j < n; j += dotCols {
				dotTile(i, j, min(dotRows, m-i), min(dotCols, n-j), k, a, lda, b, ldb, beta, c, ldc)
			}
		}
	})
}

// hasDotKernel says whether Dots' tile kernel runs here (simd allows AVX2 only on amd64,
// where the kernel exists); tests flip it to run the scalar loop too.
var hasDotKernel = simd.Allowed(simd.AVX2)

// HasDotKernel reports whether Dots runs an assembly kernel here; without one it is a
// scalar loop, slower than Sgemm.
func HasDotKernel() bool { return hasDotKernel }

// dotRows x dotCols is the tile of C one dot-product kernel call computes.
const dotRows, dotCols = 4, 3

// dotTile computes the rows x cols tile of C at (i, j): the kernel sums the first multiple of
// 8 values of k of a whole tile, a scalar loop the rest and the edge tiles. Each tile streams
// its rows of A and B once; their reuse across tiles comes from the L2 cache.
func dotTile(i, j, rows, cols, k int, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	var sums [dotRows * dotCols]float32
	done := 0 // the first done values of k are summed by the kernel
	if rows == dotRows && cols == dotCols && k >= 8 && hasDotKernel {
		done = k &^ 7
		_, _ = a[(i+rows-1)*lda+done-1], b[(j+cols-1)*ldb+done-1]
		dotKernel(done, &a[i*lda], lda, &b[j*ldb], ldb, &sums[0])
	}
	if done < k {
		for ii := 0; ii < rows; ii++ {
			ra := a[(i+ii)*lda:][:k]
			for jj := 0; jj < cols; jj++ {
				rb := b[(j+jj)*ldb:][:k]
				s := sums[ii*dotCols+jj]
				for p := done; p < k; p++ {
					s += ra[p] * rb[p]
				}
				sums[ii*dotCols+jj] = s
			}
		}
	}
	for ii := 0; ii < rows; ii++ {
		row := c[(i+ii)*ldc+j:][:cols]
		for jj := range row {
			if beta == 0 {
				row[jj] = sums[ii*dotCols+jj]
			} else {
				row[jj] = beta*row[jj] + sums[ii*dotCols+jj]
			}
		}
	}
}

// parallelRange runs body over [0, n) split into at most workers contiguous ranges, one
// goroutine each (the caller's included).
func parallelRange(n, workers int, body func(lo, hi int)) {
	workers = max(1, min(workers, n))
	done := make(chan struct{}, workers-1)
	for w := 1; w < workers; w++ {
		go func() {
			body(w*n/workers, (w+1)*n/workers)
			done <- struct{}{}
		}()
	}
	body(0, n/workers)
	for w := 1; w < workers; w++ {
		<-done
	}
}
