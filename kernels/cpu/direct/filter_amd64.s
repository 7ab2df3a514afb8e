#include "textflag.h"

// The weight-gradient kernels. DI walks a row of the input, SI (and R8, 4 rows further) the
// rows of the output gradient, DX bytes apart (R10 = 3·DX); each step adds, for every filter
// m and tap kx, the lane-wise products of m's gradient vector and the input vector kx floats
// further on into a vector of partial sums, kept in registers and in acc between calls.

// ROW512 multiplies the gradient vector at a by the 3 input vectors (Z24-Z26) into Z p, q, r.
#define ROW512(a, g, p, q, r) \
	VMOVUPS     a, g;       \
	VFMADD231PS Z24, g, p;  \
	VFMADD231PS Z25, g, q;  \
	VFMADD231PS Z26, g, r

// func filter8x3AVX512(acc, dy *float32, dyLd int, x *float32, n int)
TEXT ·filter8x3AVX512(SB), NOSPLIT, $0-40
	MOVQ acc+0(FP), AX
	MOVQ dy+8(FP), SI
	MOVQ dyLd+16(FP), DX
	MOVQ x+24(FP), DI
	MOVQ n+32(FP), CX
	SHRQ $4, CX
	LEAQ (DX)(DX*2), R10
	LEAQ (SI)(DX*4), R8
	VMOVUPS 0(AX), Z0
	VMOVUPS 64(AX), Z1
	VMOVUPS 128(AX), Z2
	VMOVUPS 192(AX), Z3
	VMOVUPS 256(AX), Z4
	VMOVUPS 320(AX), Z5
	VMOVUPS 384(AX), Z6
	VMOVUPS 448(AX), Z7
	VMOVUPS 512(AX), Z8
	VMOVUPS 576(AX), Z9
	VMOVUPS 640(AX), Z10
	VMOVUPS 704(AX), Z11
	VMOVUPS 768(AX), Z12
	VMOVUPS 832(AX), Z13
	VMOVUPS 896(AX), Z14
	VMOVUPS 960(AX), Z15
	VMOVUPS 1024(AX), Z16
	VMOVUPS 1088(AX), Z17
	VMOVUPS 1152(AX), Z18
	VMOVUPS 1216(AX), Z19
	VMOVUPS 1280(AX), Z20
	VMOVUPS 1344(AX), Z21
	VMOVUPS 1408(AX), Z22
	VMOVUPS 1472(AX), Z23

step512:
	VMOVUPS 0(DI), Z24
	VMOVUPS 4(DI), Z25
	VMOVUPS 8(DI), Z26
	ROW512((SI), Z27, Z0, Z1, Z2)
	ROW512((SI)(DX*1), Z28, Z3, Z4, Z5)
	ROW512((SI)(DX*2), Z29, Z6, Z7, Z8)
	ROW512((SI)(R10*1), Z30, Z9, Z10, Z11)
	ROW512((R8), Z27, Z12, Z13, Z14)
	ROW512((R8)(DX*1), Z28, Z15, Z16, Z17)
	ROW512((R8)(DX*2), Z29, Z18, Z19, Z20)
	ROW512((R8)(R10*1), Z30, Z21, Z22, Z23)
	ADDQ $64, DI
	ADDQ $64, SI
	ADDQ $64, R8
	DECQ CX
	JNZ  step512

	VMOVUPS Z0, 0(AX)
	VMOVUPS Z1, 64(AX)
	VMOVUPS Z2, 128(AX)
	VMOVUPS Z3, 192(AX)
	VMOVUPS Z4, 256(AX)
	VMOVUPS Z5, 320(AX)
	VMOVUPS Z6, 384(AX)
	VMOVUPS Z7, 448(AX)
	VMOVUPS Z8, 512(AX)
	VMOVUPS Z9, 576(AX)
	VMOVUPS Z10, 640(AX)
	VMOVUPS Z11, 704(AX)
	VMOVUPS Z12, 768(AX)
	VMOVUPS Z13, 832(AX)
	VMOVUPS Z14, 896(AX)
	VMOVUPS Z15, 960(AX)
	VMOVUPS Z16, 1024(AX)
	VMOVUPS Z17, 1088(AX)
	VMOVUPS Z18, 1152(AX)
	VMOVUPS Z19, 1216(AX)
	VMOVUPS Z20, 1280(AX)
	VMOVUPS Z21, 1344(AX)
	VMOVUPS Z22, 1408(AX)
	VMOVUPS Z23, 1472(AX)
	VZEROUPPER
	RET

// ROW2 multiplies the gradient vector at a by the 3 input vectors (Y12-Y14) into Y p, q, r.
#define ROW2(a, p, q, r) \
	VMOVUPS     a, Y15;      \
	VFMADD231PS Y12, Y15, p; \
	VFMADD231PS Y13, Y15, q; \
	VFMADD231PS Y14, Y15, r

// func filter4x3AVX2(acc, dy *float32, dyLd int, x *float32, n int)
TEXT ·filter4x3AVX2(SB), NOSPLIT, $0-40
	MOVQ acc+0(FP), AX
	MOVQ dy+8(FP), SI
	MOVQ dyLd+16(FP), DX
	MOVQ x+24(FP), DI
	MOVQ n+32(FP), CX
	SHRQ $3, CX
	LEAQ (DX)(DX*2), R10
	VMOVUPS 0(AX), Y0
	VMOVUPS 32(AX), Y1
	VMOVUPS 64(AX), Y2
	VMOVUPS 96(AX), Y3
	VMOVUPS 128(AX), Y4
	VMOVUPS 160(AX), Y5
	VMOVUPS 192(AX), Y6
	VMOVUPS 224(AX), Y7
	VMOVUPS 256(AX), Y8
	VMOVUPS 288(AX), Y9
	VMOVUPS 320(AX), Y10
	VMOVUPS 352(AX), Y11

step2:
	VMOVUPS 0(DI), Y12
	VMOVUPS 4(DI), Y13
	VMOVUPS 8(DI), Y14
	ROW2((SI), Y0, Y1, Y2)
	ROW2((SI)(DX*1), Y3, Y4, Y5)
	ROW2((SI)(DX*2), Y6, Y7, Y8)
	ROW2((SI)(R10*1), Y9, Y10, Y11)
	ADDQ $32, DI
	ADDQ $32, SI
	DECQ CX
	JNZ  step2

	VMOVUPS Y0, 0(AX)
	VMOVUPS Y1, 32(AX)
	VMOVUPS Y2, 64(AX)
	VMOVUPS Y3, 96(AX)
	VMOVUPS Y4, 128(AX)
	VMOVUPS Y5, 160(AX)
	VMOVUPS Y6, 192(AX)
	VMOVUPS Y7, 224(AX)
	VMOVUPS Y8, 256(AX)
	VMOVUPS Y9, 288(AX)
	VMOVUPS Y10, 320(AX)
	VMOVUPS Y11, 352(AX)
	VZEROUPPER
	RET

// func sumLanes16AVX512(dst, src *float32, groups int)
// dst[i] = the sum of the 16 floats src[16i:16i+16]: halves added down to one lane.
TEXT ·sumLanes16AVX512(SB), NOSPLIT, $0-24
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ groups+16(FP), CX

group16:
	VMOVUPS       (SI), Z0
	VEXTRACTF64X4 $1, Z0, Y1
	VADDPS        Y1, Y0, Y0
	VEXTRACTF128  $1, Y0, X1
	VADDPS        X1, X0, X0
	VHADDPS       X0, X0, X0
	VHADDPS       X0, X0, X0
	VMOVSS        X0, (DI)
	ADDQ          $64, SI
	ADDQ          $4, DI
	DECQ          CX
	JNZ           group16
	VZEROUPPER
	RET

// func sumLanes8AVX2(dst, src *float32, groups int)
// dst[i] = the sum of the 8 floats src[8i:8i+8].
TEXT ·sumLanes8AVX2(SB), NOSPLIT, $0-24
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ groups+16(FP), CX

group8:
	VMOVUPS      (SI), Y0
	VEXTRACTF128 $1, Y0, X1
	VADDPS       X1, X0, X0
	VHADDPS      X0, X0, X0
	VHADDPS      X0, X0, X0
	VMOVSS       X0, (DI)
	ADDQ         $32, SI
	ADDQ         $4, DI
	DECQ         CX
	JNZ          group8
	VZEROUPPER
	RET
