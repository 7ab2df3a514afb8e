package eyeloc

import (
	"image"
	"testing"

	"github.com/vgglab/vgg/vision/haar"
	"github.com/vgglab/vgg/vision/synth"
)

// BenchmarkLocate times the embedded locator on one face box at a time, as framing calls it
// (two crops, the face and its mirror, through the network), in faces per second.
func BenchmarkLocate(b *testing.B) {
	for _, side := range []int{48, 400} {
		b.Run(map[int]string{48: "box-48px", 400: "box-400px"}[side], func(b *testing.B) {
			grey := haar.Grey(synth.Render(1, 0, 0, side*3/2))
			box := image.Rect(side/4, side/4, side*5/4, side*5/4)
			l := Default()
			b.ResetTimer()
			for range b.N {
				if _, err := l.Locate(grey, []image.Rectangle{box}); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "faces/s")
		})
	}
}
