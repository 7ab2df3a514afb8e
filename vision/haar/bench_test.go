package haar

import (
	"image"
	"testing"
)

// BenchmarkDetect measures detection speed in ms per megapixel on the dlib_train group photos
// (scale 1.1, 3 neighbours, 20 px minimum), for our embedded cascade and, when opencv-data is
// installed, for OpenCV's stock frontal-face cascade through our detector.
func BenchmarkDetect(b *testing.B) {
	photos := dlibPhotos(b)
	run := func(b *testing.B, c *Cascade) {
		greys := make([]*image.Gray, len(photos))
		pixels := 0
		for i, p := range photos {
			greys[i] = Grey(p.img)
			pixels += greys[i].Rect.Dx() * greys[i].Rect.Dy()
		}
		b.ResetTimer()
		for b.Loop() {
			for _, g := range greys {
				if _, err := c.Detect(g, DefaultParams()); err != nil {
					b.Fatal(err)
				}
			}
		}
		perRun := b.Elapsed().Seconds() * 1000 / float64(b.N)
		b.ReportMetric(perRun/(float64(pixels)/1e6), "ms/MP")
	}
	b.Run("embedded_frontalface", func(b *testing.B) { run(b, FrontalFace()) })
	b.Run("opencv_frontalface_default", func(b *testing.B) { run(b, stockCascade(b, "haarcascade_frontalface_default.xml")) })
}
