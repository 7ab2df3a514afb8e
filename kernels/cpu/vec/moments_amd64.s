#include "textflag.h"

// The batch-norm loops of moments.go. Elements i..i+3 of each block of 8 are lanes 0-3 (the
// low accumulator), i+4..i+7 lanes 4-7 (the high one); COMBINE adds a lane pair as
// ((l0+l4)+(l2+l6)) + ((l1+l5)+(l3+l7)) into the low double of X(lo). No fused multiply-adds:
// every product is rounded before it is added, as in the plain-Go twins.
#define COMBINE(lo, hi, xlo, xtmp) \
	VADDPD       hi, lo, lo;    \
	VEXTRACTF128 $1, lo, xtmp;  \
	VADDPD       xtmp, xlo, xlo; \
	VHADDPD      xlo, xlo, xlo

// func sumAVX2(x *float32, n int) float64
TEXT ·sumAVX2(SB), NOSPLIT, $0-24
	MOVQ   x+0(FP), SI
	MOVQ   n+8(FP), CX
	VXORPD Y0, Y0, Y0
	VXORPD Y1, Y1, Y1

sumloop:
	VCVTPS2PD (SI), Y2
	VCVTPS2PD 16(SI), Y3
	VADDPD    Y2, Y0, Y0
	VADDPD    Y3, Y1, Y1
	ADDQ      $32, SI
	SUBQ      $8, CX
	JNZ       sumloop
	COMBINE(Y0, Y1, X0, X2)
	VMOVSD    X0, ret+16(FP)
	VZEROUPPER
	RET

// func sumSqDevAVX2(x *float32, n int, mean float64) float64
TEXT ·sumSqDevAVX2(SB), NOSPLIT, $0-32
	MOVQ         x+0(FP), SI
	MOVQ         n+8(FP), CX
	VBROADCASTSD mean+16(FP), Y4
	VXORPD       Y0, Y0, Y0
	VXORPD       Y1, Y1, Y1

sqloop:
	VCVTPS2PD (SI), Y2
	VCVTPS2PD 16(SI), Y3
	VSUBPD    Y4, Y2, Y2
	VSUBPD    Y4, Y3, Y3
	VMULPD    Y2, Y2, Y2
	VMULPD    Y3, Y3, Y3
	VADDPD    Y2, Y0, Y0
	VADDPD    Y3, Y1, Y1
	ADDQ      $32, SI
	SUBQ      $8, CX
	JNZ       sqloop
	COMBINE(Y0, Y1, X0, X2)
	VMOVSD    X0, ret+24(FP)
	VZEROUPPER
	RET

// func sumDyDevAVX2(dy, x *float32, n int, mean float64) (sumDy, sumDyDev float64)
// Y0, Y1: the lanes of Σ dy; Y5, Y6: the lanes of Σ dy·(x − mean).
TEXT ·sumDyDevAVX2(SB), NOSPLIT, $0-48
	MOVQ         dy+0(FP), SI
	MOVQ         x+8(FP), DI
	MOVQ         n+16(FP), CX
	VBROADCASTSD mean+24(FP), Y4
	VXORPD       Y0, Y0, Y0
	VXORPD       Y1, Y1, Y1
	VXORPD       Y5, Y5, Y5
	VXORPD       Y6, Y6, Y6

dyloop:
	VCVTPS2PD (SI), Y2
	VCVTPS2PD 16(SI), Y3
	VADDPD    Y2, Y0, Y0
	VADDPD    Y3, Y1, Y1
	VCVTPS2PD (DI), Y7
	VCVTPS2PD 16(DI), Y8
	VSUBPD    Y4, Y7, Y7
	VSUBPD    Y4, Y8, Y8
	VMULPD    Y7, Y2, Y2
	VMULPD    Y8, Y3, Y3
	VADDPD    Y2, Y5, Y5
	VADDPD    Y3, Y6, Y6
	ADDQ      $32, SI
	ADDQ      $32, DI
	SUBQ      $8, CX
	JNZ       dyloop
	COMBINE(Y0, Y1, X0, X2)
	COMBINE(Y5, Y6, X5, X2)
	VMOVSD    X0, sumDy+32(FP)
	VMOVSD    X5, sumDyDev+40(FP)
	VZEROUPPER
	RET

// func normaliseAVX2(y, x *float32, n int, mean, scale, shift float64)
// y = float32((x − mean)·scale + shift), 8 elements a step in two halves of 4.
TEXT ·normaliseAVX2(SB), NOSPLIT, $0-48
	MOVQ         y+0(FP), DI
	MOVQ         x+8(FP), SI
	MOVQ         n+16(FP), CX
	VBROADCASTSD mean+24(FP), Y4
	VBROADCASTSD scale+32(FP), Y5
	VBROADCASTSD shift+40(FP), Y6

normloop:
	VCVTPS2PD  (SI), Y2
	VCVTPS2PD  16(SI), Y3
	VSUBPD     Y4, Y2, Y2
	VSUBPD     Y4, Y3, Y3
	VMULPD     Y5, Y2, Y2
	VMULPD     Y5, Y3, Y3
	VADDPD     Y6, Y2, Y2
	VADDPD     Y6, Y3, Y3
	VCVTPD2PSY Y2, X2
	VCVTPD2PSY Y3, X3
	VMOVUPS    X2, (DI)
	VMOVUPS    X3, 16(DI)
	ADDQ       $32, SI
	ADDQ       $32, DI
	SUBQ       $8, CX
	JNZ        normloop
	VZEROUPPER
	RET

// func normaliseGradAVX2(dx, dy, x *float32, n int, c *[5]float64)
// dx = float32(scale·((dy − meanDy) − ((x − mean)·invstd)·meanDyXhat)), c = {mean, invstd,
// scale, meanDy, meanDyXhat} in Y8-Y12.
TEXT ·normaliseGradAVX2(SB), NOSPLIT, $0-40
	MOVQ         dx+0(FP), DI
	MOVQ         dy+8(FP), SI
	MOVQ         x+16(FP), DX
	MOVQ         n+24(FP), CX
	MOVQ         c+32(FP), AX
	VBROADCASTSD 0(AX), Y8
	VBROADCASTSD 8(AX), Y9
	VBROADCASTSD 16(AX), Y10
	VBROADCASTSD 24(AX), Y11
	VBROADCASTSD 32(AX), Y12

gradloop:
	VCVTPS2PD  (DX), Y0
	VCVTPS2PD  16(DX), Y1
	VSUBPD     Y8, Y0, Y0
	VSUBPD     Y8, Y1, Y1
	VMULPD     Y9, Y0, Y0
	VMULPD     Y9, Y1, Y1
	VMULPD     Y12, Y0, Y0
	VMULPD     Y12, Y1, Y1
	VCVTPS2PD  (SI), Y2
	VCVTPS2PD  16(SI), Y3
	VSUBPD     Y11, Y2, Y2
	VSUBPD     Y11, Y3, Y3
	VSUBPD     Y0, Y2, Y2
	VSUBPD     Y1, Y3, Y3
	VMULPD     Y10, Y2, Y2
	VMULPD     Y10, Y3, Y3
	VCVTPD2PSY Y2, X2
	VCVTPD2PSY Y3, X3
	VMOVUPS    X2, (DI)
	VMOVUPS    X3, 16(DI)
	ADDQ       $32, SI
	ADDQ       $32, DI
	ADDQ       $32, DX
	SUBQ       $8, CX
	JNZ        gradloop
	VZEROUPPER
	RET
