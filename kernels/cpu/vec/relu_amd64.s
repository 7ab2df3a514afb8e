#include "textflag.h"

// func reluAVX2(dst, src *float32, n int)
// dst = src where src > 0 or src is NaN (VCMPPS predicate 6, not-less-or-equal unordered),
// else +0: Go's max(src, 0) bit for bit. Y15 holds zeros.
TEXT ·reluAVX2(SB), NOSPLIT, $0-24
	MOVQ   dst+0(FP), DI
	MOVQ   src+8(FP), SI
	MOVQ   n+16(FP), CX
	VXORPS Y15, Y15, Y15

relu32:
	CMPQ    CX, $32
	JL      relu8
	VMOVUPS (SI), Y0
	VMOVUPS 32(SI), Y1
	VMOVUPS 64(SI), Y2
	VMOVUPS 96(SI), Y3
	VCMPPS  $6, Y15, Y0, Y4
	VCMPPS  $6, Y15, Y1, Y5
	VCMPPS  $6, Y15, Y2, Y6
	VCMPPS  $6, Y15, Y3, Y7
	VANDPS  Y4, Y0, Y0
	VANDPS  Y5, Y1, Y1
	VANDPS  Y6, Y2, Y2
	VANDPS  Y7, Y3, Y3
	VMOVUPS Y0, (DI)
	VMOVUPS Y1, 32(DI)
	VMOVUPS Y2, 64(DI)
	VMOVUPS Y3, 96(DI)
	ADDQ    $128, SI
	ADDQ    $128, DI
	SUBQ    $32, CX
	JMP     relu32

relu8:
	CMPQ    CX, $8
	JL      relu1
	VMOVUPS (SI), Y0
	VCMPPS  $6, Y15, Y0, Y4
	VANDPS  Y4, Y0, Y0
	VMOVUPS Y0, (DI)
	ADDQ    $32, SI
	ADDQ    $32, DI
	SUBQ    $8, CX
	JMP     relu8

relu1:
	TESTQ  CX, CX
	JZ     reludone
	VMOVSS (SI), X0
	VCMPSS $6, X15, X0, X4
	VANDPS X4, X0, X0
	VMOVSS X0, (DI)
	ADDQ   $4, SI
	ADDQ   $4, DI
	DECQ   CX
	JMP    relu1

reludone:
	VZEROUPPER
	RET

// func reluMaskAVX2(dx, dy, y *float32, n int)
// dx = dy where y > 0 (VCMPPS predicate 0x1e, greater-than ordered: NaN fails), else +0.
TEXT ·reluMaskAVX2(SB), NOSPLIT, $0-32
	MOVQ   dx+0(FP), DI
	MOVQ   dy+8(FP), SI
	MOVQ   y+16(FP), DX
	MOVQ   n+24(FP), CX
	VXORPS Y15, Y15, Y15

mask32:
	CMPQ    CX, $32
	JL      mask8
	VMOVUPS (DX), Y0
	VMOVUPS 32(DX), Y1
	VMOVUPS 64(DX), Y2
	VMOVUPS 96(DX), Y3
	VCMPPS  $0x1e, Y15, Y0, Y0
	VCMPPS  $0x1e, Y15, Y1, Y1
	VCMPPS  $0x1e, Y15, Y2, Y2
	VCMPPS  $0x1e, Y15, Y3, Y3
	VANDPS  (SI), Y0, Y0
	VANDPS  32(SI), Y1, Y1
	VANDPS  64(SI), Y2, Y2
	VANDPS  96(SI), Y3, Y3
	VMOVUPS Y0, (DI)
	VMOVUPS Y1, 32(DI)
	VMOVUPS Y2, 64(DI)
	VMOVUPS Y3, 96(DI)
	ADDQ    $128, DX
	ADDQ    $128, SI
	ADDQ    $128, DI
	SUBQ    $32, CX
	JMP     mask32

mask8:
	CMPQ    CX, $8
	JL      mask1
	VMOVUPS (DX), Y0
	VCMPPS  $0x1e, Y15, Y0, Y0
	VANDPS  (SI), Y0, Y0
	VMOVUPS Y0, (DI)
	ADDQ    $32, DX
	ADDQ    $32, SI
	ADDQ    $32, DI
	SUBQ    $8, CX
	JMP     mask8

mask1:
	TESTQ  CX, CX
	JZ     maskdone
	VMOVSS (DX), X0
	VCMPSS $0x1e, X15, X0, X0
	VMOVSS (SI), X1
	VANDPS X1, X0, X0
	VMOVSS X0, (DI)
	ADDQ   $4, DX
	ADDQ   $4, SI
	ADDQ   $4, DI
	DECQ   CX
	JMP    mask1

maskdone:
	VZEROUPPER
	RET
