// maxpool.cu: 2x2 max-pooling, stride 2, over planes = N*C planes of H x W (H, W even).
// Forward: one thread per output pixel reads its window as two float2 rows (8-byte aligned
// because W and the column 2q are even) and writes the max and its argmax, the offset h*W+w
// of the winner inside its input plane; ties go to the first in row-major order (strict >).
// Backward: one thread per output pixel writes all four dx values of its window (dy at the
// argmax, zero elsewhere); windows do not overlap, so no zero-fill and no atomics are needed.
// Memory-bound: forward moves 16+4+4 bytes per output pixel, backward 4+4+16. Warps read
// whole row segments and write contiguous outputs; grid-stride loops.

extern "C" {

__global__ void maxpool2x2_forward(float* y, int* argmax, const float* x, int planes, int H,
                                   int W) {
    const int Q = W >> 1, PQ = (H >> 1) * Q;
    const int total = planes * PQ;
    for (int i = blockIdx.x * blockDim.x + threadIdx.x; i < total; i += gridDim.x * blockDim.x) {
        const int plane = i / PQ, pq = i - plane * PQ;
        const int p = pq / Q, q = pq - p * Q;
        const int off = 2 * p * W + 2 * q;
        const float* src = x + (size_t)plane * H * W + off;
        const float2 top = *reinterpret_cast<const float2*>(src);
        const float2 bot = *reinterpret_cast<const float2*>(src + W);
        float best = top.x;
        int arg = off;
        if (top.y > best) { best = top.y; arg = off + 1; }
        if (bot.x > best) { best = bot.x; arg = off + W; }
        if (bot.y > best) { best = bot.y; arg = off + W + 1; }
        y[i] = best;
        argmax[i] = arg;
    }
}

__global__ void maxpool2x2_backward(float* dx, const float* dy, const int* argmax, int planes,
                                    int H, int W) {
    const int Q = W >> 1, PQ = (H >> 1) * Q;
    const int total = planes * PQ;
    for (int i = blockIdx.x * blockDim.x + threadIdx.x; i < total; i += gridDim.x * blockDim.x) {
        const int plane = i / PQ, pq = i - plane * PQ;
        const int p = pq / Q, q = pq - p * Q;
        const int off = 2 * p * W + 2 * q;
        const float g = dy[i];
        const int a = argmax[i];
        float* dst = dx + (size_t)plane * H * W + off;
        *reinterpret_cast<float2*>(dst) = make_float2(a == off ? g : 0.f, a == off + 1 ? g : 0.f);
        *reinterpret_cast<float2*>(dst + W) =
            make_float2(a == off + W ? g : 0.f, a == off + W + 1 ? g : 0.f);
    }
}

}  // extern "C"
