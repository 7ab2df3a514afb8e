#include "textflag.h"

// func transpose8AVX2(dst *float32, dstLd, dstStep int, src *float32, srcLd, srcStep, n int)
// For b < n: dst[b·dstStep + j·dstLd + i] = src[b·srcStep + i·srcLd + j], i, j < 8: n 8x8
// blocks transposed, each in 8 loads, 24 shuffles and 8 stores (unpacks of floats, shuffles
// of pairs, exchanges of halves).
TEXT ·transpose8AVX2(SB), NOSPLIT, $0-56
	MOVQ dst+0(FP), DI
	MOVQ dstLd+8(FP), R8
	SHLQ $2, R8
	MOVQ dstStep+16(FP), R9
	SHLQ $2, R9
	MOVQ src+24(FP), SI
	MOVQ srcLd+32(FP), R10
	SHLQ $2, R10
	MOVQ srcStep+40(FP), R11
	SHLQ $2, R11
	MOVQ n+48(FP), CX

transposeBlock:
	MOVQ       SI, AX
	VMOVUPS    (AX), Y0
	ADDQ       R10, AX
	VMOVUPS    (AX), Y1
	ADDQ       R10, AX
	VMOVUPS    (AX), Y2
	ADDQ       R10, AX
	VMOVUPS    (AX), Y3
	ADDQ       R10, AX
	VMOVUPS    (AX), Y4
	ADDQ       R10, AX
	VMOVUPS    (AX), Y5
	ADDQ       R10, AX
	VMOVUPS    (AX), Y6
	ADDQ       R10, AX
	VMOVUPS    (AX), Y7
	VUNPCKLPS  Y1, Y0, Y8
	VUNPCKHPS  Y1, Y0, Y9
	VUNPCKLPS  Y3, Y2, Y10
	VUNPCKHPS  Y3, Y2, Y11
	VUNPCKLPS  Y5, Y4, Y12
	VUNPCKHPS  Y5, Y4, Y13
	VUNPCKLPS  Y7, Y6, Y14
	VUNPCKHPS  Y7, Y6, Y15
	VSHUFPS    $0x44, Y10, Y8, Y0
	VSHUFPS    $0xEE, Y10, Y8, Y1
	VSHUFPS    $0x44, Y11, Y9, Y2
	VSHUFPS    $0xEE, Y11, Y9, Y3
	VSHUFPS    $0x44, Y14, Y12, Y4
	VSHUFPS    $0xEE, Y14, Y12, Y5
	VSHUFPS    $0x44, Y15, Y13, Y6
	VSHUFPS    $0xEE, Y15, Y13, Y7
	VPERM2F128 $0x20, Y4, Y0, Y8
	VPERM2F128 $0x20, Y5, Y1, Y9
	VPERM2F128 $0x20, Y6, Y2, Y10
	VPERM2F128 $0x20, Y7, Y3, Y11
	VPERM2F128 $0x31, Y4, Y0, Y12
	VPERM2F128 $0x31, Y5, Y1, Y13
	VPERM2F128 $0x31, Y6, Y2, Y14
	VPERM2F128 $0x31, Y7, Y3, Y15
	MOVQ       DI, AX
	VMOVUPS    Y8, (AX)
	ADDQ       R8, AX
	VMOVUPS    Y9, (AX)
	ADDQ       R8, AX
	VMOVUPS    Y10, (AX)
	ADDQ       R8, AX
	VMOVUPS    Y11, (AX)
	ADDQ       R8, AX
	VMOVUPS    Y12, (AX)
	ADDQ       R8, AX
	VMOVUPS    Y13, (AX)
	ADDQ       R8, AX
	VMOVUPS    Y14, (AX)
	ADDQ       R8, AX
	VMOVUPS    Y15, (AX)
	ADDQ       R9, DI
	ADDQ       R11, SI
	DECQ       CX
	JNZ        transposeBlock
	VZEROUPPER
	RET
