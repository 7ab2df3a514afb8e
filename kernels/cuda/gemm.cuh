// gemm.cuh: the tiled single-precision matrix product that convolution (implicit GEMM) and
// the linear layers share. C[M,N] = A[M,K] · B[K,N], where A and B are never materialised:
// a "problem" object says how to fetch A[m,k] and B[k,n] from the real tensors (an im2col
// gather for convolution, a plain or transposed row-major read for linear) and how to store
// C[m,n] (adding the bias, or accumulating a split-K partial sum with atomicAdd).
//
// Mapping: a block of 256 threads computes a 128x128 tile of C; each thread owns an 8x8
// sub-tile held in 64 registers (register blocking), so one k step costs a thread 16 shared
// loads (four float4) for 64 FMAs. The K axis is walked 8 at a time through a double-buffered
// shared-memory tile (2 x 2 x 8 x 128 floats = 16 KiB): while the block multiplies one tile,
// each thread has the next tile's 8 elements in flight from global memory.
// Each thread's rows of C are ty*4+{0..3} and 64+ty*4+{0..3} (columns likewise with tx), so a
// warp's float4 reads of the shared tiles are conflict-free.
//
// Cost: 2*M*N*K FLOPs; global traffic about (M*K)*(N/128) + (K*N)*(M/128) reads (each tile of
// A is read once per column block, mostly from L2) plus M*N writes. Plain FP32 FMA, no tensor
// cores: the same arithmetic as the PyTorch reference with TF32 off.
//
// A problem type P provides:
//   set_a_row(m)  fix this thread's row of A (called once; m may be out of range)
//   a(k)          A[m,k] for the fixed row, 0 when the row is out of range (k is in range)
//   set_b_col(n)  fix this thread's column of B
//   b(k)          B[k,n] for the fixed column, 0 when out of range
//   store(m, n, v, first_split)  write C[m,n]; first_split is true for the block that owns
//                 the bias when K is split across gridDim.z blocks.
#pragma once

#define GEMM_BM 128
#define GEMM_BN 128
#define GEMM_BK 8
#define GEMM_THREADS 256

// gemm_tile computes the block's 128x128 tile of C over k in [k_begin, k_end).
template <class P>
__device__ __forceinline__ void gemm_tile(P& p, int M, int N, int k_begin, int k_end) {
    __shared__ __align__(16) float As[2][GEMM_BK][GEMM_BM];
    __shared__ __align__(16) float Bs[2][GEMM_BK][GEMM_BN];

    const int tid = threadIdx.x;
    const int m0 = blockIdx.y * GEMM_BM, n0 = blockIdx.x * GEMM_BN;

    // Loader layout: each thread fetches 4 elements of A (one row, 4 consecutive k) and 4 of
    // B (one column, 4 consecutive k) per k step. The row and column stay fixed, so their
    // index arithmetic (the image/pixel decomposition of a convolution column) runs once.
    const int a_row = tid >> 1, a_k = (tid & 1) * 4;
    const int b_col = tid & 127, b_k = (tid >> 7) * 4;
    p.set_a_row(m0 + a_row);
    p.set_b_col(n0 + b_col);

    float ra[4], rb[4];
#pragma unroll
    for (int j = 0; j < 4; j++) {
        int ka = k_begin + a_k + j, kb = k_begin + b_k + j;
        ra[j] = ka < k_end ? p.a(ka) : 0.f;
        rb[j] = kb < k_end ? p.b(kb) : 0.f;
    }
#pragma unroll
    for (int j = 0; j < 4; j++) {
        As[0][a_k + j][a_row] = ra[j];
        Bs[0][b_k + j][b_col] = rb[j];
    }
    __syncthreads();

    const int tx = tid & 15, ty = tid >> 4;
    float acc[8][8];
#pragma unroll
    for (int i = 0; i < 8; i++)
#pragma unroll
        for (int j = 0; j < 8; j++) acc[i][j] = 0.f;

    int buf = 0;
    for (int k0 = k_begin; k0 < k_end; k0 += GEMM_BK) {
        const bool more = k0 + GEMM_BK < k_end;
        if (more) {
#pragma unroll
            for (int j = 0; j < 4; j++) {
                int ka = k0 + GEMM_BK + a_k + j, kb = k0 + GEMM_BK + b_k + j;
                ra[j] = ka < k_end ? p.a(ka) : 0.f;
                rb[j] = kb < k_end ? p.b(kb) : 0.f;
            }
        }
#pragma unroll
        for (int kk = 0; kk < GEMM_BK; kk++) {
            float4 a0 = *reinterpret_cast<const float4*>(&As[buf][kk][ty * 4]);
            float4 a1 = *reinterpret_cast<const float4*>(&As[buf][kk][64 + ty * 4]);
            float4 b0 = *reinterpret_cast<const float4*>(&Bs[buf][kk][tx * 4]);
            float4 b1 = *reinterpret_cast<const float4*>(&Bs[buf][kk][64 + tx * 4]);
            float av[8] = {a0.x, a0.y, a0.z, a0.w, a1.x, a1.y, a1.z, a1.w};
            float bv[8] = {b0.x, b0.y, b0.z, b0.w, b1.x, b1.y, b1.z, b1.w};
#pragma unroll
            for (int i = 0; i < 8; i++)
#pragma unroll
                for (int j = 0; j < 8; j++) acc[i][j] = fmaf(av[i], bv[j], acc[i][j]);
        }
        if (more) {
            // The other buffer was last read before the previous barrier, so it is free.
#pragma unroll
            for (int j = 0; j < 4; j++) {
                As[buf ^ 1][a_k + j][a_row] = ra[j];
                Bs[buf ^ 1][b_k + j][b_col] = rb[j];
            }
            __syncthreads();
            buf ^= 1;
        }
    }

    const bool first_split = blockIdx.z == 0;
#pragma unroll
    for (int i = 0; i < 8; i++) {
        int m = m0 + (i < 4 ? ty * 4 + i : 64 + ty * 4 + i - 4);
        if (m >= M) continue;
#pragma unroll
        for (int j = 0; j < 8; j++) {
            int n = n0 + (j < 4 ? tx * 4 + j : 64 + tx * 4 + j - 4);
            if (n < N) p.store(m, n, acc[i][j], first_split);
        }
    }
}

// FastDiv divides by a divisor known only at run time with one multiply-high and a shift
// (Granlund & Montgomery 1994; the form CUTLASS uses), exact for dividends below 2^31. With
// l = ceil(log2 d), m = ceil(2^(31+l) / d) fits in 32 bits and floor(n*m / 2^(31+l)) equals
// floor(n/d). A plain 32-bit division costs about twenty instructions, which matters in a
// GEMM inner loop that decomposes every k into (image, pixel).
struct FastDiv {
    unsigned d, m, s;
    __device__ void init(unsigned divisor) {
        d = divisor;
        if (divisor == 1) {
            m = 0;
            s = 0;
            return;
        }
        const unsigned l = 32 - __clz(divisor - 1);
        m = (unsigned)(((1ull << (31 + l)) + divisor - 1) / divisor);
        s = l - 1;
    }
    __device__ unsigned div(unsigned n) const { return d == 1 ? n : __umulhi(n, m) >> s; }
};

// split_range is the slice of the K axis that split blockIdx.z owns; chunk is a multiple of
// GEMM_BK chosen by the launcher.
__device__ __forceinline__ void split_range(int K, int chunk, int& k_begin, int& k_end) {
    k_begin = blockIdx.z * chunk;
    k_end = min(K, k_begin + chunk);
}
