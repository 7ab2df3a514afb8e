package gallery

import (
	"cmp"
	"fmt"
	"slices"
)

// Hit is one gallery photo and its cosine similarity to a query.
type Hit struct {
	Index      int
	Entry      Entry
	Similarity float32
}

// similarities returns the cosine similarity of a query direction (see Direction) to every
// gallery photo: plain dot products, since both are unit length.
func (g *Gallery) similarities(query []float32) ([]float32, error) {
	if len(query) != g.Dim {
		return nil, fmt.Errorf("gallery: query embedding has %d values, the gallery holds %d", len(query), g.Dim)
	}
	sims := make([]float32, len(g.Entries))
	for i := range sims {
		var dot float32
		for j, v := range g.Vector(i) {
			dot += v * query[j]
		}
		sims[i] = dot
	}
	return sims, nil
}

// Nearest returns the k gallery photos most similar to a query direction, best first (ties in
// gallery order).
func (g *Gallery) Nearest(query []float32, k int) ([]Hit, error) {
	sims, err := g.similarities(query)
	if err != nil {
		return nil, err
	}
	hits := make([]Hit, len(sims))
	for i, s := range sims {
		hits[i] = Hit{Index: i, Entry: g.Entries[i], Similarity: s}
	}
	slices.SortStableFunc(hits, func(a, b Hit) int { return cmp.Compare(b.Similarity, a.Similarity) })
	return hits[:min(k, len(hits))], nil
}

// IdentityScore is how much a query looks like one identity of the gallery.
type IdentityScore struct {
	Identity string
	// Score is the mean similarity of the identity's TopPhotos closest photos.
	Score float32
	// Closest is the identity's single most similar photo.
	Closest Hit
}

// TopPhotos is how many of an identity's closest photos its score averages. One photo (the
// maximum) lets a single near-duplicate or a badly cropped gallery photo decide; all photos
// (the mean) lets an identity with many varied photos lose to one with a few consistent ones.
// The mean of the three closest is the usual middle ground of nearest-neighbour face search:
// it needs the query to resemble several photos of the person, and an identity enrolled with
// fewer photos averages what it has.
const TopPhotos = 3

// RankIdentities scores every identity of the gallery against a query direction and returns
// them best first: the ranking that 'vgg match --by embedding' uses, and the only one that knows
// identities enrolled after training.
func (g *Gallery) RankIdentities(query []float32) ([]IdentityScore, error) {
	sims, err := g.similarities(query)
	if err != nil {
		return nil, err
	}
	byIdentity := map[string][]Hit{}
	for i, s := range sims {
		e := g.Entries[i]
		byIdentity[e.Identity] = append(byIdentity[e.Identity], Hit{Index: i, Entry: e, Similarity: s})
	}
	var scores []IdentityScore
	for name, hits := range byIdentity {
		slices.SortStableFunc(hits, func(a, b Hit) int { return cmp.Compare(b.Similarity, a.Similarity) })
		top := hits[:min(TopPhotos, len(hits))]
		var sum float32
		for _, h := range top {
			sum += h.Similarity
		}
		scores = append(scores, IdentityScore{Identity: name, Score: sum / float32(len(top)), Closest: hits[0]})
	}
	slices.SortFunc(scores, func(a, b IdentityScore) int {
		if c := cmp.Compare(b.Score, a.Score); c != 0 {
			return c
		}
		return cmp.Compare(a.Identity, b.Identity)
	})
	return scores, nil
}

// Closest returns the photo of one identity most similar to a query direction; ok is false
// when the gallery has no photo of that identity.
func (g *Gallery) Closest(query []float32, identity string) (hit Hit, ok bool, err error) {
	sims, err := g.similarities(query)
	if err != nil {
		return Hit{}, false, err
	}
	identity = NormalizeName(identity)
	for i, s := range sims {
		e := g.Entries[i]
		if e.Identity == identity && (!ok || s > hit.Similarity) {
			hit, ok = Hit{Index: i, Entry: e, Similarity: s}, true
		}
	}
	return hit, ok, nil
}

// Ranking names what orders the identities of a look-alike answer.
type Ranking string

const (
	// ByClassifier ranks the identities the model was trained on by its softmax probability.
	ByClassifier Ranking = "classifier"
	// ByEmbedding ranks every gallery identity, enrolled ones included, by its gallery score
	// (see RankIdentities).
	ByEmbedding Ranking = "embedding"
)

// ParseRanking reads a --by value.
func ParseRanking(s string) (Ranking, error) {
	switch r := Ranking(s); r {
	case ByClassifier, ByEmbedding:
		return r, nil
	}
	return "", fmt.Errorf("ranking %q is neither %q nor %q", s, ByClassifier, ByEmbedding)
}

// Candidate is one identity of a look-alike answer.
type Candidate struct {
	Identity string
	// Probability is the classifier's, when it knows the identity (Known).
	Probability float32
	Known       bool
	// Score is the gallery score (ByEmbedding only; zero otherwise).
	Score float32
	// Closest is the identity's gallery photo most like the face; HasClosest is false when the
	// gallery has no photo of it.
	Closest    Hit
	HasClosest bool
}

// Answer ranks the top k identities for one face: its network output (embedding and class
// probabilities for the classes named classNames) against the gallery g (nil: no gallery,
// possible only with ByClassifier). Each candidate comes with the gallery photo of that
// identity most similar to the face, when there is a gallery and the face's embedding has a
// direction (ErrSilent, an error only when ranking by embedding).
func Answer(out Output, classNames []string, g *Gallery, by Ranking, k int) ([]Candidate, error) {
	var query []float32
	var silent error
	if g != nil {
		query, silent = g.Direction(out.Embedding)
	}
	classOf := map[string]int{}
	for i, n := range classNames {
		classOf[NormalizeName(n)] = i
	}
	var cands []Candidate
	switch by {
	case ByClassifier:
		order := make([]int, len(out.Probabilities))
		for i := range order {
			order[i] = i
		}
		slices.SortStableFunc(order, func(a, b int) int { return cmp.Compare(out.Probabilities[b], out.Probabilities[a]) })
		for _, class := range order[:min(k, len(order))] {
			cands = append(cands, Candidate{Identity: classNames[class], Probability: out.Probabilities[class], Known: true})
		}
	case ByEmbedding:
		if g == nil || g.Len() == 0 {
			return nil, fmt.Errorf("ranking by embedding needs a gallery; build one with 'vgg index'")
		}
		if silent != nil {
			return nil, silent
		}
		scores, err := g.RankIdentities(query)
		if err != nil {
			return nil, err
		}
		for _, s := range scores[:min(k, len(scores))] {
			c := Candidate{Identity: s.Identity, Score: s.Score, Closest: s.Closest, HasClosest: true}
			if class, ok := classOf[s.Identity]; ok {
				c.Probability, c.Known = out.Probabilities[class], true
			}
			cands = append(cands, c)
		}
		return cands, nil
	default:
		return nil, fmt.Errorf("unknown ranking %q", by)
	}
	// A silent embedding still has class probabilities; it just resembles no gallery photo.
	if g != nil && silent == nil {
		for i := range cands {
			hit, ok, err := g.Closest(query, cands[i].Identity)
			if err != nil {
				return nil, err
			}
			cands[i].Closest, cands[i].HasClosest = hit, ok
		}
	}
	return cands, nil
}
