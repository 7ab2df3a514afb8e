package dataset

// Every random choice the package makes (the split, each epoch's order, each sample's
// augmentation) draws from its own generator, seeded by a hash of the user's seed and of
// what is being decided. A choice then depends on nothing else: not on which worker got
// there first, not on the batch size, not on how many epochs ran before a resume.

// The purposes keep the streams of different decisions apart under the same seed.
const (
	purposeSplit uint32 = iota + 1
	purposeShuffle
	purposeAugment
	purposeMixup
)
