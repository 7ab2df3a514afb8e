#include "textflag.h"

// evenOffsets are the offsets of the even columns of 16 values: 0, 2, ..., 14.
DATA evenOffsets<>+0(SB)/4, $0
DATA evenOffsets<>+4(SB)/4, $2
DATA evenOffsets<>+8(SB)/4, $4
DATA evenOffsets<>+12(SB)/4, $6
DATA evenOffsets<>+16(SB)/4, $8
DATA evenOffsets<>+20(SB)/4, $10
DATA evenOffsets<>+24(SB)/4, $12
DATA evenOffsets<>+28(SB)/4, $14
GLOBL evenOffsets<>(SB), RODATA|NOPTR, $32

// SPLIT loads the 16 values at row and row8 and leaves their even columns in Y2, their odd
// ones in Y3, and in Y0 -1 where the odd is greater (VCMPPS predicate 0x1e, greater-than
// ordered: false for a NaN).
#define SPLIT(row, row8) \
	VMOVUPS row, Y0;           \
	VMOVUPS row8, Y1;          \
	VSHUFPS $0x88, Y1, Y0, Y2; \
	VSHUFPS $0xdd, Y1, Y0, Y3; \
	VPERMPD $0xd8, Y2, Y2;     \
	VPERMPD $0xd8, Y3, Y3;     \
	VCMPPS  $0x1e, Y2, Y3, Y0

// PICK leaves in max the odd column where Y0 says, else the even one, and in off their
// offsets: the even one's (Y14 + base) or one more (the mask, -1, subtracted).
#define PICK(base, max, off) \
	VBLENDVPS Y0, Y3, Y2, max; \
	VPADDD    base, Y14, off;  \
	VPSUBD    Y0, off, off

// func maxPoolRowsAVX2(out *float32, arg *int32, top, bottom *float32, n int, at, width int32)
// Y14 holds the offsets of the current 8 windows' top-left elements, Y13 the width (the
// distance to the bottom row), Y12 16 (the step between blocks of 8 windows).
TEXT ·maxPoolRowsAVX2(SB), NOSPLIT, $0-48
	MOVQ         out+0(FP), DI
	MOVQ         arg+8(FP), DX
	MOVQ         top+16(FP), SI
	MOVQ         bottom+24(FP), BX
	MOVQ         n+32(FP), CX
	MOVL         at+40(FP), AX
	VMOVD        AX, X14
	VPBROADCASTD X14, Y14
	MOVL         width+44(FP), AX
	VMOVD        AX, X13
	VPBROADCASTD X13, Y13
	VPADDD       evenOffsets<>(SB), Y14, Y14
	MOVL         $16, AX
	VMOVD        AX, X12
	VPBROADCASTD X12, Y12
	VPXOR        Y15, Y15, Y15

windows8:
	// The top row's winner is its first element unless the second is greater.
	SPLIT((SI), 32(SI))
	PICK(Y15, Y4, Y5)

	// The bottom row's first element is skipped when it is a NaN (predicate 3, unordered):
	// it can never be greater than the top's winner, but the second element still can.
	SPLIT((BX), 32(BX))
	VCMPPS $3, Y2, Y2, Y1
	VORPS  Y1, Y0, Y0
	PICK(Y13, Y6, Y7)
	VCMPPS    $0x1e, Y4, Y6, Y0
	VBLENDVPS Y0, Y6, Y4, Y4
	VBLENDVPS Y0, Y7, Y5, Y5
	VMOVUPS   Y4, (DI)
	VMOVDQU   Y5, (DX)
	VPADDD    Y12, Y14, Y14
	ADDQ      $64, SI
	ADDQ      $64, BX
	ADDQ      $32, DI
	ADDQ      $32, DX
	SUBQ      $8, CX
	JNZ       windows8
	VZEROUPPER
	RET
