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
		if h == 6 && mr == 6 {
			packA6(panel, transA, a, lda, i0+r, p0, kc, alpha)
			continue
		}
		if transA && h == 12 && mr == 12 && alpha == 1 {
			// A whole panel row is one fixed-size copy (a few vector moves; see packB): the
			// Winograd weight gradient packs an A as large as its B, and each value feeds
			// only 2·n flops.
			for p := 0; p < kc; p++ {
				*(*[12]float32)(panel[p*12:]) = *(*[12]float32)(a[(p0+p)*lda+i0+r:])
			}
			continue
		}
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

// packA6 is packA for one full 6-row panel starting at row i0, unrolled: for products
// with few columns each packed A value feeds only 2n flops, so packing speed decides the
// rate (a generic loop here halves conv1's).
func packA6(panel []float32, transA bool, a []float32, lda, i0, p0, kc int, alpha float32) {
	if transA {
		for p := 0; p < kc; p++ {
			s := (*[6]float32)(a[(p0+p)*lda+i0:])
			d := (*[6]float32)(panel[p*6:])
			d[0], d[1], d[2], d[3], d[4], d[5] = alpha*s[0], alpha*s[1], alpha*s[2], alpha*s[3], alpha*s[4], alpha*s[5]
		}
		return
	}
	r0 := a[i0*lda+p0:][:kc]
	r1 := a[(i0+1)*lda+p0:][:kc]
	r2 := a[(i0+2)*lda+p0:][:kc]
	r3 := a[(i0+3)*lda+p0:][:kc]
	r4 := a[(i0+4)*lda+p0:][:kc]
	r5 := a[(i0+5)*lda+p0:][:kc]
	for p := range r0 {
		d := (*[6]float32)(panel[p*6:])
		d[0], d[1], d[2], d[3], d[4], d[5] = alpha*r0[p], alpha*r1[p], alpha*r2[p], alpha*r3[p], alpha*r4[p], alpha*r5[p]
	}
}

// packB packs k steps [p0, p0+kc) and columns [j0, j0+cols) of op(B), cols <= nr, into one
// panel: element (p, j) at dst[p*nr+j]. op(B)(p, j) is b[p*ldb+j], or b[j*ldb+p] when transB.
// With vector set, a transposed B goes through Transpose8 eight by eight where it can.
func packB(dst []float32, transB bool, b []float32, ldb, p0, kc, j0, cols, nr int, vector bool) {
	if !transB {
		// A whole panel row is one fixed-size copy, which the compiler turns into a few vector
		// moves; copy() would call memmove for every 64 or 128 bytes.
		switch {
		case cols == 16 && nr == 16:
			for p := 0; p < kc; p++ {
				*(*[16]float32)(dst[p*16:]) = *(*[16]float32)(b[(p0+p)*ldb+j0:])
			}
		case cols == 32 && nr == 32:
			for p := 0; p < kc; p++ {
				*(*[32]float32)(dst[p*32:]) = *(*[32]float32)(b[(p0+p)*ldb+j0:])
			}
		default:
			for p := 0; p < kc; p++ {
				d := dst[p*nr : p*nr+nr]
				copy(d, b[(p0+p)*ldb+j0:][:cols])
				clear(d[cols:])
			}
		}
		return
	}
	// A transposed B's rows are the panel's columns: element by element that is a strided
	// write per float (a linear layer's forward pass, y = x·wᵀ, packs all of w so, and each
	// packed value feeds only 2·batch flops). In whole 8x8 blocks Transpose8 moves eight
	// floats per instruction.
	from := 0
	if vector && cols == nr && nr%8 == 0 {
		from = kc / 8 * 8
		for j := 0; j < nr && from > 0; j += 8 {
			Transpose8(dst[j:], nr, 8*nr, b[(j0+j)*ldb+p0:], ldb, 8, from/8)
		}
	}
	for j := 0; j < cols; j++ {
		for p, x := range b[(j0+j)*ldb+p0+from:][:kc-from] {
			dst[(from+p)*nr+j] = x
		}
	}
	if cols < nr {
		for p := 0; p < kc; p++ {
			clear(dst[p*nr+cols : p*nr+nr])
		}
	}
}
