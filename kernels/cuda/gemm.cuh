// gemm.cuh: the tiled single-precision matrix product that convolution (implicit GEMM) and
// the linear layers share. C[M,N] = A[M,K] · B[K,N], where A and B are never materialised:
// a "problem" object says how to fetch A[m,k] and B[k,n] from the real tensors (an im2col
// gather for convolution, a plain or transposed row-major read for linear) and how to store
// C[m,n] (adding the bias, or accumulating a split-K partial sum with atomicAdd).
//
// Mapping: a block of 256 threads computes a 128x128 (or 64x256) tile of C; each thread owns
// an 8x8 sub-tile held in 64 registers (register blocking), so one k step costs a thread 16
// shared loads (four float4) for 64 FMAs. The K axis is walked 8 at a time through a
// double-buffered shared-memory tile (16 KiB, 20 KiB for 64x256): while the block multiplies
// one tile, each thread has the next tile's elements in flight from global memory.
// Each thread's rows of C are ty*4+{0..3} and BM/2+ty*4+{0..3} (columns likewise with tx),
// so a warp's float4 reads of the shared tiles are conflict-free.
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

#define GEMM_BK 8
#define GEMM_THREADS 256

// gemm_tile computes the block's BM x BN tile of C over k in [k_begin, k_end). Two shapes
// are instantiated: 128x128, and 64x256 for products whose M is 64 (the 64-filter and
// 64-channel layers of VGG), where a 128-row tile would leave half its threads idle.
template <int BM, int BN, class P>
__device__ __forceinline__ void gemm_tile(P& p, int M, int N, int k_begin, int k_end) {
    static_assert(BM * BN == 64 * GEMM_THREADS, "each thread owns an 8x8 sub-tile");
    constexpr int A_PER = BM / 32;  // elements of A each thread loads per k step
    constexpr int B_PER = BN / 32;  // elements of B each thread loads per k step
    constexpr int TX = BN / 8;      // threads along a row of C
    __shared__ __align__(16) float As[2][GEMM_BK][BM];
    __shared__ __align__(16) float Bs[2][GEMM_BK][BN];

    const int tid = threadIdx.x;
    const int m0 = blockIdx.y * BM, n0 = blockIdx.x * BN;

    // Loader layout: each thread fetches A_PER elements of A (one row, consecutive k) and
    // B_PER of B (one column, consecutive k) per k step. The row and column stay fixed, so
    // their index arithmetic (the image/pixel decomposition of a convolution column) runs
    // once per thread.
    const int a_row = tid / (GEMM_BK / A_PER), a_k = tid % (GEMM_BK / A_PER) * A_PER;
    const int b_col = tid % BN, b_k = tid / BN * B_PER;
    p.set_a_row(m0 + a_row);
    p.set_b_col(n0 + b_col);

    float ra[A_PER], rb[B_PER];
#pragma unroll
    for (int j = 0; j < A_PER; j++) {
        int ka = k_begin + a_k + j;
        ra[j] = ka < k_end ? p.a(ka) : 0.f;
    }
#pragma unroll
    for (int j = 0; j < B_PER; j++) {
        int kb = k_begin + b_k + j;
        rb[j] = kb < k_end ? p.b(kb) : 0.f;
    }
#pragma unroll
    for (int j = 0; j < A_PER; j++) As[0][a_k + j][a_row] = ra[j];
#pragma unroll
    for (int j = 0; j < B_PER; j++) Bs[0][b_k + j][b_col] = rb[j];
    __syncthreads();

    const int tx = tid % TX, ty = tid / TX;
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
            for (int j = 0; j < A_PER; j++) {
                int ka = k0 + GEMM_BK + a_k + j;
                ra[j] = ka < k_end ? p.a(ka) : 0.f;
            }
#pragma unroll
            for (int j = 0; j < B_PER; j++) {
                int kb = k0 + GEMM_BK + b_k + j;
                rb[j] = kb < k_end ? p.b(kb) : 0.f;
            }
        }
#pragma unroll
        for (int kk = 0; kk < GEMM_BK; kk++) {
            float4 a0 = *reinterpret_cast<const float4*>(&As[buf][kk][ty * 4]);
            float4 a1 = *reinterpret_cast<const float4*>(&As[buf][kk][BM / 2 + ty * 4]);
            float4 b0 = *reinterpret_cast<const float4*>(&Bs[buf][kk][tx * 4]);
            float4 b1 = *reinterpret_cast<const float4*>(&Bs[buf][kk][BN / 2 + tx * 4]);
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
            for (int j = 0; j < A_PER; j++) As[buf ^ 1][a_k + j][a_row] = ra[j];
#pragma unroll
            for (int j = 0; j < B_PER; j++) Bs[buf ^ 1][b_k + j][b_col] = rb[j];
            __syncthreads();
            buf ^= 1;
        }
    }

    const bool first_split = blockIdx.z == 0;
#pragma unroll
    for (int i = 0; i < 8; i++) {
        int m = m0 + (i < 4 ? ty * 4 + i : BM / 2 + ty * 4 + i - 4);
        if (m >= M) continue;
#pragma unroll
        for (int j = 0; j < 8; j++) {
            int n = n0 + (j < 4 ? tx * 4 + j : BN / 2 + tx * 4 + j - 4);
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
