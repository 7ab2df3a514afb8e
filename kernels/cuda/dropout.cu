// dropout.cu: inverted dropout. out_i = in_i / (1-p) when Philox keeps element i, else 0;
// forward (in = x) and backward (in = dy) are the same map, because backward redraws the
// very mask forward used from (seed, i) instead of storing it. The keep rule is
// kernels.DropoutKeep, bit for bit (philox.cuh), and the division matches the CPU's x/(1-p).
// Each thread handles float4s in a grid-stride loop: 8 bytes moved and one Philox4x32-10
// (10 rounds of two 32x32->64 multiplies) per element; the tail goes to the first threads.
// out may alias in.
#include "philox.cuh"

extern "C" __global__ void dropout_apply(float* out, const float* in, int n, float p,
                                         unsigned long long seed) {
    const float keep = 1.0f - p;
    const int n4 = n >> 2;
    const int stride = gridDim.x * blockDim.x;
    const int tid = blockIdx.x * blockDim.x + threadIdx.x;
    for (int i = tid; i < n4; i += stride) {
        float4 v = reinterpret_cast<const float4*>(in)[i];
        const unsigned long long e = 4ull * (unsigned)i;
        v.x = philox_uniform(seed, e) >= p ? v.x / keep : 0.f;
        v.y = philox_uniform(seed, e + 1) >= p ? v.y / keep : 0.f;
        v.z = philox_uniform(seed, e + 2) >= p ? v.z / keep : 0.f;
        v.w = philox_uniform(seed, e + 3) >= p ? v.w / keep : 0.f;
        reinterpret_cast<float4*>(out)[i] = v;
    }
    const int t = (n4 << 2) + tid;
    if (t < n) out[t] = philox_uniform(seed, (unsigned long long)t) >= p ? in[t] / keep : 0.f;
}
