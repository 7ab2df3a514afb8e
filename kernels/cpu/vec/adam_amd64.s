#include "textflag.h"

// MOMENTS sets, for the gradient in Y1: Y2 = m = β1·m + (1-β1)·g and Y3 = v = β2·v +
// (1-β2)·g·g, stored back; then Y0 (the parameters) -= lr·(m/corr1) / (sqrt(v/corr2) + eps).
#define MOMENTS \
	VMOVUPS (R8)(AX*1), Y2;  \
	VMULPS  Y10, Y2, Y2;     \
	VMULPS  Y11, Y1, Y4;     \
	VADDPS  Y4, Y2, Y2;      \
	VMOVUPS (R9)(AX*1), Y3;  \
	VMULPS  Y12, Y3, Y3;     \
	VMULPS  Y13, Y1, Y4;     \
	VMULPS  Y1, Y4, Y4;      \
	VADDPS  Y4, Y3, Y3;      \
	VMOVUPS Y2, (R8)(AX*1);  \
	VMOVUPS Y3, (R9)(AX*1);  \
	VDIVPS  Y14, Y2, Y2;     \
	VDIVPS  Y15, Y3, Y3;     \
	VSQRTPS Y3, Y3;          \
	VADDPS  Y7, Y3, Y3;      \
	VMULPS  Y6, Y2, Y2;      \
	VDIVPS  Y3, Y2, Y2;      \
	VSUBPS  Y2, Y0, Y0;      \
	VMOVUPS Y0, (DI)(AX*1)

// func adamAVX2(p, grad, m, v *float32, n int, c *[9]float32, eps float32, decoupled bool)
// Y8 = lr·wd, Y9 = wd, Y10 = β1, Y11 = 1-β1, Y12 = β2, Y13 = 1-β2, Y14 = corr1,
// Y15 = corr2, Y6 = lr, Y7 = eps; AX is the byte offset, CX its end.
TEXT ·adamAVX2(SB), NOSPLIT, $0-53
	MOVQ         p+0(FP), DI
	MOVQ         grad+8(FP), SI
	MOVQ         m+16(FP), R8
	MOVQ         v+24(FP), R9
	MOVQ         n+32(FP), CX
	MOVQ         c+40(FP), DX
	SHLQ         $2, CX
	VBROADCASTSS 0(DX), Y8
	VBROADCASTSS 4(DX), Y9
	VBROADCASTSS 8(DX), Y10
	VBROADCASTSS 12(DX), Y11
	VBROADCASTSS 16(DX), Y12
	VBROADCASTSS 20(DX), Y13
	VBROADCASTSS 24(DX), Y14
	VBROADCASTSS 28(DX), Y15
	VBROADCASTSS 32(DX), Y6
	VBROADCASTSS eps+48(FP), Y7
	XORQ         AX, AX
	MOVB         decoupled+52(FP), BX
	TESTB        BX, BX
	JZ           coupled

decoupled8:
	// p -= (lr·wd)·p; the gradient as it is.
	VMOVUPS (DI)(AX*1), Y0
	VMULPS  Y8, Y0, Y4
	VSUBPS  Y4, Y0, Y0
	VMOVUPS (SI)(AX*1), Y1
	MOMENTS
	ADDQ    $32, AX
	CMPQ    AX, CX
	JL      decoupled8
	VZEROUPPER
	RET

coupled:
	// g += wd·p.
	VMOVUPS (DI)(AX*1), Y0
	VMULPS  Y9, Y0, Y4
	VMOVUPS (SI)(AX*1), Y1
	VADDPS  Y4, Y1, Y1
	MOMENTS
	ADDQ    $32, AX
	CMPQ    AX, CX
	JL      coupled
	VZEROUPPER
	RET
