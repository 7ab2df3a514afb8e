#include "textflag.h"

// The forward tile kernels. SI walks the input planes (tap (0,0) of the tile's first output),
// DX is the distance between rows in bytes, so a tap of filter row ky reads ky·DX past SI
// (addressed as (SI)(DX*ky)), and one of column kx 4·kx bytes further. DI walks the packed
// filters, [channel][tap][filter], one tap's filters at a time.

// TAP512 multiplies the 3 input vectors at a0, a1, a2 by the tap's 8 filters (at DI) into
// Z0-Z23 (accumulator 3·m+v for filter m, vector v), then moves DI to the next tap.
#define TAP512(a0, a1, a2) \
	VMOVUPS      a0, Z24;            \
	VMOVUPS      a1, Z25;            \
	VMOVUPS      a2, Z26;            \
	VBROADCASTSS 0(DI), Z27;         \
	VFMADD231PS  Z24, Z27, Z0;       \
	VFMADD231PS  Z25, Z27, Z1;       \
	VFMADD231PS  Z26, Z27, Z2;       \
	VBROADCASTSS 4(DI), Z28;         \
	VFMADD231PS  Z24, Z28, Z3;       \
	VFMADD231PS  Z25, Z28, Z4;       \
	VFMADD231PS  Z26, Z28, Z5;       \
	VBROADCASTSS 8(DI), Z29;         \
	VFMADD231PS  Z24, Z29, Z6;       \
	VFMADD231PS  Z25, Z29, Z7;       \
	VFMADD231PS  Z26, Z29, Z8;       \
	VBROADCASTSS 12(DI), Z30;        \
	VFMADD231PS  Z24, Z30, Z9;       \
	VFMADD231PS  Z25, Z30, Z10;      \
	VFMADD231PS  Z26, Z30, Z11;      \
	VBROADCASTSS 16(DI), Z27;        \
	VFMADD231PS  Z24, Z27, Z12;      \
	VFMADD231PS  Z25, Z27, Z13;      \
	VFMADD231PS  Z26, Z27, Z14;      \
	VBROADCASTSS 20(DI), Z28;        \
	VFMADD231PS  Z24, Z28, Z15;      \
	VFMADD231PS  Z25, Z28, Z16;      \
	VFMADD231PS  Z26, Z28, Z17;      \
	VBROADCASTSS 24(DI), Z29;        \
	VFMADD231PS  Z24, Z29, Z18;      \
	VFMADD231PS  Z25, Z29, Z19;      \
	VFMADD231PS  Z26, Z29, Z20;      \
	VBROADCASTSS 28(DI), Z30;        \
	VFMADD231PS  Z24, Z30, Z21;      \
	VFMADD231PS  Z25, Z30, Z22;      \
	VFMADD231PS  Z26, Z30, Z23;      \
	ADDQ         $32, DI

// STORE512 adds filter m's bias (at AX) to its three vectors (Z a, b, c), writes them at BX,
// and moves AX and BX to the next filter.
#define STORE512(a, b, c) \
	VBROADCASTSS (AX), Z24; \
	VADDPS  Z24, a, a;  \
	VADDPS  Z24, b, b;  \
	VADDPS  Z24, c, c;  \
	ADDQ    $4, AX;     \
	VMOVUPS a, (BX);    \
	VMOVUPS b, 64(BX);  \
	VMOVUPS c, 128(BX); \
	ADDQ    R9, BX

// func forward8x48AVX512(out *float32, outLd int, in *float32, planeLen, rowStride, channels int, w, bias *float32)
TEXT ·forward8x48AVX512(SB), NOSPLIT, $0-64
	MOVQ out+0(FP), BX
	MOVQ outLd+8(FP), R9
	MOVQ in+16(FP), SI
	MOVQ planeLen+24(FP), R8
	MOVQ rowStride+32(FP), DX
	MOVQ channels+40(FP), CX
	MOVQ w+48(FP), DI
	MOVQ bias+56(FP), AX
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

channel512:
	TAP512(0(SI), 64(SI), 128(SI))
	TAP512(4(SI), 68(SI), 132(SI))
	TAP512(8(SI), 72(SI), 136(SI))
	TAP512(0(SI)(DX*1), 64(SI)(DX*1), 128(SI)(DX*1))
	TAP512(4(SI)(DX*1), 68(SI)(DX*1), 132(SI)(DX*1))
	TAP512(8(SI)(DX*1), 72(SI)(DX*1), 136(SI)(DX*1))
	TAP512(0(SI)(DX*2), 64(SI)(DX*2), 128(SI)(DX*2))
	TAP512(4(SI)(DX*2), 68(SI)(DX*2), 132(SI)(DX*2))
	TAP512(8(SI)(DX*2), 72(SI)(DX*2), 136(SI)(DX*2))
	ADDQ R8, SI
	DECQ CX
	JNZ  channel512

	STORE512(Z0, Z1, Z2)
	STORE512(Z3, Z4, Z5)
	STORE512(Z6, Z7, Z8)
	STORE512(Z9, Z10, Z11)
	STORE512(Z12, Z13, Z14)
	STORE512(Z15, Z16, Z17)
	STORE512(Z18, Z19, Z20)
	STORE512(Z21, Z22, Z23)
	VZEROUPPER
	RET

// TAP2 multiplies the 3 input vectors at a0, a1, a2 by the tap's 4 filters (at DI) into
// Y0-Y11 (accumulator 3·m+v), then moves DI to the next tap.
#define TAP2(a0, a1, a2) \
	VMOVUPS      a0, Y12;       \
	VMOVUPS      a1, Y13;       \
	VMOVUPS      a2, Y14;       \
	VBROADCASTSS 0(DI), Y15;    \
	VFMADD231PS  Y12, Y15, Y0;  \
	VFMADD231PS  Y13, Y15, Y1;  \
	VFMADD231PS  Y14, Y15, Y2;  \
	VBROADCASTSS 4(DI), Y15;    \
	VFMADD231PS  Y12, Y15, Y3;  \
	VFMADD231PS  Y13, Y15, Y4;  \
	VFMADD231PS  Y14, Y15, Y5;  \
	VBROADCASTSS 8(DI), Y15;    \
	VFMADD231PS  Y12, Y15, Y6;  \
	VFMADD231PS  Y13, Y15, Y7;  \
	VFMADD231PS  Y14, Y15, Y8;  \
	VBROADCASTSS 12(DI), Y15;   \
	VFMADD231PS  Y12, Y15, Y9;  \
	VFMADD231PS  Y13, Y15, Y10; \
	VFMADD231PS  Y14, Y15, Y11; \
	ADDQ         $16, DI

#define STORE2(a, b, c) \
	VBROADCASTSS (AX), Y12; \
	VADDPS  Y12, a, a; \
	VADDPS  Y12, b, b; \
	VADDPS  Y12, c, c; \
	ADDQ    $4, AX;    \
	VMOVUPS a, (BX);   \
	VMOVUPS b, 32(BX); \
	VMOVUPS c, 64(BX); \
	ADDQ    R9, BX

// func forward4x24AVX2(out *float32, outLd int, in *float32, planeLen, rowStride, channels int, w, bias *float32)
TEXT ·forward4x24AVX2(SB), NOSPLIT, $0-64
	MOVQ out+0(FP), BX
	MOVQ outLd+8(FP), R9
	MOVQ in+16(FP), SI
	MOVQ planeLen+24(FP), R8
	MOVQ rowStride+32(FP), DX
	MOVQ channels+40(FP), CX
	MOVQ w+48(FP), DI
	MOVQ bias+56(FP), AX
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

channel2:
	TAP2(0(SI), 32(SI), 64(SI))
	TAP2(4(SI), 36(SI), 68(SI))
	TAP2(8(SI), 40(SI), 72(SI))
	TAP2(0(SI)(DX*1), 32(SI)(DX*1), 64(SI)(DX*1))
	TAP2(4(SI)(DX*1), 36(SI)(DX*1), 68(SI)(DX*1))
	TAP2(8(SI)(DX*1), 40(SI)(DX*1), 72(SI)(DX*1))
	TAP2(0(SI)(DX*2), 32(SI)(DX*2), 64(SI)(DX*2))
	TAP2(4(SI)(DX*2), 36(SI)(DX*2), 68(SI)(DX*2))
	TAP2(8(SI)(DX*2), 40(SI)(DX*2), 72(SI)(DX*2))
	ADDQ R8, SI
	DECQ CX
	JNZ  channel2

	STORE2(Y0, Y1, Y2)
	STORE2(Y3, Y4, Y5)
	STORE2(Y6, Y7, Y8)
	STORE2(Y9, Y10, Y11)
	VZEROUPPER
	RET
