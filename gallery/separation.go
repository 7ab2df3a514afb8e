package gallery

import "fmt"

// A network that has not learned can map every face to nearly the same embedding. Centred and
// scaled to unit length, what is left of such embeddings is noise or a single direction, and
// "the most similar photo" is then any photo, often at a similarity near 1. Separation measures
// this on the gallery itself: whether photos of one person are more alike than photos of two.

// separationSample is how many photos the measure uses at most, spread evenly over the gallery:
// 400 photos are 80 000 pairs, a fraction of a second, and plenty for two means.
const separationSample = 400

// The collapse rule: the embeddings no longer tell people apart when photos of different people
// are nearly as alike as the same photo (mean similarity above maxDifferent), or when photos of
// the same person are no more alike than photos of different people (the gap below minGap; a
// trained model has gaps of 0.3 and more).
const (
	maxDifferent = 0.95
	minGap       = 0.05
)

// Separation is how well a gallery's embeddings tell its identities apart.
type Separation struct {
	// Same and Different are the mean cosine similarities of pairs of photos of the same
	// identity and of different identities, over SamePairs and DifferentPairs pairs.
	Same           float64 `json:"same"`
	Different      float64 `json:"different"`
	SamePairs      int     `json:"same_pairs"`
	DifferentPairs int     `json:"different_pairs"`
}

// Separation measures the gallery (a sample of a large one); it is kept until the gallery
// changes, and saved in the file.
func (g *Gallery) Separation() Separation {
	if g.separation != nil {
		return *g.separation
	}
	var picked []int
	n := g.Len()
	for k := range min(n, separationSample) {
		picked = append(picked, k*n/min(n, separationSample))
	}
	var s Separation
	for a, i := range picked {
		vi := g.Vector(i)
		for _, j := range picked[a+1:] {
			vj := g.Vector(j)
			var dot float64
			for d, v := range vi {
				dot += float64(v) * float64(vj[d])
			}
			if g.Entries[i].Identity == g.Entries[j].Identity {
				s.Same += dot
				s.SamePairs++
			} else {
				s.Different += dot
				s.DifferentPairs++
			}
		}
	}
	s.Same /= float64(max(s.SamePairs, 1))
	s.Different /= float64(max(s.DifferentPairs, 1))
	g.separation = &s
	return s
}

// Collapsed says whether the embeddings have collapsed (see maxDifferent and minGap), with the
// numbers in words. A gallery without pairs of both kinds cannot tell and is not collapsed.
func (s Separation) Collapsed() (bool, string) {
	if s.SamePairs == 0 || s.DifferentPairs == 0 {
		return false, ""
	}
	numbers := fmt.Sprintf("photos of the same person have a mean similarity of %.3f, photos of different people %.3f", s.Same, s.Different)
	switch {
	case s.Different > maxDifferent:
		return true, "the embeddings have collapsed: " + numbers + ", so every face looks like every other"
	case s.Same-s.Different < minGap:
		return true, "the embeddings do not separate people: " + numbers + ", so the closest photo is no more likely to be of the same person"
	}
	return false, ""
}
