package gallery

import (
	"fmt"
	"math"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"testing"
)

// nuisanceSet draws photos of people whose embeddings vary within a person mostly along three
// directions every person shares (pose, light, expression), by far more than people differ:
// what whitening is for. Identities are named from first.
func nuisanceSet(rng *rand.Rand, dim, people, photos, first int) (raw [][]float32, identities []string) {
	for p := range people {
		centre := make([]float64, dim)
		for k := range centre {
			centre[k] = 0.3 * rng.NormFloat64()
		}
		for range photos {
			v := make([]float32, dim)
			for k := range v {
				spread := 0.05
				if k < 3 {
					spread = 1
				}
				v[k] = float32(1 + centre[k] + spread*rng.NormFloat64())
			}
			raw = append(raw, v)
			identities = append(identities, fmt.Sprint("person ", first+p))
		}
	}
	return raw, identities
}

// enrolmentTop1 enrols the first shots photos of each identity and answers the rest by the
// highest mean similarity to an identity's enrolled directions.
func enrolmentTop1(g *Gallery, raw [][]float32, identities []string, shots int) float64 {
	enrolled := map[string][][]float32{}
	var queries []int
	for i, id := range identities {
		if len(enrolled[id]) < shots {
			d, _ := g.Direction(raw[i])
			enrolled[id] = append(enrolled[id], d)
		} else {
			queries = append(queries, i)
		}
	}
	right := 0
	for _, q := range queries {
		d, _ := g.Direction(raw[q])
		best, bestScore := "", math.Inf(-1)
		for id, dirs := range enrolled {
			score := 0.0
			for _, e := range dirs {
				score += cosine(d, e)
			}
			if score > bestScore {
				best, bestScore = id, score
			}
		}
		if best == identities[q] {
			right++
		}
	}
	return float64(right) / float64(len(queries))
}

// TestWhiteningTellsUnseenPeopleApart fits the whitening on 20 people and enrols 10 others:
// with the shared spread scaled away they are told apart far more often. The margin (0.25) is
// a property of the data, far above what rounding could move.
func TestWhiteningTellsUnseenPeopleApart(t *testing.T) {
	const dim = 16
	rng := rand.New(rand.NewPCG(1, 2))
	trainRaw, trainIDs := nuisanceSet(rng, dim, 20, 12, 0)
	g := whitenedGallery(t, dim, trainRaw, trainIDs)
	unseenRaw, unseenIDs := nuisanceSet(rng, dim, 10, 12, 20)
	whitened := enrolmentTop1(g, unseenRaw, unseenIDs, 3)
	g.Whitening = nil
	plain := enrolmentTop1(g, unseenRaw, unseenIDs, 3)
	if whitened < plain+0.25 {
		t.Errorf("unseen people told apart %.1f%% of the time whitened, %.1f%% not; want at least 25 points more", 100*whitened, 100*plain)
	}
}

// whitenedGallery is an empty gallery centred and whitened on raw, whose identities are ids.
func whitenedGallery(t *testing.T, dim int, raw [][]float32, ids []string) *Gallery {
	t.Helper()
	g := New("abc", dim)
	if err := g.SetMean(raw); err != nil {
		t.Fatal(err)
	}
	var err error
	if g.Whitening, err = fitOn(g, raw, entriesOf(ids)); err != nil || g.Whitening == nil {
		t.Fatalf("fitting the whitening: %v, %d values", err, len(g.Whitening))
	}
	return g
}

func entriesOf(identities []string) []Entry {
	var es []Entry
	for i, id := range identities {
		es = append(es, Entry{Identity: id, Path: fmt.Sprintf("%d.jpg", i)})
	}
	return es
}

// TestFitWhiteningInvertsTheSpread checks the transform itself: T (S + ridge I) T is the
// identity, S the within-identity covariance of the directions computed here in float64.
// T is stored in float32 and (S + ridge I) spans a condition of at most 1/whiteningRidge, so
// the product is exact to about 1e-7 * 1e3; 1e-3 allows for that.
func TestFitWhiteningInvertsTheSpread(t *testing.T) {
	const dim = 6
	rng := rand.New(rand.NewPCG(3, 4))
	raw, ids := nuisanceSet(rng, dim, 4, 5, 0)
	dirs := make([][]float32, len(raw))
	for i, r := range raw {
		var err error
		if dirs[i], err = normalize(r); err != nil {
			t.Fatal(err)
		}
	}
	w, err := fitWhitening(dirs, ids, dim)
	if err != nil || w == nil {
		t.Fatalf("fitWhitening: %v", err)
	}
	s := make([]float64, dim*dim)
	for p := range 4 {
		members := []int{}
		for i, id := range ids {
			if id == fmt.Sprint("person ", p) {
				members = append(members, i)
			}
		}
		mean := make([]float64, dim)
		for _, i := range members {
			for k := range dim {
				mean[k] += float64(dirs[i][k]) / float64(len(members))
			}
		}
		for _, i := range members {
			for a := range dim {
				for b := range dim {
					s[a*dim+b] += (float64(dirs[i][a]) - mean[a]) * (float64(dirs[i][b]) - mean[b]) / float64(len(raw))
				}
			}
		}
	}
	// The ridge is whiteningRidge times S's largest eigenvalue: found by power iteration.
	v := slices.Repeat([]float64{1}, dim)
	largest := 0.0
	for range 500 {
		next := make([]float64, dim)
		for a := range dim {
			for b := range dim {
				next[a] += s[a*dim+b] * v[b]
			}
		}
		largest = math.Sqrt(dot64(next, next))
		for a := range next {
			v[a] = next[a] / largest
		}
	}
	for a := range dim {
		s[a*dim+a] += whiteningRidge * largest
	}
	for i := range dim {
		for j := range dim {
			sum := 0.0
			for a := range dim {
				for b := range dim {
					sum += float64(w[i*dim+a]) * s[a*dim+b] * float64(w[b*dim+j])
				}
			}
			want := 0.0
			if i == j {
				want = 1
			}
			if math.Abs(sum-want) > 1e-3 {
				t.Fatalf("T (S + ridge) T [%d, %d] = %.6f, want %v", i, j, sum, want)
			}
		}
	}
	// Nothing to fit: one identity, or an embedding too wide to whiten.
	if w, err := fitWhitening(dirs[:5], ids[:5], dim); w != nil || err != nil {
		t.Errorf("one identity: %d values, %v; want none", len(w), err)
	}
	if w, err := fitWhitening(nil, nil, MaxWhitenedWidth+1); w != nil || err != nil {
		t.Errorf("%d-wide: %d values, %v; want none", MaxWhitenedWidth+1, len(w), err)
	}
}

func dot64(a, b []float64) float64 {
	s := 0.0
	for i := range a {
		s += a[i] * b[i]
	}
	return s
}

// TestWhitenedGalleryRoundTrip: a whitened gallery saves and loads with its whitening, and a
// face's direction is the same before and after.
func TestWhitenedGalleryRoundTrip(t *testing.T) {
	const dim = 5
	rng := rand.New(rand.NewPCG(5, 6))
	raw, ids := nuisanceSet(rng, dim, 3, 4, 0)
	g := whitenedGallery(t, dim, raw, ids)
	for i, r := range raw {
		if err := g.Add(entriesOf(ids)[i], r); err != nil {
			t.Fatal(err)
		}
	}
	path := filepath.Join(t.TempDir(), "w.gallery")
	if err := g.Save(path); err != nil {
		t.Fatal(err)
	}
	back, err := Load(path, "abc")
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(back.Whitening, g.Whitening) || !slices.Equal(back.vectors, g.vectors) {
		t.Fatal("the whitening or the directions changed on the way through the file")
	}
	before, _ := g.Direction(raw[0])
	after, _ := back.Direction(raw[0])
	if !slices.Equal(before, after) {
		t.Errorf("direction %v before saving, %v after", before, after)
	}
}
