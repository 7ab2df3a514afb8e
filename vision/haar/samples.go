package haar

import (
	"math"
)

// sampleSet holds training windows (all w x h) as their integral tables, laid out one after
// another, with each window's variance-normalisation factor, so a feature's value on sample i
// is computed exactly as the detector computes it on a window.
type sampleSet struct {
	w, h, stride int
	tableLen     int      // entries per sample: the sum table, then the tilted one if used
	tables       []uint32 // len = n * tableLen
	invNorm      []float32
	tilted       bool
	scratch      integral
}

func newSampleSet(w, h int, tilted bool) *sampleSet {
	s := &sampleSet{w: w, h: h, stride: w + 1, tilted: tilted}
	s.tableLen = (w + 1) * (h + 1)
	if tilted {
		s.tableLen *= 2
	}
	return s
}

func (s *sampleSet) len() int { return len(s.invNorm) }

// add appends the window whose top-left pixel is pix[0] (row stride pixStride). It refuses
// (returns false) a window the detector would reject as too flat, standard deviation <= 10.
func (s *sampleSet) add(pix []uint8, pixStride int) bool {
	s.scratch.compute(pix, s.w, s.h, pixStride, s.tilted)
	inv, ok := windowInvNorm(&s.scratch, 0, s.w, s.h)
	if !ok {
		return false
	}
	s.tables = append(s.tables, s.scratch.tables[:s.tableLen]...)
	s.invNorm = append(s.invNorm, inv)
	return true
}

// windowInvNorm is invNormAt for the w x h window at offset p of ii.
func windowInvNorm(ii *integral, p, w, h int) (float32, bool) {
	st := ii.stride
	corners := [4]int{1 + st, w - 1 + st, 1 + (h-1)*st, w - 1 + (h-1)*st}
	return invNormAt(ii, p, &corners, float64((w-2)*(h-2)))
}

// invNormAt is the detector's variance normalisation 1/(area*stddev) of the window at offset p,
// measured (like OpenCV) over the window shrunk by one pixel on each side, whose table corners
// relative to p are corners and whose pixel count is area. It reports false for a window too
// flat to scan: standard deviation of at most 10 grey levels.
func invNormAt(ii *integral, p int, corners *[4]int, area float64) (float32, bool) {
	c := corners
	valSum := int32(ii.sum[p+c[0]] - ii.sum[p+c[1]] - ii.sum[p+c[2]] + ii.sum[p+c[3]])
	valSq := ii.sqsum[p+c[0]] - ii.sqsum[p+c[1]] - ii.sqsum[p+c[2]] + ii.sqsum[p+c[3]]
	nf := area*float64(valSq) - float64(valSum)*float64(valSum)
	if nf <= 0 {
		return 1, false
	}
	inv := float32(1 / math.Sqrt(nf))
	return inv, area*float64(inv) < 0.1
}

// placedFeature is a feature's rectangles as offsets into one sample's tables.
type placedFeature struct {
	ofs    [3][4]int32
	weight [3]float32
}

func (s *sampleSet) place(f Feature) placedFeature {
	var pf placedFeature
	base := 0
	if f.Tilted {
		base = (s.w + 1) * (s.h + 1)
	}
	for i, wr := range f.Rects {
		xs, ys := cornersOf(wr.R, f.Tilted)
		for k := range 4 {
			pf.ofs[i][k] = int32(base + xs[k] + ys[k]*s.stride)
		}
		pf.weight[i] = wr.Weight
	}
	return pf
}

// values writes the normalised value of feature pf on every sample into out, with the same
// float32 arithmetic as the detector's inner loop.
func (s *sampleSet) values(pf *placedFeature, out []float32) {
	for i := range out {
		t := s.tables[i*s.tableLen : (i+1)*s.tableLen]
		v := pf.weight[0]*rectSum(t, &pf.ofs[0]) + pf.weight[1]*rectSum(t, &pf.ofs[1])
		if pf.weight[2] != 0 {
			v += pf.weight[2] * rectSum(t, &pf.ofs[2])
		}
		out[i] = v * s.invNorm[i]
	}
}
