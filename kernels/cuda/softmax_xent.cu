// softmax_xent.cu: fused softmax + cross-entropy, its gradient, and the running metrics.
//
// softmax_xent_forward: one block per row of logits[N,C]. Three passes over the row (max,
// Σexp(l-max), write probs), each reduced through warp shuffles and shared memory; the loss
// is log Σexp(l-max) - (l[label]-max), the log-sum-exp form, so logits of 1e4 stay finite.
// The Go launcher refuses labels outside [0,C) before launching (kernels.CheckLabels, on the
// host copy Upload keeps); should one get through, the loss is NaN rather than a read out of
// bounds. Cost: ~3 reads + 1 write per element.
// softmax_xent_backward: one thread per element, dlogits = (probs - onehot(label)) / N.
// accumulate_stats: a single block walks the rows (N is a batch, small): Σ loss, the count of
// rows whose first maximal probability is at the label, and N, added into stats[3].

// block_reduce combines one value per thread with op (identity: op's neutral value),
// returning the result to every thread.
template <class Op>
__device__ float block_reduce(float v, Op op, float identity) {
    __shared__ float partial[32];
    __shared__ float result;
    for (int off = 16; off > 0; off >>= 1) v = op(v, __shfl_down_sync(0xffffffffu, v, off));
    if ((threadIdx.x & 31) == 0) partial[threadIdx.x >> 5] = v;
    __syncthreads();
    if (threadIdx.x < 32) {
        const int warps = (blockDim.x + 31) >> 5;
        v = threadIdx.x < warps ? partial[threadIdx.x] : identity;
        for (int off = 16; off > 0; off >>= 1) v = op(v, __shfl_down_sync(0xffffffffu, v, off));
        if (threadIdx.x == 0) result = v;
    }
    __syncthreads();
    return result;
}

struct MaxOp {
    __device__ float operator()(float a, float b) const { return fmaxf(a, b); }
};
struct SumOp {
    __device__ float operator()(float a, float b) const { return a + b; }
};

extern "C" {

// Launch: grid N, 256 threads.
__global__ void softmax_xent_forward(float* probs, float* loss, const float* logits,
                                     const int* labels, int N, int C) {
    const int row = blockIdx.x;
    const float* l = logits + (size_t)row * C;
    float* pr = probs + (size_t)row * C;
    float mx = -INFINITY;
    for (int c = threadIdx.x; c < C; c += blockDim.x) mx = fmaxf(mx, l[c]);
    mx = block_reduce(mx, MaxOp(), -INFINITY);
    float sum = 0.f;
    for (int c = threadIdx.x; c < C; c += blockDim.x) sum += expf(l[c] - mx);
    sum = block_reduce(sum, SumOp(), 0.f);
    for (int c = threadIdx.x; c < C; c += blockDim.x) pr[c] = expf(l[c] - mx) / sum;
    if (threadIdx.x == 0) {
        const int label = labels[row];
        loss[row] = (label >= 0 && label < C) ? logf(sum) - (l[label] - mx) : __int_as_float(0x7fc00000);
    }
}

__global__ void softmax_xent_backward(float* dlogits, const float* probs, const int* labels,
                                      int N, int C) {
    const int total = N * C;
    for (int i = blockIdx.x * blockDim.x + threadIdx.x; i < total; i += gridDim.x * blockDim.x) {
        const int n = i / C, c = i - n * C;
        const float onehot = labels[n] == c ? 1.f : 0.f;
        dlogits[i] = (probs[i] - onehot) / (float)N;
    }
}

// Launch: grid 1, 256 threads.
__global__ void accumulate_stats(float* stats, const float* loss, const float* probs,
                                 const int* labels, int N, int C) {
    float loss_sum = 0.f, correct = 0.f;
    for (int n = threadIdx.x; n < N; n += blockDim.x) {
        const float* pr = probs + (size_t)n * C;
        int best = 0;
        for (int c = 1; c < C; c++)
            if (pr[c] > pr[best]) best = c;
        loss_sum += loss[n];
        correct += best == labels[n] ? 1.f : 0.f;
    }
    loss_sum = block_reduce(loss_sum, SumOp(), 0.f);
    correct = block_reduce(correct, SumOp(), 0.f);
    if (threadIdx.x == 0) {
        stats[0] += loss_sum;
        stats[1] += correct;
        stats[2] += (float)N;
    }
}

}  // extern "C"
