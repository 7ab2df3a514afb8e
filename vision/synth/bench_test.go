package synth

import "testing"

func BenchmarkRender128(b *testing.B) {
	photo := 0
	for b.Loop() {
		Render(1, 3, photo, 128)
		photo++
	}
	b.ReportMetric(float64(photo)/b.Elapsed().Seconds(), "img/s")
}
