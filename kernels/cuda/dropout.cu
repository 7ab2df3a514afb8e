// dropout.cu: inverted dropout. out_i = in_i * scale when Philox keeps element i, else 0,
// with scale = 1/(1-p) rounded to float32 once on the host, exactly as kernels/cpu computes
// it, so both backends give bit-identical outputs. Forward (in = x) and backward (in = dy)
// are the same map, because backward redraws the very mask forward used from (seed, i)
// instead of storing it; the keep rule is kernels.DropoutKeep, bit for bit (philox.cuh).
// Each thread handles float4s in a grid-stride loop: 8 bytes moved and one Philox4x32-10
// (10 rounds of two 32x32->64 multiplies) per element, which makes this kernel bound by
// integer multiplies rather than memory on an H200. The tail goes to the first threads.
// out may alias in.
#include "philox.cuh"

extern "C" __global__ void dropout_apply(float* out, const float* in, int n, float p,
                                         float scale, unsigned long long seed) {
    const int n4 = n >> 2;
    const int stride = gridDim.x * blockDim.x;
    const int tid = blockIdx.x * blockDim.x + threadIdx.x;
    for (int i = tid; i < n4; i += stride) {
        float4 v = reinterpret_cast<const float4*>(in)[i];
        const unsigned long long e = 4ull * (unsigned)i;
        v.x = philox_uniform(seed, e) >= p ? v.x * scale : 0.f;
        v.y = philox_uniform(seed, e + 1) >= p ? v.y * scale : 0.f;
        v.z = philox_uniform(seed, e + 2) >= p ? v.z * scale : 0.f;
        v.w = philox_uniform(seed, e + 3) >= p ? v.w * scale : 0.f;
        reinterpret_cast<float4*>(out)[i] = v;
    }
    const int t = (n4 << 2) + tid;
    if (t < n) out[t] = philox_uniform(seed, (unsigned long long)t) >= p ? in[t] * scale : 0.f;
}
