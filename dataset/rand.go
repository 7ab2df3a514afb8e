package dataset

import (
	"math/rand/v2"

	"github.com/vgglab/vgg/kernels"
)

// Every random choice the package makes (the split, each epoch's order, each sample's
// augmentation) draws from its own generator, seeded by a hash of the user's seed and of
// what is being decided. A choice then depends on nothing else: not on which worker got
// there first, not on the batch size, not on how many epochs ran before a resume.

// The purposes keep the streams of different decisions apart under the same seed.
const (
	purposeSplit uint32 = iota + 1
	purposeShuffle
	purposeAugment
)

// newRand returns a generator determined by (seed, purpose, a, b). The counter-based
// Philox4x32 generator that dropout uses serves as the hash: its 128 output bits for the
// counter (purpose, a, b) under key seed are well mixed even for neighbouring inputs
// (epoch 3 and 4, sample 17 and 18), and seed the PCG stream.
func newRand(seed uint64, purpose uint32, a, b int) *rand.Rand {
	out := kernels.Philox4x32([4]uint32{purpose, uint32(a), uint32(b), 0}, [2]uint32{uint32(seed), uint32(seed >> 32)})
	return rand.New(rand.NewPCG(uint64(out[0])<<32|uint64(out[1]), uint64(out[2])<<32|uint64(out[3])))
}
