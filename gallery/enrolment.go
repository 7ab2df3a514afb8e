package gallery

import (
	"fmt"
	"slices"

	"github.com/vgglab/vgg/kernels"
)

// EnrolmentScore is how well a gallery's embeddings tell apart people enrolled from a few photos
// each: the measure of 'vgg evaluate', for people the model never trained on. Each identity
// enrols Shots photos; every other photo of it is a query, answered by RankIdentities over the
// enrolled photos alone, as 'vgg match --by embedding' answers after 'vgg enrol'.
type EnrolmentScore struct {
	Shots      int `json:"shots"`
	Identities int `json:"identities"`
	Queries    int `json:"queries"`
	// Top1 and Top5 are the shares of queries whose identity ranks first, or in the first five.
	Top1 float64 `json:"top1"`
	Top5 float64 `json:"top5"`
	// Chance is 1/Identities, the top-1 of a guess.
	Chance float64 `json:"chance"`
	// SameSimilarity and OtherSimilarity are the mean cosine similarity of a query to the
	// enrolled photos of its own identity and to those of the others: embeddings that serve
	// "most similar photo" keep them far apart.
	SameSimilarity  float64 `json:"same_similarity"`
	OtherSimilarity float64 `json:"other_similarity"`
}

// EvaluateEnrolment scores the gallery g (every photo of the people to enrol, already embedded)
// as an enrolment of shots photos per identity, the photos chosen at random under seed.
// Identities with fewer than shots+1 photos are left out (they would have no query).
func EvaluateEnrolment(g *Gallery, shots int, seed uint64) (EnrolmentScore, error) {
	score := EnrolmentScore{Shots: shots}
	if shots < 1 {
		return score, fmt.Errorf("gallery: enrolment needs at least one photo per identity, not %d", shots)
	}
	byIdentity := map[string][]int{}
	for i, e := range g.Entries {
		byIdentity[e.Identity] = append(byIdentity[e.Identity], i)
	}
	names := make([]string, 0, len(byIdentity))
	for name, photos := range byIdentity {
		if len(photos) > shots {
			names = append(names, name)
		}
	}
	slices.Sort(names)
	if len(names) < 2 {
		return score, fmt.Errorf("gallery: enrolment needs two identities with more than %d photos each; %d have", shots, len(names))
	}
	enrolled := &Gallery{ModelSHA256: g.ModelSHA256, Dim: g.Dim, Mean: g.Mean, Whitening: g.Whitening}
	var queries []int
	for k, name := range names {
		photos := byIdentity[name]
		order := kernels.NewStreamRand(seed, purposeEnrolment, k, 0).Perm(len(photos))
		for j, p := range order {
			if j < shots {
				enrolled.Entries = append(enrolled.Entries, g.Entries[photos[p]])
				enrolled.vectors = append(enrolled.vectors, g.Vector(photos[p])...)
			} else {
				queries = append(queries, photos[p])
			}
		}
	}
	var top1, top5 int
	var same, other float64
	var nSame, nOther int
	for _, q := range queries {
		want := g.Entries[q].Identity
		ranked, err := enrolled.RankIdentities(g.Vector(q))
		if err != nil {
			return score, err
		}
		rank := slices.IndexFunc(ranked, func(s IdentityScore) bool { return s.Identity == want })
		if rank == 0 {
			top1++
		}
		if rank >= 0 && rank < 5 {
			top5++
		}
		sims, err := enrolled.similarities(g.Vector(q))
		if err != nil {
			return score, err
		}
		for i, s := range sims {
			if enrolled.Entries[i].Identity == want {
				same += float64(s)
				nSame++
			} else {
				other += float64(s)
				nOther++
			}
		}
	}
	score.Identities = len(names)
	score.Queries = len(queries)
	score.Top1 = float64(top1) / float64(len(queries))
	score.Top5 = float64(top5) / float64(len(queries))
	score.Chance = 1 / float64(len(names))
	score.SameSimilarity = same / float64(nSame)
	score.OtherSimilarity = other / float64(nOther)
	return score, nil
}

// purposeEnrolment keys the random stream that picks each identity's enrolled photos.
const purposeEnrolment uint32 = 0x656e726c // "enrl"
