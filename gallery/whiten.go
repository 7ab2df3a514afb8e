package gallery

import (
	"fmt"
	"math"

	"gonum.org/v1/gonum/mat"
)

// Whitening. An embedding's directions are not all alike: some vary with the pose, the light
// and the expression of one person's photos as much as between people. Within-class
// covariance normalisation (WCCN; Hatch et al., 2006) measures that spread on photos whose
// identities are known and scales those directions down before comparing, so that what is
// left tells people apart. It is fitted on the model's own gallery (the people it knows) and
// carries over to people it never saw, since pose and light vary alike for everyone. Measured
// (notes/recipe.md, "Whitening the embedding"): enrolment of unseen people from 5 photos each,
// top-1, from 29.7% to 35.5% ('vgg evaluate' of a model trained on 20 celebs60 people, on the
// other 40) and from 62.8% to 64.4% (bench/quality's 48 people, on 12 others).

// MaxWhitenedWidth is the widest embedding that is whitened: the fit decomposes a Dim x Dim
// matrix (Dim³ work: a second at 1,024) and the file holds Dim² more values (16 MiB at 2,048).
// The full network's 8,192-wide features are compared as they are.
const MaxWhitenedWidth = 2048

// whiteningRidge is added to the within-identity covariance, as a share of its largest
// eigenvalue, before it is inverted: directions in which the training photos barely vary
// would otherwise be blown up by noise. Chosen by measurement among 1e-4, 1e-3, 1e-2 and 0.1
// (1e-3 best on both models measured; 0.1 gave back most of the gain).
const whiteningRidge = 1e-3

// fitWhitening returns the Dim x Dim transform (S + ridge*I)^(-1/2), row after row, where S
// is the covariance of the unit directions dirs about the mean direction of their own
// identity (identities[i] is dirs[i]'s) and ridge is whiteningRidge times S's largest
// eigenvalue. It returns nil, nil when there is nothing to fit: fewer than two identities
// with two photos or more, or an embedding wider than MaxWhitenedWidth.
func fitWhitening(dirs [][]float32, identities []string, dim int) ([]float32, error) {
	if dim > MaxWhitenedWidth {
		return nil, nil
	}
	byIdentity := map[string][]int{}
	for i, id := range identities {
		byIdentity[id] = append(byIdentity[id], i)
	}
	s := mat.NewSymDense(dim, nil)
	groups, photos := 0, 0
	centred := make([]float64, dim)
	for _, members := range byIdentity {
		if len(members) < 2 {
			continue
		}
		groups++
		photos += len(members)
		mean := make([]float64, dim)
		for _, i := range members {
			for k, v := range dirs[i] {
				mean[k] += float64(v)
			}
		}
		for k := range mean {
			mean[k] /= float64(len(members))
		}
		for _, i := range members {
			for k, v := range dirs[i] {
				centred[k] = float64(v) - mean[k]
			}
			s.SymRankOne(s, 1, mat.NewVecDense(dim, centred))
		}
	}
	if groups < 2 {
		return nil, nil
	}
	s.ScaleSym(1/float64(photos), s)
	var eig mat.EigenSym
	if !eig.Factorize(s, true) {
		return nil, fmt.Errorf("gallery: the within-identity spread of %d photos could not be decomposed", photos)
	}
	values := eig.Values(nil)
	var vectors mat.Dense
	eig.VectorsTo(&vectors)
	ridge := whiteningRidge * values[len(values)-1] // ascending order
	if !(ridge > 0) {
		return nil, nil // every photo of each identity alike: nothing to scale
	}
	// T = V diag(1/sqrt(value + ridge)) V^T.
	scaled := mat.DenseCopyOf(&vectors)
	for j, v := range values {
		f := 1 / math.Sqrt(max(v, 0)+ridge)
		for i := range dim {
			scaled.Set(i, j, scaled.At(i, j)*f)
		}
	}
	var t mat.Dense
	t.Mul(scaled, vectors.T())
	out := make([]float32, dim*dim)
	for i := range dim {
		for j := range dim {
			out[i*dim+j] = float32(t.At(i, j))
		}
	}
	return out, nil
}

// whiten returns the Dim x Dim transform w applied to v.
func whiten(w, v []float32) []float32 {
	dim := len(v)
	out := make([]float32, dim)
	for i := range dim {
		row := w[i*dim : (i+1)*dim]
		var sum float64
		for k, x := range v {
			sum += float64(row[k]) * float64(x)
		}
		out[i] = float32(sum)
	}
	return out
}
