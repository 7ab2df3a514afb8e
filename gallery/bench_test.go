package gallery

import (
	"fmt"
	"testing"

	"github.com/vgglab/vgg/tensor"
)

// BenchmarkRankIdentities ranks a celebs60-sized gallery (4,083 photos of 60 people) for one
// face at the full network's embedding width: the cost 'vgg match --by embedding' adds per
// photo on top of the forward pass.
func BenchmarkRankIdentities(b *testing.B) {
	const photos, people, dim = 4083, 60, 2048
	rng := tensor.NewRand(1)
	g := New("bench", dim)
	v := tensor.Zeros(dim)
	for i := range photos {
		v.FillUniform(rng, 0, 1)
		if err := g.Add(Entry{Identity: fmt.Sprintf("person %d", i%people), Path: fmt.Sprint(i)}, v.Float32s()); err != nil {
			b.Fatal(err)
		}
	}
	v.FillUniform(rng, 0, 1)
	query, err := g.Direction(v.Float32s())
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if _, err := g.RankIdentities(query); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(photos*b.N)/b.Elapsed().Seconds(), "photos/s")
	b.ReportMetric(float64(4*photos*dim*b.N)/b.Elapsed().Seconds()/1e9, "GB/s")
}
