// linear.cu: the fully connected layers as tiled SGEMM (gemm.cuh) in the three layouts
// backpropagation needs, all on row-major PyTorch tensors x[N,In], w[Out,In], y[N,Out]:
//
//   linear_forward          NT  y[N,Out]  = x[N,In] · w[Out,In]ᵀ (+ b, fused into the store)
//   linear_backward_data    NN  dx[N,In]  = dy[N,Out] · w[Out,In]
//   linear_backward_weight  TN  dw[Out,In] = dy[N,Out]ᵀ · x[N,In]
//   linear_bias_grad            db[Out]   = Σ_n dy[n,:]
//
// The batch is small (64) next to In and Out (thousands), so forward and backward-data would
// fill few 128x128 tiles: the launcher splits K across gridDim.z and the partial tiles are
// added with atomicAdd into a zeroed output (the bias by split 0 only). With one split the
// store is plain.
// FLOPs 2*N*In*Out per product; bytes: the weight matrix (4*In*Out) dominates, read once.
#include "gemm.cuh"

// RowMajorA reads A[m,k] = a[m*lda + k].
struct RowMajorA {
    const float* a;
    int lda, M;
    const float* row;
    bool ok;
    __device__ void set(int m) {
        ok = m < M;
        row = a + (size_t)(ok ? m : 0) * lda;
    }
    __device__ float at(int k) const { return ok ? __ldg(row + k) : 0.f; }
};

// OutputC stores C[m,n] into c[m*ldc + n], adding bias[n] once, atomically when K is split.
struct OutputC {
    float* c;
    const float* bias;
    int ldc;
    bool split;
    __device__ void put(int m, int n, float v, bool first_split) {
        if (bias && first_split) v += bias[n];
        float* dst = c + (size_t)m * ldc + n;
        if (split) atomicAdd(dst, v);
        else *dst = v;
    }
};

// NT: A row-major, B[k,n] = b[n*ldb + k] (a weight row per output column).
struct NTProblem {
    RowMajorA A;
    OutputC C;
    const float* b_;
    int ldb, N;
    const float* bcol;
    bool b_ok;
    __device__ void set_a_row(int m) { A.set(m); }
    __device__ float a(int k) const { return A.at(k); }
    __device__ void set_b_col(int n) {
        b_ok = n < N;
        bcol = b_ + (size_t)(b_ok ? n : 0) * ldb;
    }
    __device__ float b(int k) const { return b_ok ? __ldg(bcol + k) : 0.f; }
    __device__ void store(int m, int n, float v, bool first) { C.put(m, n, v, first); }
};

// NN: A row-major, B[k,n] = b[k*ldb + n].
struct NNProblem {
    RowMajorA A;
    OutputC C;
    const float* b_;
    int ldb, N;
    int n;
    bool b_ok;
    __device__ void set_a_row(int m) { A.set(m); }
    __device__ float a(int k) const { return A.at(k); }
    __device__ void set_b_col(int col) {
        b_ok = col < N;
        n = b_ok ? col : 0;
    }
    __device__ float b(int k) const { return b_ok ? __ldg(b_ + (size_t)k * ldb + n) : 0.f; }
    __device__ void store(int m, int nn, float v, bool first) { C.put(m, nn, v, first); }
};

// TN: A[m,k] = a[k*lda + m] (dy transposed), B[k,n] = b[k*ldb + n].
struct TNProblem {
    const float* a_;
    int lda, M;
    int m;
    bool a_ok;
    const float* b_;
    int ldb, N;
    int n;
    bool b_ok;
    OutputC C;
    __device__ void set_a_row(int row) {
        a_ok = row < M;
        m = a_ok ? row : 0;
    }
    __device__ float a(int k) const { return a_ok ? __ldg(a_ + (size_t)k * lda + m) : 0.f; }
    __device__ void set_b_col(int col) {
        b_ok = col < N;
        n = b_ok ? col : 0;
    }
    __device__ float b(int k) const { return b_ok ? __ldg(b_ + (size_t)k * ldb + n) : 0.f; }
    __device__ void store(int mm, int nn, float v, bool first) { C.put(mm, nn, v, first); }
};

extern "C" {

// Launch: grid (ceil(Out/128), ceil(N/128), splits), 256 threads; y zeroed when splits > 1.
__global__ void __launch_bounds__(GEMM_THREADS, 2)
linear_forward(float* y, const float* x, const float* w, const float* bias, int N, int In,
               int Out, int chunk) {
    NTProblem p;
    p.A.a = x; p.A.lda = In; p.A.M = N;
    p.b_ = w; p.ldb = In; p.N = Out;
    p.C.c = y; p.C.bias = bias; p.C.ldc = Out; p.C.split = gridDim.z > 1;
    int k_begin, k_end;
    split_range(In, chunk, k_begin, k_end);
    gemm_tile<128, 128>(p, N, Out, k_begin, k_end);
}

// Launch: grid (ceil(In/128), ceil(N/128), splits), 256 threads; dx zeroed when splits > 1.
__global__ void __launch_bounds__(GEMM_THREADS, 2)
linear_backward_data(float* dx, const float* dy, const float* w, int N, int In, int Out,
                     int chunk) {
    NNProblem p;
    p.A.a = dy; p.A.lda = Out; p.A.M = N;
    p.b_ = w; p.ldb = In; p.N = In;
    p.C.c = dx; p.C.bias = nullptr; p.C.ldc = In; p.C.split = gridDim.z > 1;
    int k_begin, k_end;
    split_range(Out, chunk, k_begin, k_end);
    gemm_tile<128, 128>(p, N, In, k_begin, k_end);
}

// Launch: grid (ceil(In/128), ceil(Out/128), splits), 256 threads; dw zeroed when splits > 1.
__global__ void __launch_bounds__(GEMM_THREADS, 2)
linear_backward_weight(float* dw, const float* dy, const float* x, int N, int In, int Out,
                       int chunk) {
    TNProblem p;
    p.a_ = dy; p.lda = Out; p.M = Out;
    p.b_ = x; p.ldb = In; p.N = In;
    p.C.c = dw; p.C.bias = nullptr; p.C.ldc = In; p.C.split = gridDim.z > 1;
    int k_begin, k_end;
    split_range(N, chunk, k_begin, k_end);
    gemm_tile<128, 128>(p, Out, In, k_begin, k_end);
}

// linear_bias_grad: one thread per output column sums the batch; consecutive threads read
// consecutive columns, so every row read is coalesced. Grid-stride over columns.
__global__ void linear_bias_grad(float* db, const float* dy, int N, int Out) {
    for (int o = blockIdx.x * blockDim.x + threadIdx.x; o < Out; o += gridDim.x * blockDim.x) {
        float sum = 0.f;
        for (int n = 0; n < N; n++) sum += __ldg(dy + (size_t)n * Out + o);
        db[o] = sum;
    }
}

}  // extern "C"
