package dataset

import (
	"fmt"
	"math"

	"github.com/vgglab/vgg/kernels"
)

// Split divides the samples into a training and a validation set, stratified: each
// identity gives round(valFraction * its photo count) photos to validation, chosen at
// random under seed, but always keeps at least one for training (an identity the network
// never sees cannot be learnt). With a valFraction above zero, an identity also gives at least
// minValPhotos, as long as that is no more than a fifth of its photos: a tenth of 18 photos
// is 2, and 6 people x 2 photos is too few to tell a model that learned from a lucky guess. The same seed and fraction give the same split on every
// machine. Both sets keep d's Classes and are ordered by label then path.
// minValPhotos is the fewest validation photos Split takes from an identity with enough photos.
const minValPhotos = 3

func (d *Dataset) Split(seed uint64, valFraction float64) (train, val *Dataset, err error) {
	if !(valFraction >= 0 && valFraction < 1) {
		return nil, nil, fmt.Errorf("dataset: validation fraction %v is outside [0, 1)", valFraction)
	}
	byLabel := make([][]Sample, len(d.Classes))
	for _, s := range d.Samples {
		byLabel[s.Label] = append(byLabel[s.Label], s)
	}
	var trainSamples, valSamples []Sample
	for label, samples := range byLabel {
		nVal := int(math.Round(valFraction * float64(len(samples))))
		if valFraction > 0 {
			nVal = max(nVal, min(minValPhotos, len(samples)/5))
		}
		nVal = min(nVal, len(samples)-1)
		rng := kernels.NewStreamRand(seed, purposeSplit, label, 0)
		isVal := make([]bool, len(samples))
		for _, i := range rng.Perm(len(samples))[:max(nVal, 0)] {
			isVal[i] = true
		}
		for i, s := range samples {
			if isVal[i] {
				valSamples = append(valSamples, s)
			} else {
				trainSamples = append(trainSamples, s)
			}
		}
	}
	return d.subset(trainSamples), d.subset(valSamples), nil
}
