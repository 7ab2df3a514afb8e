// AVX-512 micro-kernel for sgemm, and the 16-wide FMA throughput probe.
//
// kernel12x32AVX512(k, a, b, c, ldc, beta) computes the 12x32 tile C = beta·C + A·B, where A
// is a packed panel of k steps of 12 rows (a[p*12+i]) and B a packed panel of k steps of 32
// columns (b[p*32+j]); with beta == 0 (either sign) C is written without being read.
//
// Register blocking: the tile lives in 24 ZMM accumulators, row i in Z(2i) (columns 0-15)
// and Z(2i+1) (columns 16-31), for the whole k loop. Each k step loads B's 32 values into
// Z24 and Z25, broadcasts each of A's 12 values in turn into Z26/Z27 (alternating) and
// issues 24 VFMADD231PS: 768 flops for 2 loads and 12 broadcasts. 24 independent
// accumulators cover the FMA latency (4 cycles) times two 512-bit FMA ports, so on a core
// with two (Intel server parts) the loop is FMA-bound at 64 flops a cycle, twice the AVX2
// kernel's; on a core that splits 512-bit FMAs in two (AMD Zen 4) it runs at the AVX2 rate.
// The loop is unrolled by 4 steps; a 1-step loop takes the remainder. C is touched only at
// the end: 12 rows of 128 bytes, ldc*4 bytes apart, prefetched before the loop.

#include "textflag.h"

// KSTEP512 does one k step with A at aoff(AX) and B at boff(BX).
#define KSTEP512(aoff, boff) \
	VMOVUPS boff(BX), Z24; \
	VMOVUPS boff+64(BX), Z25; \
	VBROADCASTSS aoff(AX), Z26; \
	VFMADD231PS Z24, Z26, Z0; \
	VFMADD231PS Z25, Z26, Z1; \
	VBROADCASTSS aoff+4(AX), Z27; \
	VFMADD231PS Z24, Z27, Z2; \
	VFMADD231PS Z25, Z27, Z3; \
	VBROADCASTSS aoff+8(AX), Z26; \
	VFMADD231PS Z24, Z26, Z4; \
	VFMADD231PS Z25, Z26, Z5; \
	VBROADCASTSS aoff+12(AX), Z27; \
	VFMADD231PS Z24, Z27, Z6; \
	VFMADD231PS Z25, Z27, Z7; \
	VBROADCASTSS aoff+16(AX), Z26; \
	VFMADD231PS Z24, Z26, Z8; \
	VFMADD231PS Z25, Z26, Z9; \
	VBROADCASTSS aoff+20(AX), Z27; \
	VFMADD231PS Z24, Z27, Z10; \
	VFMADD231PS Z25, Z27, Z11; \
	VBROADCASTSS aoff+24(AX), Z26; \
	VFMADD231PS Z24, Z26, Z12; \
	VFMADD231PS Z25, Z26, Z13; \
	VBROADCASTSS aoff+28(AX), Z27; \
	VFMADD231PS Z24, Z27, Z14; \
	VFMADD231PS Z25, Z27, Z15; \
	VBROADCASTSS aoff+32(AX), Z26; \
	VFMADD231PS Z24, Z26, Z16; \
	VFMADD231PS Z25, Z26, Z17; \
	VBROADCASTSS aoff+36(AX), Z27; \
	VFMADD231PS Z24, Z27, Z18; \
	VFMADD231PS Z25, Z27, Z19; \
	VBROADCASTSS aoff+40(AX), Z26; \
	VFMADD231PS Z24, Z26, Z20; \
	VFMADD231PS Z25, Z26, Z21; \
	VBROADCASTSS aoff+44(AX), Z27; \
	VFMADD231PS Z24, Z27, Z22; \
	VFMADD231PS Z25, Z27, Z23

// STOREROW512 writes row accumulators lo, hi to the C row at DX and steps DX to the next row.
#define STOREROW512(lo, hi) \
	VMOVUPS lo, (DX); \
	VMOVUPS hi, 64(DX); \
	ADDQ R8, DX

// BETAROW512 is STOREROW512 after adding beta (in Z26) times the C row.
#define BETAROW512(lo, hi) \
	VFMADD231PS (DX), Z26, lo; \
	VFMADD231PS 64(DX), Z26, hi; \
	STOREROW512(lo, hi)

// func kernel12x32AVX512(k int, a, b, c *float32, ldc int, beta float32)
TEXT ·kernel12x32AVX512(SB), NOSPLIT, $0-44
	MOVQ k+0(FP), CX
	MOVQ a+8(FP), AX
	MOVQ b+16(FP), BX
	MOVQ c+24(FP), DX
	MOVQ ldc+32(FP), R8
	SHLQ $2, R8 // ldc in bytes

	// Fetch the C tile while the k loop runs: 12 rows, each spanning at most 3 lines.
	MOVQ DX, R9
	MOVQ $12, R10

prefetch:
	PREFETCHT0 (R9)
	PREFETCHT0 64(R9)
	PREFETCHT0 127(R9)
	ADDQ       R8, R9
	DECQ       R10
	JNZ        prefetch

	VPXORD Z0, Z0, Z0
	VPXORD Z1, Z1, Z1
	VPXORD Z2, Z2, Z2
	VPXORD Z3, Z3, Z3
	VPXORD Z4, Z4, Z4
	VPXORD Z5, Z5, Z5
	VPXORD Z6, Z6, Z6
	VPXORD Z7, Z7, Z7
	VPXORD Z8, Z8, Z8
	VPXORD Z9, Z9, Z9
	VPXORD Z10, Z10, Z10
	VPXORD Z11, Z11, Z11
	VPXORD Z12, Z12, Z12
	VPXORD Z13, Z13, Z13
	VPXORD Z14, Z14, Z14
	VPXORD Z15, Z15, Z15
	VPXORD Z16, Z16, Z16
	VPXORD Z17, Z17, Z17
	VPXORD Z18, Z18, Z18
	VPXORD Z19, Z19, Z19
	VPXORD Z20, Z20, Z20
	VPXORD Z21, Z21, Z21
	VPXORD Z22, Z22, Z22
	VPXORD Z23, Z23, Z23

	MOVQ CX, R10
	SHRQ $2, R10
	JZ   tail

loop4:
	KSTEP512(0, 0)
	KSTEP512(48, 128)
	KSTEP512(96, 256)
	KSTEP512(144, 384)
	ADDQ $192, AX
	ADDQ $512, BX
	DECQ R10
	JNZ  loop4

tail:
	ANDQ $3, CX
	JZ   store

loop1:
	KSTEP512(0, 0)
	ADDQ $48, AX
	ADDQ $128, BX
	DECQ CX
	JNZ  loop1

store:
	// beta == ±0: overwrite, never reading C (0·NaN would be NaN).
	MOVL beta+40(FP), R11
	ANDL $0x7fffffff, R11
	JZ   overwrite

	VBROADCASTSS beta+40(FP), Z26
	BETAROW512(Z0, Z1)
	BETAROW512(Z2, Z3)
	BETAROW512(Z4, Z5)
	BETAROW512(Z6, Z7)
	BETAROW512(Z8, Z9)
	BETAROW512(Z10, Z11)
	BETAROW512(Z12, Z13)
	BETAROW512(Z14, Z15)
	BETAROW512(Z16, Z17)
	BETAROW512(Z18, Z19)
	BETAROW512(Z20, Z21)
	BETAROW512(Z22, Z23)
	VZEROUPPER
	RET

overwrite:
	STOREROW512(Z0, Z1)
	STOREROW512(Z2, Z3)
	STOREROW512(Z4, Z5)
	STOREROW512(Z6, Z7)
	STOREROW512(Z8, Z9)
	STOREROW512(Z10, Z11)
	STOREROW512(Z12, Z13)
	STOREROW512(Z14, Z15)
	STOREROW512(Z16, Z17)
	STOREROW512(Z18, Z19)
	STOREROW512(Z20, Z21)
	STOREROW512(Z22, Z23)
	VZEROUPPER
	RET

// func fmaPeakAVX512(iters int)
// 24 independent 16-wide accumulators and no loads: 768 flops an iteration.
TEXT ·fmaPeakAVX512(SB), NOSPLIT, $0-8
	MOVQ   iters+0(FP), CX
	VPXORD Z0, Z0, Z0
	VPXORD Z1, Z1, Z1
	VPXORD Z2, Z2, Z2
	VPXORD Z3, Z3, Z3
	VPXORD Z4, Z4, Z4
	VPXORD Z5, Z5, Z5
	VPXORD Z6, Z6, Z6
	VPXORD Z7, Z7, Z7
	VPXORD Z8, Z8, Z8
	VPXORD Z9, Z9, Z9
	VPXORD Z10, Z10, Z10
	VPXORD Z11, Z11, Z11
	VPXORD Z12, Z12, Z12
	VPXORD Z13, Z13, Z13
	VPXORD Z14, Z14, Z14
	VPXORD Z15, Z15, Z15
	VPXORD Z16, Z16, Z16
	VPXORD Z17, Z17, Z17
	VPXORD Z18, Z18, Z18
	VPXORD Z19, Z19, Z19
	VPXORD Z20, Z20, Z20
	VPXORD Z21, Z21, Z21
	VPXORD Z22, Z22, Z22
	VPXORD Z23, Z23, Z23
	VPXORD Z24, Z24, Z24
	VPXORD Z25, Z25, Z25
	TESTQ  CX, CX
	JLE    done

peakloop:
	VFMADD231PS Z24, Z25, Z0
	VFMADD231PS Z24, Z25, Z1
	VFMADD231PS Z24, Z25, Z2
	VFMADD231PS Z24, Z25, Z3
	VFMADD231PS Z24, Z25, Z4
	VFMADD231PS Z24, Z25, Z5
	VFMADD231PS Z24, Z25, Z6
	VFMADD231PS Z24, Z25, Z7
	VFMADD231PS Z24, Z25, Z8
	VFMADD231PS Z24, Z25, Z9
	VFMADD231PS Z24, Z25, Z10
	VFMADD231PS Z24, Z25, Z11
	VFMADD231PS Z24, Z25, Z12
	VFMADD231PS Z24, Z25, Z13
	VFMADD231PS Z24, Z25, Z14
	VFMADD231PS Z24, Z25, Z15
	VFMADD231PS Z24, Z25, Z16
	VFMADD231PS Z24, Z25, Z17
	VFMADD231PS Z24, Z25, Z18
	VFMADD231PS Z24, Z25, Z19
	VFMADD231PS Z24, Z25, Z20
	VFMADD231PS Z24, Z25, Z21
	VFMADD231PS Z24, Z25, Z22
	VFMADD231PS Z24, Z25, Z23
	DECQ        CX
	JNZ         peakloop

done:
	VZEROUPPER
	RET
