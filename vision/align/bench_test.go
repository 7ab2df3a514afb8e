package align

import (
	"image"
	"path/filepath"
	"testing"

	"github.com/vgglab/vgg/vision"
	"github.com/vgglab/vgg/vision/facetest"
)

// BenchmarkDetectFaces measures the face search (Aligner.Detect: cascade, eyes, and the check
// and turned searches where a variant has them) in ms per megapixel on dlib_train's four
// group photos (500x375 and so on), for the cascade alone (the search before the check and
// the turns), with the check, and as New sets it up (check and turns). Run it briefly:
//
//	VGG_FACES=/work/shared/faces go test ./vision/align -run '^$' -bench DetectFaces -benchtime 5x
func BenchmarkDetectFaces(b *testing.B) {
	var photos []*image.RGBA
	pixels := 0
	for _, p := range facetest.Dlib(b) {
		rgba := vision.ToRGBA(p.Img)
		photos = append(photos, rgba)
		pixels += rgba.Rect.Dx() * rgba.Rect.Dy()
	}
	for _, v := range []framingVariant{variantBefore, variantCheck, variantAfter} {
		b.Run(v.name, func(b *testing.B) {
			a := v.aligner()
			for b.Loop() {
				for _, p := range photos {
					if _, err := a.Detect(p); err != nil {
						b.Fatal(err)
					}
				}
			}
			perRun := b.Elapsed().Seconds() * 1000 / float64(b.N)
			b.ReportMetric(perRun/(float64(pixels)/1e6), "ms/MP")
		})
	}
}

// BenchmarkFrameCelebs measures framing as training does it (Aligner.Align, one face a photo
// wanted) on the first photo of each celebs60 identity (250x250 LFW photos, 160x160 and
// 112x112 crops), in ms per photo: before the check and the turns, and with both, the turns
// searched only where no upright face is found (as lookalike.NewFaceFraming sets it up), the
// eyes found by the eye locator or, as before it, by the eye cascade.
//
//	VGG_FACES=/work/shared/faces go test ./vision/align -run '^$' -bench FrameCelebs -benchtime 3x
func BenchmarkFrameCelebs(b *testing.B) {
	var photos []*image.RGBA
	seen := map[string]bool{}
	for _, set := range [][]facetest.Photo{facetest.LFW(b), facetest.Aligned(b)} {
		for _, p := range set {
			if dir := filepath.Dir(p.Path); !seen[dir] {
				seen[dir] = true
				photos = append(photos, vision.ToRGBA(p.Img))
			}
		}
	}
	for _, v := range []framingVariant{variantBefore, variantFraming, variantFramingEyeCascade, variantAfter} {
		b.Run(v.name, func(b *testing.B) {
			a := v.aligner()
			for b.Loop() {
				for _, p := range photos {
					if _, err := a.Align(p); err != nil {
						b.Fatal(err)
					}
				}
			}
			b.ReportMetric(b.Elapsed().Seconds()*1000/float64(b.N*len(photos)), "ms/photo")
		})
	}
}
