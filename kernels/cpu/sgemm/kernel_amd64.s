// AVX2+FMA micro-kernel for sgemm, and the FMA throughput probe its speed is judged against.
//
// kernel6x16AVX2(k, a, b, c, ldc, beta) computes the 6x16 tile C = beta·C + A·B, where A is a
// packed panel of k steps of 6 rows (a[p*6+i]) and B a packed panel of k steps of 16 columns
// (b[p*16+j]); with beta == 0 (either sign) C is written without being read.
//
// Register blocking: the tile lives in 12 YMM accumulators, row i in Y(2i) (columns 0-7) and
// Y(2i+1) (columns 8-15), for the whole k loop. Each k step loads B's 16 values into Y12 and
// Y13, broadcasts each of A's 6 values in turn into Y14/Y15 (alternating, so a broadcast
// overlaps the FMAs of the previous row) and issues 12 VFMADD231PS: 192 flops for 2 loads and
// 6 broadcasts. 12 independent accumulators cover the FMA latency (4 cycles) times its two
// ports, so the loop is FMA-bound: 6 cycles a step at 2 FMAs a cycle, 32 flops a cycle. The
// loop is unrolled by 4 steps; a 1-step loop takes the remainder. C is touched only at the
// end: 6 rows of 64 bytes, ldc*4 bytes apart, prefetched before the loop.

#include "textflag.h"

// KSTEP does one k step with A at aoff(AX) and B at boff(BX).
#define KSTEP(aoff, boff) \
	VMOVUPS boff(BX), Y12; \
	VMOVUPS boff+32(BX), Y13; \
	VBROADCASTSS aoff(AX), Y14; \
	VFMADD231PS Y12, Y14, Y0; \
	VFMADD231PS Y13, Y14, Y1; \
	VBROADCASTSS aoff+4(AX), Y15; \
	VFMADD231PS Y12, Y15, Y2; \
	VFMADD231PS Y13, Y15, Y3; \
	VBROADCASTSS aoff+8(AX), Y14; \
	VFMADD231PS Y12, Y14, Y4; \
	VFMADD231PS Y13, Y14, Y5; \
	VBROADCASTSS aoff+12(AX), Y15; \
	VFMADD231PS Y12, Y15, Y6; \
	VFMADD231PS Y13, Y15, Y7; \
	VBROADCASTSS aoff+16(AX), Y14; \
	VFMADD231PS Y12, Y14, Y8; \
	VFMADD231PS Y13, Y14, Y9; \
	VBROADCASTSS aoff+20(AX), Y15; \
	VFMADD231PS Y12, Y15, Y10; \
	VFMADD231PS Y13, Y15, Y11

// STOREROW writes row accumulators lo, hi to the C row at DX and steps DX to the next row.
#define STOREROW(lo, hi) \
	VMOVUPS lo, (DX); \
	VMOVUPS hi, 32(DX); \
	ADDQ R8, DX

// BETAROW is STOREROW after adding beta (in Y14) times the C row.
#define BETAROW(lo, hi) \
	VFMADD231PS (DX), Y14, lo; \
	VFMADD231PS 32(DX), Y14, hi; \
	STOREROW(lo, hi)

// func kernel6x16AVX2(k int, a, b, c *float32, ldc int, beta float32)
TEXT ·kernel6x16AVX2(SB), NOSPLIT, $0-44
	MOVQ k+0(FP), CX
	MOVQ a+8(FP), AX
	MOVQ b+16(FP), BX
	MOVQ c+24(FP), DX
	MOVQ ldc+32(FP), R8
	SHLQ $2, R8 // ldc in bytes

	// Fetch the C tile while the k loop runs: 6 rows, each spanning at most 2 lines.
	MOVQ DX, R9
	PREFETCHT0 (R9)
	PREFETCHT0 63(R9)
	ADDQ R8, R9
	PREFETCHT0 (R9)
	PREFETCHT0 63(R9)
	ADDQ R8, R9
	PREFETCHT0 (R9)
	PREFETCHT0 63(R9)
	ADDQ R8, R9
	PREFETCHT0 (R9)
	PREFETCHT0 63(R9)
	ADDQ R8, R9
	PREFETCHT0 (R9)
	PREFETCHT0 63(R9)
	ADDQ R8, R9
	PREFETCHT0 (R9)
	PREFETCHT0 63(R9)

	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1
	VXORPS Y2, Y2, Y2
	VXORPS Y3, Y3, Y3
	VXORPS Y4, Y4, Y4
	VXORPS Y5, Y5, Y5
	VXORPS Y6, Y6, Y6
	VXORPS Y7, Y7, Y7
	VXORPS Y8, Y8, Y8
	VXORPS Y9, Y9, Y9
	VXORPS Y10, Y10, Y10
	VXORPS Y11, Y11, Y11

	MOVQ CX, R10
	SHRQ $2, R10
	JZ   tail

loop4:
	KSTEP(0, 0)
	KSTEP(24, 64)
	KSTEP(48, 128)
	KSTEP(72, 192)
	ADDQ $96, AX
	ADDQ $256, BX
	DECQ R10
	JNZ  loop4

tail:
	ANDQ $3, CX
	JZ   store

loop1:
	KSTEP(0, 0)
	ADDQ $24, AX
	ADDQ $64, BX
	DECQ CX
	JNZ  loop1

store:
	// beta == ±0: overwrite, never reading C (0·NaN would be NaN).
	MOVL beta+40(FP), R11
	ANDL $0x7fffffff, R11
	JZ   overwrite

	VBROADCASTSS beta+40(FP), Y14
	BETAROW(Y0, Y1)
	BETAROW(Y2, Y3)
	BETAROW(Y4, Y5)
	BETAROW(Y6, Y7)
	BETAROW(Y8, Y9)
	BETAROW(Y10, Y11)
	VZEROUPPER
	RET

overwrite:
	STOREROW(Y0, Y1)
	STOREROW(Y2, Y3)
	STOREROW(Y4, Y5)
	STOREROW(Y6, Y7)
	STOREROW(Y8, Y9)
	STOREROW(Y10, Y11)
	VZEROUPPER
	RET

// func fmaPeakAVX2(iters int)
// 12 independent accumulators, as in the kernel, and no loads: only the FMA ports limit it.
TEXT ·fmaPeakAVX2(SB), NOSPLIT, $0-8
	MOVQ iters+0(FP), CX
	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1
	VXORPS Y2, Y2, Y2
	VXORPS Y3, Y3, Y3
	VXORPS Y4, Y4, Y4
	VXORPS Y5, Y5, Y5
	VXORPS Y6, Y6, Y6
	VXORPS Y7, Y7, Y7
	VXORPS Y8, Y8, Y8
	VXORPS Y9, Y9, Y9
	VXORPS Y10, Y10, Y10
	VXORPS Y11, Y11, Y11
	VXORPS Y12, Y12, Y12
	VXORPS Y13, Y13, Y13
	TESTQ CX, CX
	JLE   done

peakloop:
	VFMADD231PS Y12, Y13, Y0
	VFMADD231PS Y12, Y13, Y1
	VFMADD231PS Y12, Y13, Y2
	VFMADD231PS Y12, Y13, Y3
	VFMADD231PS Y12, Y13, Y4
	VFMADD231PS Y12, Y13, Y5
	VFMADD231PS Y12, Y13, Y6
	VFMADD231PS Y12, Y13, Y7
	VFMADD231PS Y12, Y13, Y8
	VFMADD231PS Y12, Y13, Y9
	VFMADD231PS Y12, Y13, Y10
	VFMADD231PS Y12, Y13, Y11
	DECQ CX
	JNZ  peakloop

done:
	VZEROUPPER
	RET
