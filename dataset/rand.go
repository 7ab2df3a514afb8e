package dataset

import "math/rand/v2"

// Every random choice the package makes (the split, each epoch's order, each sample's
// augmentation) draws from its own generator, seeded by a hash of the user's seed and of
// what is being decided. A choice then depends on nothing else: not on which worker got
// there first, not on the batch size, not on how many epochs ran before a resume.

// The purposes keep the streams of different decisions apart under the same seed.
const (
	purposeSplit uint64 = iota + 1
	purposeShuffle
	purposeAugment
)

// newRand returns a generator determined by words, mixed through SplitMix64 so that
// nearby inputs (epoch 3 and 4, sample 17 and 18) give unrelated streams.
func newRand(words ...uint64) *rand.Rand {
	var h uint64 = 0x243f6a8885a308d3 // pi's fractional digits: any fixed start would do
	for _, w := range words {
		h = splitMix64(h ^ w)
	}
	return rand.New(rand.NewPCG(h, splitMix64(h)))
}

// splitMix64 is the finaliser of Steele, Lea and Flood's SplitMix64 generator, a cheap
// bijection that spreads every input bit over the whole output.
func splitMix64(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9
	x = (x ^ (x >> 27)) * 0x94d049bb133111eb
	return x ^ (x >> 31)
}
