package gallery

import (
	"fmt"
	"math"
	"testing"

	"github.com/vgglab/vgg/tensor"
)

// clusteredGallery holds photos of identities whose embeddings scatter around one random
// direction each by spread (0: every photo of a person alike; large: people blur together).
func clusteredGallery(t *testing.T, identities, photos int, spread float64) *Gallery {
	t.Helper()
	const dim = 32
	rng := tensor.NewRand(7)
	g := New("test", dim)
	for id := range identities {
		centre := make([]float64, dim)
		for i := range centre {
			centre[i] = rng.NormFloat64()
		}
		for p := range photos {
			v := make([]float32, dim)
			for i := range v {
				v[i] = float32(centre[i] + spread*rng.NormFloat64())
			}
			if err := g.Add(Entry{Identity: fmt.Sprintf("person%02d", id), Path: fmt.Sprintf("%d/%d.jpg", id, p)}, v); err != nil {
				t.Fatal(err)
			}
		}
	}
	return g
}

func TestEvaluateEnrolment(t *testing.T) {
	cases := []struct {
		name             string
		spread           float64
		minTop1, maxTop1 float64
	}{
		{"separated people", 0.3, 0.99, 1},
		{"indistinguishable people", 100, 0, 0.35}, // chance is 1/8
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			g := clusteredGallery(t, 8, 12, c.spread)
			s, err := EvaluateEnrolment(g, 5, 1)
			if err != nil {
				t.Fatal(err)
			}
			if s.Identities != 8 || s.Queries != 8*7 || s.Shots != 5 || math.Abs(s.Chance-0.125) > 1e-12 {
				t.Fatalf("counts %+v, want 8 identities, 56 queries, 5 shots, chance 1/8", s)
			}
			if s.Top1 < c.minTop1 || s.Top1 > c.maxTop1 || s.Top5 < s.Top1 {
				t.Errorf("top-1 %.3f (top-5 %.3f), want within [%.2f, %.2f]", s.Top1, s.Top5, c.minTop1, c.maxTop1)
			}
			if c.spread < 1 && s.SameSimilarity < s.OtherSimilarity+0.5 {
				t.Errorf("own-person similarity %.3f is not far above other people's %.3f", s.SameSimilarity, s.OtherSimilarity)
			}
		})
	}
	// Same seed, same photos enrolled; another seed, others.
	g := clusteredGallery(t, 8, 12, 2)
	a, _ := EvaluateEnrolment(g, 5, 1)
	b, _ := EvaluateEnrolment(g, 5, 1)
	if a != b {
		t.Errorf("two evaluations with one seed differ: %+v, %+v", a, b)
	}
}

func TestEvaluateEnrolmentRefuses(t *testing.T) {
	g := clusteredGallery(t, 3, 4, 0.3)
	if _, err := EvaluateEnrolment(g, 0, 1); err == nil {
		t.Error("0 shots accepted")
	}
	if _, err := EvaluateEnrolment(g, 4, 1); err == nil {
		t.Error("4 shots of 4-photo identities accepted (no query left)")
	}
}
