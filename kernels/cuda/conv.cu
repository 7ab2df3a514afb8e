// conv.cu: 2-D convolution forward, backward-data and backward-filter as implicit GEMM on the
// tiled product of gemm.cuh, plus the bias gradient. The im2col matrix is never built: each
// thread gathers its elements of it straight from the NCHW tensor, zero outside the padding.
//
//   forward          y[n,k,p,q]  C[M=K,    N=Nimg*P*Q] = W[K, C*R*S] · im2col(x)[C*R*S, Nimg*P*Q]
//                    bias fused into the store.
//   backward data    dx[n,c,h,w] C[M=C,    N=Nimg*H*W] = Wᵀ-ish[C, K*R*S] · col(dy)[K*R*S, Nimg*H*W]
//                    (the transposed convolution: dy gathered at (h+pad-r)/stride).
//   backward filter  dw[k,c,r,s] C[M=K,    N=C*R*S]    = dy[K, Nimg*P*Q] · im2col(x)ᵀ[Nimg*P*Q, C*R*S]
//                    split-K across gridDim.z (the summed axis is huge, the output small);
//                    partial tiles are added with atomicAdd into a zeroed dw.
//   bias gradient    db[k] = Σ_{n,p,q} dy[n,k,p,q]: block per (k, image slice), atomicAdd.
//
// Each GEMM costs 2*Nimg*K*C*R*S*P*Q FLOPs. Bytes: x, w and y once from DRAM in the ideal;
// the gathers re-read x up to R*S times, mostly from L1/L2.
//
// Every kernel comes twice: a "_3x3s1" instance with R=S=3 and stride 1 fixed at compile
// time (the VGG layers: the index divisions become multiplies) and a general one.
#include "gemm.cuh"

// Dims holds the convolution's sizes; with SEED the 3x3 stride-1 window is a constant.
template <bool SEED>
struct Dims {
    int C, H, W, K, P, Q, R_, S_, sh_, sw_, ph, pw;
    __device__ int R() const { return SEED ? 3 : R_; }
    __device__ int S() const { return SEED ? 3 : S_; }
    __device__ int sh() const { return SEED ? 1 : sh_; }
    __device__ int sw() const { return SEED ? 1 : sw_; }
};

// ForwardProblem: A = w viewed as [K, C*R*S], B = im2col(x), C stored into y (+ bias).
template <bool SEED>
struct ForwardProblem {
    Dims<SEED> d;
    int nimg;
    float* y;
    const float* x;
    const float* w;
    const float* bias;
    const float* w_row;
    bool a_ok;
    const float* x_img;
    int h0, w0;
    bool b_ok;

    __device__ void set_a_row(int m) {
        a_ok = m < d.K;
        w_row = w + (size_t)(a_ok ? m : 0) * (d.C * d.R() * d.S());
    }
    __device__ float a(int k) const { return a_ok ? __ldg(w_row + k) : 0.f; }
    __device__ void set_b_col(int n) {
        int PQ = d.P * d.Q;
        b_ok = n < nimg * PQ;
        int img = n / PQ, pq = n - img * PQ;
        int p = pq / d.Q, q = pq - p * d.Q;
        x_img = x + (size_t)(b_ok ? img : 0) * d.C * d.H * d.W;
        h0 = p * d.sh() - d.ph;
        w0 = q * d.sw() - d.pw;
    }
    __device__ float b(int k) const {
        int RS = d.R() * d.S();
        int c = k / RS, rs = k - c * RS;
        int r = rs / d.S(), s = rs - r * d.S();
        int h = h0 + r, wi = w0 + s;
        bool ok = b_ok && (unsigned)h < (unsigned)d.H && (unsigned)wi < (unsigned)d.W;
        return ok ? __ldg(x_img + ((size_t)c * d.H + h) * d.W + wi) : 0.f;
    }
    __device__ void store(int m, int n, float v, bool) {
        int PQ = d.P * d.Q;
        int img = n / PQ, pq = n - img * PQ;
        y[((size_t)img * d.K + m) * PQ + pq] = v + (bias ? bias[m] : 0.f);
    }
};

// BackwardDataProblem: A[c, (k,r,s)] = w[k,c,r,s]; B[(k,r,s), (n,h,w)] = dy[n,k,p,q] where
// p*stride = h+pad-r (0 when that is no output pixel); C stored into dx.
template <bool SEED>
struct BackwardDataProblem {
    Dims<SEED> d;
    int nimg;
    float* dx;
    const float* dy;
    const float* w;
    int c;
    bool a_ok;
    const float* dy_img;
    int hp, wp;
    bool b_ok;

    __device__ void set_a_row(int m) {
        a_ok = m < d.C;
        c = a_ok ? m : 0;
    }
    __device__ float a(int k) const {
        int RS = d.R() * d.S();
        int ko = k / RS, rs = k - ko * RS;
        return a_ok ? __ldg(w + ((size_t)ko * d.C + c) * RS + rs) : 0.f;
    }
    __device__ void set_b_col(int n) {
        int HW = d.H * d.W;
        b_ok = n < nimg * HW;
        int img = n / HW, hw = n - img * HW;
        int h = hw / d.W, wi = hw - h * d.W;
        dy_img = dy + (size_t)(b_ok ? img : 0) * d.K * d.P * d.Q;
        hp = h + d.ph;
        wp = wi + d.pw;
    }
    __device__ float b(int k) const {
        int RS = d.R() * d.S();
        int ko = k / RS, rs = k - ko * RS;
        int r = rs / d.S(), s = rs - r * d.S();
        int ph = hp - r, pw = wp - s;
        if (!b_ok || ph < 0 || pw < 0) return 0.f;
        if (!SEED && (ph % d.sh() != 0 || pw % d.sw() != 0)) return 0.f;
        int p = ph / d.sh(), q = pw / d.sw();
        if (p >= d.P || q >= d.Q) return 0.f;
        return __ldg(dy_img + ((size_t)ko * d.P + p) * d.Q + q);
    }
    __device__ void store(int m, int n, float v, bool) {
        int HW = d.H * d.W;
        int img = n / HW, hw = n - img * HW;
        dx[((size_t)img * d.C + m) * HW + hw] = v;
    }
};

// BackwardFilterProblem: A[k, (n,p,q)] = dy; B[(n,p,q), (c,r,s)] = x at the tap; the split-K
// partial tile is atomically added into dw (zeroed by the launcher).
template <bool SEED>
struct BackwardFilterProblem {
    Dims<SEED> d;
    float* dw;
    const float* x;
    const float* dy;
    int ko;
    bool a_ok;
    int c, r, s;
    bool b_ok;
    FastDiv by_pq, by_q; // k = img*P*Q + p*Q + q is split in the inner loop

    __device__ void set_a_row(int m) {
        a_ok = m < d.K;
        ko = a_ok ? m : 0;
        by_pq.init(d.P * d.Q);
        by_q.init(d.Q);
    }
    __device__ float a(int k) const {
        int img = by_pq.div(k), pq = k - img * d.P * d.Q;
        return a_ok ? __ldg(dy + ((size_t)img * d.K + ko) * d.P * d.Q + pq) : 0.f;
    }
    __device__ void set_b_col(int n) {
        int RS = d.R() * d.S();
        b_ok = n < d.C * RS;
        int nn = b_ok ? n : 0;
        c = nn / RS;
        int rs = nn - c * RS;
        r = rs / d.S();
        s = rs - r * d.S();
    }
    __device__ float b(int k) const {
        int img = by_pq.div(k), pq = k - img * d.P * d.Q;
        int p = by_q.div(pq), q = pq - p * d.Q;
        int h = p * d.sh() - d.ph + r, wi = q * d.sw() - d.pw + s;
        bool ok = b_ok && (unsigned)h < (unsigned)d.H && (unsigned)wi < (unsigned)d.W;
        return ok ? __ldg(x + (((size_t)img * d.C + c) * d.H + h) * d.W + wi) : 0.f;
    }
    __device__ void store(int m, int n, float v, bool) {
        atomicAdd(dw + (size_t)m * d.C * d.R() * d.S() + n, v);
    }
};

template <bool SEED>
__device__ Dims<SEED> make_dims(int C, int H, int W, int K, int P, int Q, int R, int S, int sh,
                                int sw, int ph, int pw) {
    Dims<SEED> d;
    d.C = C; d.H = H; d.W = W; d.K = K; d.P = P; d.Q = Q;
    d.R_ = R; d.S_ = S; d.sh_ = sh; d.sw_ = sw; d.ph = ph; d.pw = pw;
    return d;
}

#define CONV_DIM_PARAMS                                                                    \
    int N, int C, int H, int W, int K, int P, int Q, int R, int S, int sh, int sw, int ph, \
        int pw
#define CONV_DIM_ARGS C, H, W, K, P, Q, R, S, sh, sw, ph, pw

template <bool SEED, int BM>
__device__ void conv_forward_impl(float* y, const float* x, const float* w, const float* bias,
                                  CONV_DIM_PARAMS) {
    ForwardProblem<SEED> p;
    p.d = make_dims<SEED>(CONV_DIM_ARGS);
    p.nimg = N;
    p.y = y; p.x = x; p.w = w; p.bias = bias;
    gemm_tile<BM, 16384 / BM>(p, K, N * P * Q, 0, C * R * S);
}

template <bool SEED, int BM>
__device__ void conv_backward_data_impl(float* dx, const float* dy, const float* w,
                                        CONV_DIM_PARAMS) {
    BackwardDataProblem<SEED> p;
    p.d = make_dims<SEED>(CONV_DIM_ARGS);
    p.nimg = N;
    p.dx = dx; p.dy = dy; p.w = w;
    gemm_tile<BM, 16384 / BM>(p, C, N * H * W, 0, K * R * S);
}

template <bool SEED, int BM>
__device__ void conv_backward_filter_impl(float* dw, const float* x, const float* dy,
                                          int chunk, CONV_DIM_PARAMS) {
    BackwardFilterProblem<SEED> p;
    p.d = make_dims<SEED>(CONV_DIM_ARGS);
    p.dw = dw; p.x = x; p.dy = dy;
    int k_begin, k_end;
    split_range(N * P * Q, chunk, k_begin, k_end);
    gemm_tile<BM, 16384 / BM>(p, K, C * R * S, k_begin, k_end);
}

extern "C" {

// Launch: grid (ceil(N*P*Q/128), ceil(K/128)), 256 threads; the _m64 instance takes
// 64x256 tiles, grid (ceil(N*P*Q/256), ceil(K/64)), for layers of at most 64 filters.
__global__ void __launch_bounds__(GEMM_THREADS, 2)
conv_forward_3x3s1(float* y, const float* x, const float* w, const float* bias, CONV_DIM_PARAMS) {
    conv_forward_impl<true, 128>(y, x, w, bias, N, CONV_DIM_ARGS);
}
__global__ void __launch_bounds__(GEMM_THREADS, 2)
conv_forward_3x3s1_m64(float* y, const float* x, const float* w, const float* bias,
                       CONV_DIM_PARAMS) {
    conv_forward_impl<true, 64>(y, x, w, bias, N, CONV_DIM_ARGS);
}
__global__ void __launch_bounds__(GEMM_THREADS, 2)
conv_forward(float* y, const float* x, const float* w, const float* bias, CONV_DIM_PARAMS) {
    conv_forward_impl<false, 128>(y, x, w, bias, N, CONV_DIM_ARGS);
}

// Launch: grid (ceil(N*H*W/128), ceil(C/128)), 256 threads; the _m64 instance as above, for
// layers of at most 64 input channels.
__global__ void __launch_bounds__(GEMM_THREADS, 2)
conv_backward_data_3x3s1(float* dx, const float* dy, const float* w, CONV_DIM_PARAMS) {
    conv_backward_data_impl<true, 128>(dx, dy, w, N, CONV_DIM_ARGS);
}
__global__ void __launch_bounds__(GEMM_THREADS, 2)
conv_backward_data_3x3s1_m64(float* dx, const float* dy, const float* w, CONV_DIM_PARAMS) {
    conv_backward_data_impl<true, 64>(dx, dy, w, N, CONV_DIM_ARGS);
}
__global__ void __launch_bounds__(GEMM_THREADS, 2)
conv_backward_data(float* dx, const float* dy, const float* w, CONV_DIM_PARAMS) {
    conv_backward_data_impl<false, 128>(dx, dy, w, N, CONV_DIM_ARGS);
}

// Launch: grid (ceil(C*R*S/128), ceil(K/128), splits), 256 threads; dw zeroed first.
// (A 64x256 instance for 64-filter layers spills: eight gathered B elements per thread.)
__global__ void __launch_bounds__(GEMM_THREADS, 2)
conv_backward_filter_3x3s1(float* dw, const float* x, const float* dy, int chunk,
                           CONV_DIM_PARAMS) {
    conv_backward_filter_impl<true, 128>(dw, x, dy, chunk, N, CONV_DIM_ARGS);
}
// The general instance keeps every window size in registers; one block per multiprocessor's
// register share (instead of two) keeps it free of spills. VGG never runs it.
__global__ void __launch_bounds__(GEMM_THREADS, 1)
conv_backward_filter(float* dw, const float* x, const float* dy, int chunk, CONV_DIM_PARAMS) {
    conv_backward_filter_impl<false, 128>(dw, x, dy, chunk, N, CONV_DIM_ARGS);
}

// conv_backward_data_3x3s1_small_c: the input gradient of a 3x3 stride-1 layer with at most
// SMALL_C input channels (the first layer: RGB). As a GEMM its M would be C = 3, so a tiled
// product would compute 61 of every 64 rows for nothing; here one thread computes the C
// values of one input pixel directly, summing K*9 products each, with all of w (K*C*9
// floats, at most SMALL_W) in shared memory. Consecutive threads take consecutive pixels of a
// row, so their dy reads are coalesced, and each dy value is reused by nine threads through
// L1. Launch: grid-stride over N*H*W pixels, 256 threads.
#define SMALL_C 4
#define SMALL_W 4096
__global__ void conv_backward_data_3x3s1_small_c(float* dx, const float* dy, const float* w,
                                                 CONV_DIM_PARAMS) {
    __shared__ float ws[SMALL_W];
    for (int i = threadIdx.x; i < K * C * 9; i += blockDim.x) ws[i] = w[i];
    __syncthreads();
    const int HW = H * W, PQ = P * Q, total = N * HW;
    for (int pix = blockIdx.x * blockDim.x + threadIdx.x; pix < total;
         pix += gridDim.x * blockDim.x) {
        const int img = pix / HW, hw = pix - img * HW;
        const int h = hw / W, wi = hw - h * W;
        float acc[SMALL_C] = {0.f, 0.f, 0.f, 0.f};
        for (int k = 0; k < K; k++) {
            const float* plane = dy + ((size_t)img * K + k) * PQ;
            const float* wk = ws + k * C * 9;
#pragma unroll
            for (int r = 0; r < 3; r++) {
                const int p = h + ph - r;
                if (p < 0 || p >= P) continue;
#pragma unroll
                for (int s = 0; s < 3; s++) {
                    const int q = wi + pw - s;
                    if (q < 0 || q >= Q) continue;
                    const float g = __ldg(plane + p * Q + q);
#pragma unroll
                    for (int c = 0; c < SMALL_C; c++)
                        if (c < C) acc[c] = fmaf(g, wk[c * 9 + r * 3 + s], acc[c]);
                }
            }
        }
#pragma unroll
        for (int c = 0; c < SMALL_C; c++)
            if (c < C) dx[((size_t)img * C + c) * HW + hw] = acc[c];
    }
}

// conv_bias_grad: db[k] += Σ over images [img0, img0+per) and all pixels of dy[img,k,:].
// Grid (K, image slices), 256 threads; each thread strides the plane with float4 loads when
// the plane size allows, then the block reduces through shared memory; db zeroed first.
// Bytes: dy read once; FLOPs: one add per element.
__global__ void conv_bias_grad(float* db, const float* dy, int N, int K, int PQ, int per) {
    __shared__ float partial[32];
    const int k = blockIdx.x;
    const int img0 = blockIdx.y * per, img1 = min(N, img0 + per);
    float sum = 0.f;
    for (int img = img0; img < img1; img++) {
        const float* plane = dy + ((size_t)img * K + k) * PQ;
        if ((PQ & 3) == 0) {
            const float4* v = reinterpret_cast<const float4*>(plane);
            for (int i = threadIdx.x; i < PQ / 4; i += blockDim.x) {
                float4 t = __ldg(v + i);
                sum += (t.x + t.y) + (t.z + t.w);
            }
        } else {
            for (int i = threadIdx.x; i < PQ; i += blockDim.x) sum += __ldg(plane + i);
        }
    }
    for (int off = 16; off > 0; off >>= 1) sum += __shfl_down_sync(0xffffffffu, sum, off);
    if ((threadIdx.x & 31) == 0) partial[threadIdx.x >> 5] = sum;
    __syncthreads();
    if (threadIdx.x < 32) {
        sum = threadIdx.x < blockDim.x / 32 ? partial[threadIdx.x] : 0.f;
        for (int off = 16; off > 0; off >>= 1) sum += __shfl_down_sync(0xffffffffu, sum, off);
        if (threadIdx.x == 0) atomicAdd(db + k, sum);
    }
}

}  // extern "C"
