// relu.cu: ReLU forward y = max(x, 0) and backward dx = dy where y > 0, else 0.
// Memory-bound: one FLOP-free pass, forward moves 8 bytes per element (read x, write y),
// backward 12 (read dy and y, write dx). Each thread handles float4s (16-byte loads and
// stores, coalesced across the warp) in a grid-stride loop; the n%4 trailing elements go to
// the first threads of the grid. Allocations are 256-byte aligned, so the float4 view is too.
// In place is fine (y may alias x, dx may alias dy): each element is read before it is written
// by the same thread.

extern "C" {

__global__ void relu_forward(float* y, const float* x, int n) {
    const int n4 = n >> 2;
    const int stride = gridDim.x * blockDim.x;
    const int tid = blockIdx.x * blockDim.x + threadIdx.x;
    for (int i = tid; i < n4; i += stride) {
        float4 v = reinterpret_cast<const float4*>(x)[i];
        v.x = fmaxf(v.x, 0.f); v.y = fmaxf(v.y, 0.f); v.z = fmaxf(v.z, 0.f); v.w = fmaxf(v.w, 0.f);
        reinterpret_cast<float4*>(y)[i] = v;
    }
    const int t = (n4 << 2) + tid;
    if (t < n) y[t] = fmaxf(x[t], 0.f);
}

__global__ void relu_backward(float* dx, const float* dy, const float* y, int n) {
    const int n4 = n >> 2;
    const int stride = gridDim.x * blockDim.x;
    const int tid = blockIdx.x * blockDim.x + threadIdx.x;
    for (int i = tid; i < n4; i += stride) {
        float4 g = reinterpret_cast<const float4*>(dy)[i];
        float4 o = reinterpret_cast<const float4*>(y)[i];
        g.x = o.x > 0.f ? g.x : 0.f; g.y = o.y > 0.f ? g.y : 0.f;
        g.z = o.z > 0.f ? g.z : 0.f; g.w = o.w > 0.f ? g.w : 0.f;
        reinterpret_cast<float4*>(dx)[i] = g;
    }
    const int t = (n4 << 2) + tid;
    if (t < n) dx[t] = y[t] > 0.f ? dy[t] : 0.f;
}

}  // extern "C"
