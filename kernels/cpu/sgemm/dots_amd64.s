#include "textflag.h"

// HSUM adds the 8 lanes of Y (whose low half is X) into one float stored at off(DX).
#define HSUM(Y, X, off) \
	VEXTRACTF128 $1, Y, X15; \
	VADDPS       X15, X, X;  \
	VHADDPS      X, X, X;    \
	VHADDPS      X, X, X;    \
	VMOVSS       X, off(DX)

// func dot4x3AVX2(k int, a *float32, lda int, b *float32, ldb int, sums *float32)
// Rows a0..a3 (SI, R8, R9, R10) and b0..b2 (DI, R11, R12) are read 8 floats a step at byte
// offset R13; Y(3i+j) accumulates a_i·b_j; Y12-Y14 hold the b values, Y15 the a values.
TEXT ·dot4x3AVX2(SB), NOSPLIT, $0-48
	MOVQ k+0(FP), CX
	MOVQ a+8(FP), SI
	MOVQ lda+16(FP), AX
	MOVQ b+24(FP), DI
	MOVQ ldb+32(FP), BX
	MOVQ sums+40(FP), DX
	SHLQ $2, AX
	SHLQ $2, BX
	SHLQ $2, CX
	LEAQ (SI)(AX*1), R8
	LEAQ (R8)(AX*1), R9
	LEAQ (R9)(AX*1), R10
	LEAQ (DI)(BX*1), R11
	LEAQ (R11)(BX*1), R12
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
	XORQ   R13, R13

loop:
	VMOVUPS     (DI)(R13*1), Y12
	VMOVUPS     (R11)(R13*1), Y13
	VMOVUPS     (R12)(R13*1), Y14
	VMOVUPS     (SI)(R13*1), Y15
	VFMADD231PS Y12, Y15, Y0
	VFMADD231PS Y13, Y15, Y1
	VFMADD231PS Y14, Y15, Y2
	VMOVUPS     (R8)(R13*1), Y15
	VFMADD231PS Y12, Y15, Y3
	VFMADD231PS Y13, Y15, Y4
	VFMADD231PS Y14, Y15, Y5
	VMOVUPS     (R9)(R13*1), Y15
	VFMADD231PS Y12, Y15, Y6
	VFMADD231PS Y13, Y15, Y7
	VFMADD231PS Y14, Y15, Y8
	VMOVUPS     (R10)(R13*1), Y15
	VFMADD231PS Y12, Y15, Y9
	VFMADD231PS Y13, Y15, Y10
	VFMADD231PS Y14, Y15, Y11
	ADDQ        $32, R13
	CMPQ        R13, CX
	JL          loop

	HSUM(Y0, X0, 0)
	HSUM(Y1, X1, 4)
	HSUM(Y2, X2, 8)
	HSUM(Y3, X3, 12)
	HSUM(Y4, X4, 16)
	HSUM(Y5, X5, 20)
	HSUM(Y6, X6, 24)
	HSUM(Y7, X7, 28)
	HSUM(Y8, X8, 32)
	HSUM(Y9, X9, 36)
	HSUM(Y10, X10, 40)
	HSUM(Y11, X11, 44)
	VZEROUPPER
	RET
