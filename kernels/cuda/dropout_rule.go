package cuda

import "math"

// dropoutThreshold turns kernels.DropoutKeep's rule into integers for the GPU: Uniform(seed, i)
// is (x>>8)·2⁻²⁴ for x = kernels.UniformBits(seed, i), exactly, so Uniform >= p holds exactly
// when x>>8 >= ⌈p·2²⁴⌉ (p·2²⁴ is exact in float64). philox.cuh's philox_keep compares with
// this threshold. No build tag, so its test runs without a GPU.
func dropoutThreshold(p float32) uint32 {
	return uint32(math.Ceil(float64(p) * (1 << 24)))
}
