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

// similarities returns the cosine similarity of a unit-length query to every gallery photo:
// plain dot products, since the gallery's embeddings are unit length too.
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

// Nearest returns the k gallery photos most similar to a unit-length query, best first (ties in
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

// RankIdentities scores every identity of the gallery against a unit-length query and returns
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

// Closest returns the photo of one identity most similar to a unit-length query; ok is false
// when the gallery has no photo of that identity.
func (g *Gallery) Closest(query []float32, identity string) (hit Hit, ok bool, err error) {
	sims, err := g.similarities(query)
	if err != nil {
		return Hit{}, false, err
	}
	for i, s := range sims {
		e := g.Entries[i]
		if e.Identity == identity && (!ok || s > hit.Similarity) {
			hit, ok = Hit{Index: i, Entry: e, Similarity: s}, true
		}
	}
	return hit, ok, nil
}
