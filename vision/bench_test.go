package vision

import (
	"testing"
)

// A 250x250 JPEG, the size of the LFW photos in celebs60, through the whole load path.
func BenchmarkLoadJPEG250(b *testing.B) {
	data := jpegBytes(&testing.T{}, Resize(noise(64, 64), 250, 250))
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		if _, err := (Decoder{}).Decode("bench.jpg", data); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "img/s")
}

func BenchmarkSquareResize250To128(b *testing.B) {
	src := Resize(noise(64, 64), 250, 250)
	for b.Loop() {
		SquareResize(src, 128)
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "img/s")
}

func BenchmarkToCHW128(b *testing.B) {
	img := noise(128, 128)
	dst := make([]float32, 3*128*128)
	b.SetBytes(int64(len(dst) * 4))
	for b.Loop() {
		ToCHW(img, Identity, dst)
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "img/s")
}
