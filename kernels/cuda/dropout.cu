// dropout.cu: inverted dropout. out_i = in_i * scale when Philox keeps element i, else 0,
// with scale = 1/(1-p) rounded to float32 once on the host, exactly as kernels/cpu computes
// it, so both backends give bit-identical outputs. Forward (in = x) and backward (in = dy)
// are the same map, because backward redraws the very mask forward used from (seed, i)
// instead of storing it; the keep rule is kernels.DropoutKeep, bit for bit (philox.cuh).
//
// 8 bytes move per element. One Philox4x32-10 call (10 rounds of two 32x32->64 multiplies
// and two 3-way XORs, ~40 instructions) yields the four words of four consecutive elements,
// so a thread runs it once per float4: ~10 instructions per element, under the memory time
// on an H200 (one call per element measured 70% of the copy rate, issue-bound; notes/gpu.md).
// Each thread takes two float4s per grid-stride step, both loads issued before any Philox
// work. The n%4 trailing elements go to the first threads. out may alias in.
#include "philox.cuh"

// apply4 masks and scales the four elements 4*block .. 4*block+3, from one Philox call.
__device__ __forceinline__ float4 apply4(float4 v, unsigned long long block, unsigned threshold,
                                         float scale, unsigned long long seed) {
    const uint4 r = philox_block(seed, block);
    v.x = philox_keep(r.x, threshold) ? v.x * scale : 0.f;
    v.y = philox_keep(r.y, threshold) ? v.y * scale : 0.f;
    v.z = philox_keep(r.z, threshold) ? v.z * scale : 0.f;
    v.w = philox_keep(r.w, threshold) ? v.w * scale : 0.f;
    return v;
}

extern "C" __global__ void dropout_apply(float* out, const float* in, int n, unsigned threshold,
                                         float scale, unsigned long long seed) {
    const float4* in4 = reinterpret_cast<const float4*>(in);
    float4* out4 = reinterpret_cast<float4*>(out);
    const int n4 = n >> 2;
    const int stride = gridDim.x * blockDim.x;
    const int tid = blockIdx.x * blockDim.x + threadIdx.x;
    for (int i = tid; i < n4; i += 2 * stride) {
        const int j = i + stride;
        const float4 a = in4[i];
        const float4 b = j < n4 ? in4[j] : make_float4(0.f, 0.f, 0.f, 0.f);
        out4[i] = apply4(a, (unsigned)i, threshold, scale, seed);
        if (j < n4) out4[j] = apply4(b, (unsigned)j, threshold, scale, seed);
    }
    const int t = (n4 << 2) + tid;
    if (t < n) {
        const uint4 r = philox_block(seed, (unsigned)n4);
        const int w = t & 3;
        const unsigned x = w == 0 ? r.x : w == 1 ? r.y : w == 2 ? r.z : r.w;
        out[t] = philox_keep(x, threshold) ? in[t] * scale : 0.f;
    }
}
