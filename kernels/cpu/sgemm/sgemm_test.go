package sgemm

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"gonum.org/v1/gonum/blas"
)

// refGemm is C = alpha·op(A)·op(B) + beta·C by the definition, in float64, returning the
// result and, per element, sum_p |op(A)(i,p)|·|op(B)(p,j)| for the error bound.
func refGemm(tA, tB blas.Transpose, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) (want, mag []float64) {
	want, mag = make([]float64, m*n), make([]float64, m*n)
	for i := 0; i < m; i++ {
		for j := 0; j < n; j++ {
			var sum, abs float64
			for p := 0; p < k; p++ {
				var x, y float32
				if tA == blas.NoTrans {
					x = a[i*lda+p]
				} else {
					x = a[p*lda+i]
				}
				if tB == blas.NoTrans {
					y = b[p*ldb+j]
				} else {
					y = b[j*ldb+p]
				}
				sum += float64(x) * float64(y)
				abs += math.Abs(float64(x) * float64(y))
			}
			v := float64(alpha) * sum
			if beta != 0 {
				v += float64(beta) * float64(c[i*ldc+j])
				abs = math.Abs(float64(alpha))*abs + math.Abs(float64(beta)*float64(c[i*ldc+j]))
			} else {
				abs *= math.Abs(float64(alpha))
			}
			want[i*n+j], mag[i*n+j] = v, abs
		}
	}
	return want, mag
}

func randSlice(rng *rand.Rand, n int) []float32 {
	s := make([]float32, n)
	for i := range s {
		s[i] = float32(rng.NormFloat64())
	}
	return s
}

// storage is the shape a matrix op(X) of rows x cols is stored in.
func storage(t blas.Transpose, rows, cols int) (int, int) {
	if t == blas.NoTrans {
		return rows, cols
	}
	return cols, rows
}

var transposes = []blas.Transpose{blas.NoTrans, blas.Trans}

// TestSgemm compares every variant with the float64 reference over transposes, odd and
// edge-straddling sizes, padded leading dimensions, alphas and betas. C is poisoned with NaN
// when beta == 0 (it must be overwritten), and the padding beyond each row of C must stay
// as it was.
func TestSgemm(t *testing.T) {
	sizes := [][3]int{ // m, n, k
		{1, 1, 1}, {3, 5, 7}, {5, 17, 1}, {7, 3, 13}, {6, 16, 4}, {13, 31, 17},
		{17, 13, 67}, {31, 67, 5}, {67, 129, 31}, {129, 7, 257}, {257, 17, 129},
		{3, 257, 300}, {145, 33, 513}, {150, 4100, 3},
	}
	if testing.Short() {
		sizes = sizes[:10]
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for _, v := range Variants() {
		for _, sz := range sizes {
			m, n, k := sz[0], sz[1], sz[2]
			for _, tA := range transposes {
				for _, tB := range transposes {
					for _, alpha := range []float32{1, 0.5, -2} {
						for _, beta := range []float32{0, 1, 0.3} {
							name := fmt.Sprintf("%s/%dx%dx%d/%c%c/alpha=%g/beta=%g", v.Name, m, n, k, tA, tB, alpha, beta)
							checkOne(t, name, v.Sgemm, rng, tA, tB, m, n, k, alpha, beta)
						}
					}
				}
			}
		}
	}
}

// TestSgemmPackedB checks SgemmPackedB, B handed over as a function that packs its panels,
// as TestSgemm checks Sgemm.
func TestSgemmPackedB(t *testing.T) {
	sizes := [][3]int{{1, 1, 1}, {3, 5, 7}, {13, 31, 17}, {31, 67, 5}, {67, 129, 31}, {129, 7, 257}, {3, 257, 300}, {150, 4100, 3}}
	rng := rand.New(rand.NewPCG(3, 4))
	for _, v := range Variants() {
		for _, sz := range sizes {
			m, n, k := sz[0], sz[1], sz[2]
			for _, tA := range transposes {
				for _, tB := range transposes {
					for _, beta := range []float32{0, 0.3} {
						name := fmt.Sprintf("%s/%dx%dx%d/%c%c/beta=%g", v.Name, m, n, k, tA, tB, beta)
						checkOne(t, name, packedB(v, tB), rng, tA, tB, m, n, k, 0.5, beta)
					}
				}
			}
		}
	}
}

// packedB calls v.SgemmPackedB on two goroutines with a PackB that reads op(B) element by
// element, in Sgemm's signature.
func packedB(v *Variant, tB blas.Transpose) func(tA, _ blas.Transpose, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	return func(tA, _ blas.Transpose, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
		opB := func(p, j int) float32 {
			if tB == blas.Trans {
				return b[j*ldb+p]
			}
			return b[p*ldb+j]
		}
		pack := func(dst []float32, p0, kc, j0, cols, nr int) {
			for p := 0; p < kc; p++ {
				for j := 0; j < nr; j++ {
					dst[p*nr+j] = 0
					if j < cols {
						dst[p*nr+j] = opB(p0+p, j0+j)
					}
				}
			}
		}
		v.SgemmPackedB(2, tA, m, n, k, alpha, a, lda, pack, beta, c, ldc)
	}
}

func checkOne(t *testing.T, name string, gemm func(tA, tB blas.Transpose, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int), rng *rand.Rand, tA, tB blas.Transpose, m, n, k int, alpha, beta float32) {
	ra, ca := storage(tA, m, k)
	rb, cb := storage(tB, k, n)
	lda, ldb, ldc := ca+3, cb+1, n+5
	a, b := randSlice(rng, ra*lda), randSlice(rng, rb*ldb)
	c := randSlice(rng, m*ldc)
	if beta == 0 {
		for i := 0; i < m; i++ {
			for j := 0; j < n; j++ {
				c[i*ldc+j] = float32(math.NaN())
			}
		}
	}
	orig := append([]float32(nil), c...)
	want, mag := refGemm(tA, tB, m, n, k, alpha, a, lda, b, ldb, beta, orig, ldc)
	gemm(tA, tB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
	const eps = 0x1p-24
	for i := 0; i < m; i++ {
		for j := 0; j < ldc; j++ {
			got := c[i*ldc+j]
			if j >= n {
				if math.Float32bits(got) != math.Float32bits(orig[i*ldc+j]) {
					t.Fatalf("%s: padding C[%d][%d] changed from %v to %v", name, i, j, orig[i*ldc+j], got)
				}
				continue
			}
			w := want[i*n+j]
			tol := float64(k+2) * eps * (mag[i*n+j] + 1e-30)
			if math.IsNaN(float64(got)) || math.Abs(float64(got)-w) > tol {
				t.Fatalf("%s: C[%d][%d] = %v, want %v (tolerance %.3g)", name, i, j, got, w, tol)
			}
		}
	}
}

// A zero alpha or k only scales C; beta == 0 still clears NaN.
func TestScaleOnly(t *testing.T) {
	for _, v := range Variants() {
		for _, k := range []int{0, 3} {
			a, b := []float32{1, 2, 3, 4, 5, 6}, []float32{1, 2, 3, 4, 5, 6}
			c := []float32{float32(math.NaN()), 2, 3, 4}
			alpha := float32(0)
			if k == 0 {
				alpha = 1
			}
			v.Sgemm(blas.NoTrans, blas.NoTrans, 2, 2, k, alpha, a, max(k, 1), b, 2, 0, c, 2)
			for i, x := range c {
				if x != 0 {
					t.Errorf("%s k=%d: C[%d] = %v after beta 0, want 0", v.Name, k, i, x)
				}
			}
			c = []float32{1, 2, 3, 4}
			v.Sgemm(blas.NoTrans, blas.NoTrans, 2, 2, k, alpha, a, max(k, 1), b, 2, 0.5, c, 2)
			if c[3] != 2 {
				t.Errorf("%s k=%d: C[3] = %v after beta 0.5, want 2", v.Name, k, c[3])
			}
		}
	}
}

// The result must not depend on how many goroutines compute it: the 1-worker result and the
// many-worker one agree bit for bit, for shapes where the split goes over rows, columns or
// both.
func TestDeterministicAcrossWorkers(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for _, v := range Variants() {
		for _, sz := range [][3]int{{1000, 70, 600}, {8, 1000, 700}, {300, 300, 300}} {
			m, n, k := sz[0], sz[1], sz[2]
			a, b := randSlice(rng, m*k), randSlice(rng, k*n)
			c0 := randSlice(rng, m*n)
			serial := append([]float32(nil), c0...)
			v.SgemmWorkers(1, blas.Trans, blas.NoTrans, m, n, k, 1, a, m, b, n, 0.5, serial, n)
			for _, workers := range []int{2, 3, 8} {
				par := append([]float32(nil), c0...)
				v.SgemmWorkers(workers, blas.Trans, blas.NoTrans, m, n, k, 1, a, m, b, n, 0.5, par, n)
				for i := range par {
					if math.Float32bits(par[i]) != math.Float32bits(serial[i]) {
						t.Fatalf("%s %v workers=%d: C[%d] = %v, one worker gave %v", v.Name, sz, workers, i, par[i], serial[i])
					}
				}
			}
		}
	}
}

// Steady-state calls allocate nothing: buffers and helper goroutines are reused.
func TestNoAllocations(t *testing.T) {
	const m, n, k = 200, 300, 400
	rng := rand.New(rand.NewPCG(5, 6))
	a, b, c := randSlice(rng, m*k), randSlice(rng, k*n), make([]float32, m*n)
	for _, v := range Variants() {
		allocs := testing.AllocsPerRun(20, func() {
			v.SgemmWorkers(4, blas.NoTrans, blas.NoTrans, m, n, k, 1, a, k, b, n, 0, c, n)
		})
		if allocs > 0 {
			t.Errorf("%s: %v allocations per call", v.Name, allocs)
		}
	}
}

func TestBadArgumentsPanic(t *testing.T) {
	s := make([]float32, 12)
	cases := map[string]func(){
		"lda":       func() { Sgemm(blas.NoTrans, blas.NoTrans, 3, 4, 3, 1, s, 2, s, 4, 0, s, 4) },
		"short B":   func() { Sgemm(blas.NoTrans, blas.NoTrans, 3, 4, 4, 1, s, 4, s, 4, 0, s, 4) },
		"negative":  func() { Sgemm(blas.NoTrans, blas.NoTrans, -1, 4, 3, 1, s, 3, s, 4, 0, s, 4) },
		"transpose": func() { Sgemm('x', blas.NoTrans, 3, 4, 3, 1, s, 3, s, 4, 0, s, 4) },
	}
	for name, call := range cases {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("%s: no panic", name)
				}
			}()
			call()
		}()
	}
}

// TestDots compares Dots with the float64 reference of C = beta·C + A·Bᵀ on odd sizes that
// leave edge tiles and k tails of every length, and chunked k, on padded rows, with C
// poisoned (NaN) where beta == 0, and its padding checked untouched.
func TestDots(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	saved := hasDotKernel
	defer func() { hasDotKernel = saved }()
	impls := []struct {
		name   string
		kernel bool
	}{{"go", false}}
	if saved {
		impls = append(impls, struct {
			name   string
			kernel bool
		}{"avx2", true})
	} else {
		t.Log("avx2 dot kernel not run: this CPU (or VGG_SIMD) does not allow it")
	}
	for _, im := range impls {
		hasDotKernel = im.kernel
		for _, sz := range [][3]int{{1, 1, 1}, {4, 3, 8}, {4, 3, 9}, {5, 7, 15}, {8, 72, 256}, {9, 10, 513}, {13, 29, 1100}, {4, 3, 4099}, {3, 2, 0}} {
			m, n, k := sz[0], sz[1], sz[2]
			for _, beta := range []float32{0, 0.5} {
				name := fmt.Sprintf("%s/%dx%dx%d/beta=%g", im.name, m, n, k, beta)
				checkOne(t, name, dotsAsSgemm, rng, blas.NoTrans, blas.Trans, m, n, k, 1, beta)
			}
		}
	}
}

// dotsAsSgemm runs Dots on two goroutines in Sgemm's signature (A not transposed, B
// transposed, alpha 1), for checkOne.
func dotsAsSgemm(_, _ blas.Transpose, m, n, k int, _ float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	Dots(2, m, n, k, a, lda, b, ldb, beta, c, ldc)
}
