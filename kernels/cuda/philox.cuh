// philox.cuh: Philox4x32-10, the CUDA twin of kernels/philox.go. The two must stay
// bit-identical: same counter layout (element index / 4 in words 0 and 1), same key (seed,
// low word first), same round constants, the same word for each element (index % 4) and the
// same keep rule (its top 24 bits, as Uniform reads them), so the GPU drops exactly the
// elements the CPU drops.
#pragma once

#define PHILOX_M0 0xD2511F53u
#define PHILOX_M1 0xCD9E8D57u
#define PHILOX_W0 0x9E3779B9u
#define PHILOX_W1 0xBB67AE85u

// philox4x32_10 runs the ten rounds on one 128-bit counter under one 64-bit key.
__device__ __forceinline__ uint4 philox4x32_10(uint4 c, uint2 k) {
#pragma unroll
    for (int round = 0; round < 10; round++) {
        unsigned hi0 = __umulhi(PHILOX_M0, c.x), lo0 = PHILOX_M0 * c.x;
        unsigned hi1 = __umulhi(PHILOX_M1, c.z), lo1 = PHILOX_M1 * c.z;
        c = make_uint4(hi1 ^ c.y ^ k.x, lo1, hi0 ^ c.w ^ k.y, lo0);
        k.x += PHILOX_W0;
        k.y += PHILOX_W1;
    }
    return c;
}

// philox_block returns the random words of elements 4*block .. 4*block+3 (kernels.UniformBits).
__device__ __forceinline__ uint4 philox_block(unsigned long long seed, unsigned long long block) {
    return philox4x32_10(make_uint4((unsigned)block, (unsigned)(block >> 32), 0u, 0u),
                         make_uint2((unsigned)seed, (unsigned)(seed >> 32)));
}

// philox_keep is kernels.DropoutKeep without floating point, for one word x of philox_block.
// Uniform is (x>>8) * 2^-24 exactly, so Uniform >= p holds exactly when the integer x>>8 is
// at least ceil(p * 2^24): the threshold the launcher computes once per call.
__device__ __forceinline__ bool philox_keep(unsigned x, unsigned threshold) {
    return (x >> 8) >= threshold;
}
