package kernels

import "math/rand/v2"

// Philox4x32-10 (Salmon et al., "Parallel random numbers: as easy as 1, 2, 3", SC'11) is a
// counter-based generator: the random bits for element i are a pure function of (seed, i), so
// any thread on any backend can draw them in any order. Dropout uses it so that the CPU and the
// GPU build the very same mask, and backward recomputes the mask instead of storing it.
// kernels/cuda/philox.cuh is the CUDA twin of this file; the two must stay bit-identical.

const (
	philoxM0 = 0xD2511F53
	philoxM1 = 0xCD9E8D57
	philoxW0 = 0x9E3779B9
	philoxW1 = 0xBB67AE85
)

// Philox4x32 returns the four 32-bit outputs of Philox4x32-10 for a 128-bit counter and a
// 64-bit key.
func Philox4x32(counter [4]uint32, key [2]uint32) [4]uint32 {
	c, k := counter, key
	for round := 0; round < 10; round++ {
		p0 := uint64(philoxM0) * uint64(c[0])
		p1 := uint64(philoxM1) * uint64(c[2])
		c = [4]uint32{
			uint32(p1>>32) ^ c[1] ^ k[0], uint32(p1),
			uint32(p0>>32) ^ c[3] ^ k[1], uint32(p0),
		}
		k[0] += philoxW0
		k[1] += philoxW1
	}
	return c
}

// UniformBits returns the 32 random bits of element index i under seed. One Philox call makes
// four words, so four consecutive elements share it: element i takes word i%4 of the output
// for counter (i/4, 0) under key seed. A GPU thread that handles a float4 then runs Philox
// once, not four times.
func UniformBits(seed, i uint64) uint32 {
	block := i >> 2
	out := Philox4x32([4]uint32{uint32(block), uint32(block >> 32), 0, 0}, [2]uint32{uint32(seed), uint32(seed >> 32)})
	return out[i&3]
}

// Uniform returns a float32 in [0, 1) for element index i under seed: the top 24 bits of
// UniformBits scaled by 2^-24 (exact in float32).
func Uniform(seed, i uint64) float32 { return UniformFromBits(UniformBits(seed, i)) }

// UniformFromBits is Uniform for the UniformBits bits: their top 24 bits scaled by 2^-24.
func UniformFromBits(bits uint32) float32 { return float32(bits>>8) * (1.0 / (1 << 24)) }

// DropoutKeep reports whether inverted dropout with drop probability p keeps element i under
// seed. Both backends decide by exactly this rule.
func DropoutKeep(seed, i uint64, p float32) bool { return Uniform(seed, i) >= p }

// NewStreamRand returns a generator determined by (seed, purpose, a, b): Philox's 128 output
// bits for counter (purpose, a, b) under key seed, well mixed even for neighbouring inputs
// (epoch 3 and 4, sample 17 and 18), seed a PCG stream. Data augmentation, shuffling and the
// synthetic faces draw from such streams so that any sample of any epoch can be redrawn alone,
// which is what makes a resumed run exact.
func NewStreamRand(seed uint64, purpose uint32, a, b int) *rand.Rand {
	out := Philox4x32([4]uint32{purpose, uint32(a), uint32(b), 0}, [2]uint32{uint32(seed), uint32(seed >> 32)})
	return rand.New(rand.NewPCG(uint64(out[0])<<32|uint64(out[1]), uint64(out[2])<<32|uint64(out[3])))
}
