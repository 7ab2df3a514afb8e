package sgemm

// Packing copies blocks of op(A) and op(B) into the layout the micro-kernel streams through:
// for each k step, mr consecutive A values (one per tile row) and nr consecutive B values (one
// per tile column). Partial panels at the matrices' edges are zero-padded, so the kernel
// always computes whole tiles and the padding contributes exact zeros to rows and columns
// that are never stored. Each packed element is read once per tile it feeds (nc/nr or mc/mr
// times), so packing's one copy is a small part of the cost for all but tiny products.

// packA packs rows [i0, i0+rows) and k steps [p0, p0+kc) of op(A), times alpha, into
// mr-tall panels: panel r (rows i0+r*mr...) at dst[r*mr*kc:], element (i, p) of the panel at
// [p*mr+i]. op(A)(i, p) is a[i*lda+p], or a[p*lda+i] when transA.
func packA(dst []float32, transA bool, a []float32, lda, i0, rows, p0, kc, mr int, alpha float32) {
	for r := 0; r < rows; r += mr {
		panel := dst[r*kc : (r+mr)*kc]
		h := min(mr, rows-r)
		if transA {
			// Each k step's mr values are contiguous in A.
			for p := 0; p < kc; p++ {
				src := a[(p0+p)*lda+i0+r:][:h]
				d := panel[p*mr : p*mr+mr]
				for i, x := range src {
					d[i] = alpha * x
				}
				clear(d[h:])
			}
			continue
		}
		// Each of the h rows is contiguous in A; write it strided into the panel.
		for i := 0; i < h; i++ {
			src := a[(i0+r+i)*lda+p0:][:kc]
			for p, x := range src {
				panel[p*mr+i] = alpha * x
			}
		}
		if h < mr {
			for p := 0; p < kc; p++ {
				clear(panel[p*mr+h : p*mr+mr])
			}
		}
	}
}

// packB packs k steps [p0, p0+kc) and columns [j0, j0+cols) of op(B), cols <= nr, into one
// panel: element (p, j) at dst[p*nr+j]. op(B)(p, j) is b[p*ldb+j], or b[j*ldb+p] when transB.
func packB(dst []float32, transB bool, b []float32, ldb, p0, kc, j0, cols, nr int) {
	if !transB {
		for p := 0; p < kc; p++ {
			d := dst[p*nr : p*nr+nr]
			copy(d, b[(p0+p)*ldb+j0:][:cols])
			clear(d[cols:])
		}
		return
	}
	for j := 0; j < cols; j++ {
		for p, x := range b[(j0+j)*ldb+p0:][:kc] {
			dst[p*nr+j] = x
		}
	}
	if cols < nr {
		for p := 0; p < kc; p++ {
			clear(dst[p*nr+cols : p*nr+nr])
		}
	}
}
