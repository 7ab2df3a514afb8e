// optim.cu: the optimizer updates, elementwise over a parameter tensor, float4 grid-stride
// with a scalar tail. Both follow kernels.SGDConfig / kernels.AdamConfig (PyTorch's rules);
// the Adam bias corrections 1-β^t are computed once on the host and passed in.
// Memory-bound: SGD reads param, grad, velocity and writes param, velocity (20 bytes per
// element); Adam reads 4 and writes 3 tensors (28 bytes per element).

struct SGD {
    float lr, momentum, weight_decay;
    bool nesterov;
    __device__ void update(float& param, float grad, float& vel) const {
        const float g = grad + weight_decay * param;
        vel = momentum * vel + g;
        param -= lr * (nesterov ? g + momentum * vel : vel);
    }
};

struct Adam {
    float lr, beta1, beta2, eps, weight_decay, bias_correction1, bias_correction2;
    bool decoupled;
    __device__ void update(float& param, float grad, float& m, float& v) const {
        float g = grad;
        if (decoupled) param -= lr * weight_decay * param;
        else g += weight_decay * param;
        m = beta1 * m + (1.f - beta1) * g;
        v = beta2 * v + (1.f - beta2) * g * g;
        const float m_hat = m / bias_correction1, v_hat = v / bias_correction2;
        param -= lr * m_hat / (sqrtf(v_hat) + eps);
    }
};

extern "C" {

__global__ void sgd_update(float* param, const float* grad, float* vel, int n, float lr,
                           float momentum, float weight_decay, int nesterov) {
    const SGD opt{lr, momentum, weight_decay, nesterov != 0};
    const int n4 = n >> 2;
    const int stride = gridDim.x * blockDim.x;
    const int tid = blockIdx.x * blockDim.x + threadIdx.x;
    for (int i = tid; i < n4; i += stride) {
        float4 p = reinterpret_cast<float4*>(param)[i];
        float4 v = reinterpret_cast<float4*>(vel)[i];
        const float4 g = reinterpret_cast<const float4*>(grad)[i];
        opt.update(p.x, g.x, v.x); opt.update(p.y, g.y, v.y);
        opt.update(p.z, g.z, v.z); opt.update(p.w, g.w, v.w);
        reinterpret_cast<float4*>(param)[i] = p;
        reinterpret_cast<float4*>(vel)[i] = v;
    }
    const int t = (n4 << 2) + tid;
    if (t < n) opt.update(param[t], grad[t], vel[t]);
}

__global__ void adam_update(float* param, const float* grad, float* m, float* v, int n, float lr,
                            float beta1, float beta2, float eps, float weight_decay, int decoupled,
                            float bias_correction1, float bias_correction2) {
    const Adam opt{lr, beta1, beta2, eps, weight_decay, bias_correction1, bias_correction2,
                   decoupled != 0};
    const int n4 = n >> 2;
    const int stride = gridDim.x * blockDim.x;
    const int tid = blockIdx.x * blockDim.x + threadIdx.x;
    for (int i = tid; i < n4; i += stride) {
        float4 p = reinterpret_cast<float4*>(param)[i];
        float4 mm = reinterpret_cast<float4*>(m)[i];
        float4 vv = reinterpret_cast<float4*>(v)[i];
        const float4 g = reinterpret_cast<const float4*>(grad)[i];
        opt.update(p.x, g.x, mm.x, vv.x); opt.update(p.y, g.y, mm.y, vv.y);
        opt.update(p.z, g.z, mm.z, vv.z); opt.update(p.w, g.w, mm.w, vv.w);
        reinterpret_cast<float4*>(param)[i] = p;
        reinterpret_cast<float4*>(m)[i] = mm;
        reinterpret_cast<float4*>(v)[i] = vv;
    }
    const int t = (n4 << 2) + tid;
    if (t < n) opt.update(param[t], grad[t], m[t], v[t]);
}

}  // extern "C"
