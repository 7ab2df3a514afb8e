#include "textflag.h"

// BROADCAST(bits, x, y): every lane of y = the float32 whose bits are given; AX is clobbered.
#define BROADCAST(bits, x, y) \
	MOVL         $bits, AX \
	VMOVD        AX, x     \
	VBROADCASTSS x, y

// The Winograd F(4x4, 3x3) transforms (winograd.go) in AVX2, eight tiles at a time, one tile
// per lane: every step of a transform is one vector operation on the same element of eight
// tiles, so nothing is shuffled. Each 2-D transform is the 1-D one applied down the columns,
// then along the rows. Then the moves into and out of the stages: patches gathered (or, side
// by side in a row, loaded and unpacked), results unpacked into rows and stored.

// DATA_1D: Y6..Y11 = Bᵀ (Y0..Y5), with Y13 = 4, Y14 = 5, Y15 = 2; Y12 is clobbered.
//   v0 = 4d0 - 5d2 + d4          v3 = (d4 - d2) + 2(d3 - d1)
//   v1 = (d3 + d4) - 4(d1 + d2)  v4 = (d4 - d2) - 2(d3 - d1)
//   v2 = (d4 - d3) + 4(d1 - d2)  v5 = 4d1 - 5d3 + d5
#define DATA_1D \
	VMOVAPS      Y4, Y6        \
	VFNMADD231PS Y14, Y2, Y6   \
	VFMADD231PS  Y13, Y0, Y6   \
	VMOVAPS      Y5, Y11       \
	VFNMADD231PS Y14, Y3, Y11  \
	VFMADD231PS  Y13, Y1, Y11  \
	VADDPS       Y2, Y1, Y12   \
	VADDPS       Y4, Y3, Y7    \
	VFNMADD231PS Y13, Y12, Y7  \
	VSUBPS       Y2, Y1, Y12   \
	VSUBPS       Y3, Y4, Y8    \
	VFMADD231PS  Y13, Y12, Y8  \
	VSUBPS       Y1, Y3, Y12   \
	VSUBPS       Y2, Y4, Y9    \
	VMOVAPS      Y9, Y10       \
	VFMADD231PS  Y15, Y12, Y9  \
	VFNMADD231PS Y15, Y12, Y10

// Rows of the input stage are 32 floats (128 bytes) apart.
#define LOAD6(a, b, c, d, e, f, base) \
	VMOVUPS ((a)*128)(base), Y0 \
	VMOVUPS ((b)*128)(base), Y1 \
	VMOVUPS ((c)*128)(base), Y2 \
	VMOVUPS ((d)*128)(base), Y3 \
	VMOVUPS ((e)*128)(base), Y4 \
	VMOVUPS ((f)*128)(base), Y5

#define STORE6(a, b, c, d, e, f, base) \
	VMOVUPS Y6, ((a)*128)(base)  \
	VMOVUPS Y7, ((b)*128)(base)  \
	VMOVUPS Y8, ((c)*128)(base)  \
	VMOVUPS Y9, ((d)*128)(base)  \
	VMOVUPS Y10, ((e)*128)(base) \
	VMOVUPS Y11, ((f)*128)(base)

// DATA_COLUMN(j): column j of eight 6x6 patches, in place.
#define DATA_COLUMN(j) \
	LOAD6(j, j+6, j+12, j+18, j+24, j+30, SI) \
	DATA_1D                                   \
	STORE6(j, j+6, j+12, j+18, j+24, j+30, SI)

// DATA_ROW(i): row i, its six results to the next six rows of v (R10, stride R8 bytes).
#define DATA_ROW(i) \
	LOAD6((i)*6, (i)*6+1, (i)*6+2, (i)*6+3, (i)*6+4, (i)*6+5, SI) \
	DATA_1D                  \
	VMOVUPS Y6, (R10)        \
	ADDQ    R8, R10          \
	VMOVUPS Y7, (R10)        \
	ADDQ    R8, R10          \
	VMOVUPS Y8, (R10)        \
	ADDQ    R8, R10          \
	VMOVUPS Y9, (R10)        \
	ADDQ    R8, R10          \
	VMOVUPS Y10, (R10)       \
	ADDQ    R8, R10          \
	VMOVUPS Y11, (R10)       \
	ADDQ    R8, R10

// func dataAVX2(v *float32, stride int, s *float32, lanes int)
// v[ξ·stride + t] = (Bᵀ d B)_ξ of patch t, whose element ξ is s[ξ·32 + t], for t < lanes (a
// positive multiple of 8); s is overwritten. 12 transforms of 17 operations per 8 tiles.
TEXT ·dataAVX2(SB), NOSPLIT, $0-32
	MOVQ v+0(FP), DI
	MOVQ stride+8(FP), R8
	SHLQ $2, R8
	MOVQ s+16(FP), SI
	MOVQ lanes+24(FP), CX
	BROADCAST(0x40800000, X13, Y13) // 4
	BROADCAST(0x40a00000, X14, Y14) // 5
	BROADCAST(0x40000000, X15, Y15) // 2

dataGroup:
	DATA_COLUMN(0)
	DATA_COLUMN(1)
	DATA_COLUMN(2)
	DATA_COLUMN(3)
	DATA_COLUMN(4)
	DATA_COLUMN(5)
	MOVQ DI, R10
	DATA_ROW(0)
	DATA_ROW(1)
	DATA_ROW(2)
	DATA_ROW(3)
	DATA_ROW(4)
	DATA_ROW(5)
	ADDQ $32, SI
	ADDQ $32, DI
	SUBQ $8, CX
	JG   dataGroup
	VZEROUPPER
	RET

// RESULT_1D: Y6..Y9 = Aᵀ (Y0..Y5), with Y13 = 4, Y14 = 8, Y15 = 2; Y3, Y10..Y12 clobbered.
//   y0 = p0 + (p1 + p2) + (p3 + p4)   y2 = (p1 + p2) + 4(p3 + p4)
//   y1 = (p1 - p2) + 2(p3 - p4)       y3 = (p1 - p2) + p5 + 8(p3 - p4)
#define RESULT_1D \
	VADDPS      Y2, Y1, Y10  \
	VSUBPS      Y2, Y1, Y11  \
	VADDPS      Y4, Y3, Y12  \
	VSUBPS      Y4, Y3, Y3   \
	VADDPS      Y10, Y0, Y6  \
	VADDPS      Y12, Y6, Y6  \
	VMOVAPS     Y11, Y7      \
	VFMADD231PS Y15, Y3, Y7  \
	VMOVAPS     Y10, Y8      \
	VFMADD231PS Y13, Y12, Y8 \
	VADDPS      Y5, Y11, Y9  \
	VFMADD231PS Y14, Y3, Y9

// RESULT_ROW(i): row i of eight 6x6 product tiles, read from the next six rows of m (R10,
// stride R8 bytes), times A into rows 16+4i .. 19+4i of the output stage.
#define RESULT_ROW(i) \
	VMOVUPS (R10), Y0 \
	ADDQ    R8, R10   \
	VMOVUPS (R10), Y1 \
	ADDQ    R8, R10   \
	VMOVUPS (R10), Y2 \
	ADDQ    R8, R10   \
	VMOVUPS (R10), Y3 \
	ADDQ    R8, R10   \
	VMOVUPS (R10), Y4 \
	ADDQ    R8, R10   \
	VMOVUPS (R10), Y5 \
	ADDQ    R8, R10   \
	RESULT_1D         \
	VMOVUPS Y6, ((16+(i)*4)*128)(DI) \
	VMOVUPS Y7, ((17+(i)*4)*128)(DI) \
	VMOVUPS Y8, ((18+(i)*4)*128)(DI) \
	VMOVUPS Y9, ((19+(i)*4)*128)(DI)

// RESULT_COLUMN(c): column c of those rows, Aᵀ times it plus the bias (broadcast in Y12
// after the transform from (R11)), into output rows c, 4+c, 8+c, 12+c.
#define RESULT_COLUMN(c) \
	LOAD6(16+c, 20+c, 24+c, 28+c, 32+c, 36+c, DI) \
	RESULT_1D                      \
	VBROADCASTSS (R11), Y12        \
	VADDPS  Y12, Y6, Y6            \
	VADDPS  Y12, Y7, Y7            \
	VADDPS  Y12, Y8, Y8            \
	VADDPS  Y12, Y9, Y9            \
	VMOVUPS Y6, ((c)*128)(DI)        \
	VMOVUPS Y7, ((4+(c))*128)(DI)    \
	VMOVUPS Y8, ((8+(c))*128)(DI)    \
	VMOVUPS Y9, ((12+(c))*128)(DI)

// func resultAVX2(o *float32, m *float32, stride int, lanes int, bias float32)
// o[(r·4+c)·32 + t] = (Aᵀ P A)[r][c] + bias for the products P of tile t, element ξ at
// m[ξ·stride + t], for t < lanes (a positive multiple of 8); rows 16 to 39 of o are scratch.
// 10 transforms of 12 operations per 8 tiles.
TEXT ·resultAVX2(SB), NOSPLIT, $0-36
	MOVQ o+0(FP), DI
	MOVQ m+8(FP), SI
	MOVQ stride+16(FP), R8
	SHLQ $2, R8
	MOVQ lanes+24(FP), CX
	LEAQ bias+32(FP), R11
	BROADCAST(0x40800000, X13, Y13) // 4
	BROADCAST(0x41000000, X14, Y14) // 8
	BROADCAST(0x40000000, X15, Y15) // 2

resultGroup:
	MOVQ SI, R10
	RESULT_ROW(0)
	RESULT_ROW(1)
	RESULT_ROW(2)
	RESULT_ROW(3)
	RESULT_ROW(4)
	RESULT_ROW(5)
	RESULT_COLUMN(0)
	RESULT_COLUMN(1)
	RESULT_COLUMN(2)
	RESULT_COLUMN(3)
	ADDQ $32, SI
	ADDQ $32, DI
	SUBQ $8, CX
	JG   resultGroup
	VZEROUPPER
	RET

// GATHER_ROW(r): row r of eight 6x6 patches, from the planes at BX + the patches' offsets
// (Y15, in floats), into stage rows 6r .. 6r+5; BX moves on to the next row (R8 bytes).
// Six gathers in flight, each with its own mask (a gather clears its mask).
#define GATHER_ROW(r) \
	VPCMPEQD   Y6, Y6, Y6                     \
	VPCMPEQD   Y7, Y7, Y7                     \
	VPCMPEQD   Y8, Y8, Y8                     \
	VPCMPEQD   Y9, Y9, Y9                     \
	VPCMPEQD   Y10, Y10, Y10                  \
	VPCMPEQD   Y11, Y11, Y11                  \
	VGATHERDPS Y6, 0(BX)(Y15*4), Y0           \
	VGATHERDPS Y7, 4(BX)(Y15*4), Y1           \
	VGATHERDPS Y8, 8(BX)(Y15*4), Y2           \
	VGATHERDPS Y9, 12(BX)(Y15*4), Y3          \
	VGATHERDPS Y10, 16(BX)(Y15*4), Y4         \
	VGATHERDPS Y11, 20(BX)(Y15*4), Y5         \
	VMOVUPS    Y0, (((r)*6)*128)(DI)          \
	VMOVUPS    Y1, (((r)*6+1)*128)(DI)        \
	VMOVUPS    Y2, (((r)*6+2)*128)(DI)        \
	VMOVUPS    Y3, (((r)*6+3)*128)(DI)        \
	VMOVUPS    Y4, (((r)*6+4)*128)(DI)        \
	VMOVUPS    Y5, (((r)*6+5)*128)(DI)        \
	ADDQ       R8, BX

// func gatherAVX2(s *float32, plane *float32, offsets *int32, rowStride int, lanes int)
// s[(r·6+c)·32 + t] = plane[offsets[t] + r·rowStride + c] for t < lanes (a positive multiple
// of 8): 36 gathers per 8 tiles.
TEXT ·gatherAVX2(SB), NOSPLIT, $0-40
	MOVQ s+0(FP), DI
	MOVQ plane+8(FP), SI
	MOVQ offsets+16(FP), DX
	MOVQ rowStride+24(FP), R8
	SHLQ $2, R8
	MOVQ lanes+32(FP), CX

gatherGroup:
	VMOVDQU (DX), Y15
	MOVQ    SI, BX
	GATHER_ROW(0)
	GATHER_ROW(1)
	GATHER_ROW(2)
	GATHER_ROW(3)
	GATHER_ROW(4)
	GATHER_ROW(5)
	ADDQ    $32, DI
	ADDQ    $32, DX
	SUBQ    $8, CX
	JG      gatherGroup
	VZEROUPPER
	RET

// SCATTER_QUAD(i, half, reg): tile i's four results of the row, lane half `half` of reg,
// to out + offsets[i] (floats) + R10 (the row's bytes).
#define SCATTER_LOW(i, reg) \
	MOVLQSX ((i)*4)(DX), AX           \
	LEAQ    (SI)(AX*4), AX            \
	VMOVUPS reg, (AX)(R10*1)

#define SCATTER_HIGH(i, xreg, yreg) \
	MOVLQSX      ((i)*4)(DX), AX      \
	LEAQ         (SI)(AX*4), AX       \
	VEXTRACTF128 $1, yreg, (AX)(R10*1)

// SCATTER_ROW(r): row r of eight 4x4 results, stage rows 4r .. 4r+3 (one vector per column,
// eight tiles each) turned into one 4-float row per tile, stored where the tile lies.
#define SCATTER_ROW(r) \
	VMOVUPS   (((r)*4)*128)(DI), Y0    \
	VMOVUPS   (((r)*4+1)*128)(DI), Y1  \
	VMOVUPS   (((r)*4+2)*128)(DI), Y2  \
	VMOVUPS   (((r)*4+3)*128)(DI), Y3  \
	VUNPCKLPS Y1, Y0, Y4               \
	VUNPCKHPS Y1, Y0, Y5               \
	VUNPCKLPS Y3, Y2, Y6               \
	VUNPCKHPS Y3, Y2, Y7               \
	VUNPCKLPD Y6, Y4, Y8               \
	VUNPCKHPD Y6, Y4, Y9               \
	VUNPCKLPD Y7, Y5, Y10              \
	VUNPCKHPD Y7, Y5, Y11              \
	SCATTER_LOW(0, X8)                 \
	SCATTER_LOW(1, X9)                 \
	SCATTER_LOW(2, X10)                \
	SCATTER_LOW(3, X11)                \
	SCATTER_HIGH(4, X8, Y8)            \
	SCATTER_HIGH(5, X9, Y9)            \
	SCATTER_HIGH(6, X10, Y10)          \
	SCATTER_HIGH(7, X11, Y11)          \
	ADDQ      R8, R10

// func scatterAVX2(out *float32, o *float32, offsets *int32, width int, groups int)
// out[offsets[t] + r·width + c] = o[(r·4+c)·32 + t] for the 8·groups tiles t: per 8 tiles
// and row, 8 unpacks turn 4 vectors of columns into 8 rows of 4.
TEXT ·scatterAVX2(SB), NOSPLIT, $0-40
	MOVQ out+0(FP), SI
	MOVQ o+8(FP), DI
	MOVQ offsets+16(FP), DX
	MOVQ width+24(FP), R8
	SHLQ $2, R8
	MOVQ groups+32(FP), CX

scatterGroup:
	XORQ R10, R10
	SCATTER_ROW(0)
	SCATTER_ROW(1)
	SCATTER_ROW(2)
	SCATTER_ROW(3)
	ADDQ $32, DI
	ADDQ $32, DX
	DECQ CX
	JNZ  scatterGroup
	VZEROUPPER
	RET

// tileOrder puts back in tile order the lanes that the unpacks of QUAD leave as tiles
// 0, 2, 4, 6, 1, 3, 5, 7.
DATA tileOrder<>+0(SB)/4, $0
DATA tileOrder<>+4(SB)/4, $4
DATA tileOrder<>+8(SB)/4, $1
DATA tileOrder<>+12(SB)/4, $5
DATA tileOrder<>+16(SB)/4, $2
DATA tileOrder<>+20(SB)/4, $6
DATA tileOrder<>+24(SB)/4, $3
DATA tileOrder<>+28(SB)/4, $7
GLOBL tileOrder<>(SB), RODATA|NOPTR, $32

// QUAD(off): for eight tiles side by side, 4 floats apart from off(BX) on, Y8..Y11 = the
// tiles' columns 0 to 3 (lane t: x[off + 4t + c]), from 32 floats: a 4x4 transpose in each
// half (unpacks of floats, then of pairs), then Y15 (tileOrder) restores the tile order.
#define QUAD(off) \
	VMOVUPS   (off)(BX), Y0                 \
	VMOVUPS   (off+32)(BX), Y1              \
	VMOVUPS   (off+64)(BX), Y2              \
	VMOVUPS   (off+96)(BX), Y3              \
	VUNPCKLPS Y1, Y0, Y4                    \
	VUNPCKHPS Y1, Y0, Y5                    \
	VUNPCKLPS Y3, Y2, Y6                    \
	VUNPCKHPS Y3, Y2, Y7                    \
	VUNPCKLPD Y6, Y4, Y8                    \
	VUNPCKHPD Y6, Y4, Y9                    \
	VUNPCKLPD Y7, Y5, Y10                   \
	VUNPCKHPD Y7, Y5, Y11                   \
	VPERMPS   Y8, Y15, Y8                   \
	VPERMPS   Y9, Y15, Y9                   \
	VPERMPS   Y10, Y15, Y10                 \
	VPERMPS   Y11, Y15, Y11

// ROW_PATCHES(r): row r of the patches of eight tiles side by side in one image row, whose
// row starts at BX: element c of tile t is x[4t + c]. Columns 0-3 come from x[0..31],
// columns 4 and 5 from x[4..35] (the first two of that QUAD). Into stage rows 6r .. 6r+5.
#define ROW_PATCHES(r) \
	QUAD(0)                                 \
	VMOVUPS   Y8, (((r)*6)*128)(DI)         \
	VMOVUPS   Y9, (((r)*6+1)*128)(DI)       \
	VMOVUPS   Y10, (((r)*6+2)*128)(DI)      \
	VMOVUPS   Y11, (((r)*6+3)*128)(DI)      \
	QUAD(16)                                \
	VMOVUPS   Y8, (((r)*6+4)*128)(DI)       \
	VMOVUPS   Y9, (((r)*6+5)*128)(DI)       \
	ADDQ      R8, BX

// func rowAVX2(s *float32, x *float32, rowStride int)
// s[(r·6+c)·32 + t] = x[r·rowStride + 4t + c] for t < 8: the patches of eight tiles in a row,
// reading x[r·rowStride .. r·rowStride+35]. 6 rows of 8 loads, 16 unpacks, 8 permutes.
TEXT ·rowAVX2(SB), NOSPLIT, $0-24
	MOVQ    s+0(FP), DI
	MOVQ    x+8(FP), BX
	MOVQ    rowStride+16(FP), R8
	SHLQ    $2, R8
	VMOVDQU tileOrder<>(SB), Y15
	ROW_PATCHES(0)
	ROW_PATCHES(1)
	ROW_PATCHES(2)
	ROW_PATCHES(3)
	ROW_PATCHES(4)
	ROW_PATCHES(5)
	VZEROUPPER
	RET

// GRAD_1D: Y6..Y11 = A (Y0..Y3), with Y13 = 4, Y15 = 2; Y12 and Y14 clobbered.
//   e0 = y0                     e3 = (y0 + 4y2) + 2(y1 + 4y3)
//   e1 = (y0 + y2) + (y1 + y3)  e4 = (y0 + 4y2) - 2(y1 + 4y3)
//   e2 = (y0 + y2) - (y1 + y3)  e5 = y3
#define GRAD_1D \
	VMOVAPS      Y0, Y6       \
	VMOVAPS      Y3, Y11      \
	VADDPS       Y2, Y0, Y12  \
	VADDPS       Y3, Y1, Y14  \
	VADDPS       Y14, Y12, Y7 \
	VSUBPS       Y14, Y12, Y8 \
	VMOVAPS      Y0, Y9       \
	VFMADD231PS  Y13, Y2, Y9  \
	VMOVAPS      Y1, Y12      \
	VFMADD231PS  Y13, Y3, Y12 \
	VMOVAPS      Y9, Y10      \
	VFMADD231PS  Y15, Y12, Y9 \
	VFNMADD231PS Y15, Y12, Y10

// GRAD_COLUMN(c): column c of eight 4x4 tiles (stage rows c, 4+c, 8+c, 12+c), times A into
// stage rows 16+c, 20+c, ..., 36+c.
#define GRAD_COLUMN(c) \
	VMOVUPS ((c)*128)(SI), Y0         \
	VMOVUPS ((4+(c))*128)(SI), Y1     \
	VMOVUPS ((8+(c))*128)(SI), Y2     \
	VMOVUPS ((12+(c))*128)(SI), Y3    \
	GRAD_1D                           \
	STORE6(16+(c), 20+(c), 24+(c), 28+(c), 32+(c), 36+(c), SI)

// GRAD_ROW(i): row i of those (stage rows 16+4i .. 19+4i), times A, to the next six rows of
// v (R10, stride R8 bytes).
#define GRAD_ROW(i) \
	VMOVUPS ((16+(i)*4)*128)(SI), Y0  \
	VMOVUPS ((17+(i)*4)*128)(SI), Y1  \
	VMOVUPS ((18+(i)*4)*128)(SI), Y2  \
	VMOVUPS ((19+(i)*4)*128)(SI), Y3  \
	GRAD_1D                  \
	VMOVUPS Y6, (R10)        \
	ADDQ    R8, R10          \
	VMOVUPS Y7, (R10)        \
	ADDQ    R8, R10          \
	VMOVUPS Y8, (R10)        \
	ADDQ    R8, R10          \
	VMOVUPS Y9, (R10)        \
	ADDQ    R8, R10          \
	VMOVUPS Y10, (R10)       \
	ADDQ    R8, R10          \
	VMOVUPS Y11, (R10)       \
	ADDQ    R8, R10

// func gradAVX2(v *float32, stride int, s *float32, lanes int)
// v[ξ·stride + t] = (A y Aᵀ)_ξ of tile t, whose element r·4+c is s[(r·4+c)·32 + t], for
// t < lanes (a positive multiple of 8); rows 16 to 39 of s are scratch. 10 transforms of
// 13 operations per 8 tiles.
TEXT ·gradAVX2(SB), NOSPLIT, $0-32
	MOVQ v+0(FP), DI
	MOVQ stride+8(FP), R8
	SHLQ $2, R8
	MOVQ s+16(FP), SI
	MOVQ lanes+24(FP), CX
	BROADCAST(0x40800000, X13, Y13) // 4
	BROADCAST(0x40000000, X15, Y15) // 2

gradGroup:
	GRAD_COLUMN(0)
	GRAD_COLUMN(1)
	GRAD_COLUMN(2)
	GRAD_COLUMN(3)
	MOVQ DI, R10
	GRAD_ROW(0)
	GRAD_ROW(1)
	GRAD_ROW(2)
	GRAD_ROW(3)
	GRAD_ROW(4)
	GRAD_ROW(5)
	ADDQ $32, SI
	ADDQ $32, DI
	SUBQ $8, CX
	JG   gradGroup
	VZEROUPPER
	RET

// TILE_ROW(r): row r of eight 4x4 tiles side by side (x[4t + c] at BX), one QUAD, into stage
// rows 4r .. 4r+3.
#define TILE_ROW(r) \
	QUAD(0)                                 \
	VMOVUPS   Y8, (((r)*4)*128)(DI)         \
	VMOVUPS   Y9, (((r)*4+1)*128)(DI)       \
	VMOVUPS   Y10, (((r)*4+2)*128)(DI)      \
	VMOVUPS   Y11, (((r)*4+3)*128)(DI)      \
	ADDQ      R8, BX

// func tileRowAVX2(s *float32, x *float32, rowStride int)
// s[(r·4+c)·32 + t] = x[r·rowStride + 4t + c] for t < 8: eight 4x4 tiles side by side.
TEXT ·tileRowAVX2(SB), NOSPLIT, $0-24
	MOVQ    s+0(FP), DI
	MOVQ    x+8(FP), BX
	MOVQ    rowStride+16(FP), R8
	SHLQ    $2, R8
	VMOVDQU tileOrder<>(SB), Y15
	TILE_ROW(0)
	TILE_ROW(1)
	TILE_ROW(2)
	TILE_ROW(3)
	VZEROUPPER
	RET
