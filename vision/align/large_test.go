package align

import (
	"image"
	"image/color"
	"math"
	"runtime"
	"testing"

	"github.com/vgglab/vgg/vision/haar"
	"github.com/vgglab/vgg/vision/synth"
	"golang.org/x/image/draw"
)

// facePhoto is a side x side photo: a smooth background with the synthetic face that the
// built-in cascade finds (identity 2 of seed 1), drawn faceSide pixels wide at (x, y).
func facePhoto(side, faceSide, x, y int) *image.RGBA {
	img := image.NewRGBA(image.Rect(0, 0, side, side))
	for py := range side {
		for px := range side {
			img.SetRGBA(px, py, color.RGBA{uint8(60 + 100*px/side), uint8(90 + 100*py/side), 120, 255})
		}
	}
	face := synth.Render(1, 2, 0, 256)
	draw.CatmullRom.Scale(img, image.Rect(x, y, x+faceSide, y+faceSide), face, face.Bounds(), draw.Src, nil)
	return img
}

// Issue 18, item 12: a photo over DetectPixels is searched on a shrunk copy; the face is framed
// as when the whole photo is searched: the same box within a few percent, the same eyes within
// a pixel or two of the aligned face, and an aligned face that looks the same.
func TestLargePhotoFramedFromAShrunkSearch(t *testing.T) {
	photo := facePhoto(1000, 420, 330, 250)
	whole := New(haar.FrontalFace(), haar.Eye())
	whole.DetectPixels = 0
	shrunk := New(haar.FrontalFace(), haar.Eye())
	shrunk.DetectPixels = 300_000 // 1000x1000 is searched at 334x334 (a factor of 3)
	want, err := whole.Align(photo)
	if err != nil || len(want) == 0 || want[0].WholeImage || want[0].Fallback {
		t.Fatalf("whole search: %d faces, err %v; want the face with its eyes", len(want), err)
	}
	got, err := shrunk.Align(photo)
	if err != nil || len(got) == 0 || got[0].WholeImage || got[0].Fallback {
		t.Fatalf("shrunk search: %d faces, err %v; want the face with its eyes", len(got), err)
	}
	if o := iou(got[0].Box, want[0].Box); o < 0.85 {
		t.Errorf("box %v, whole search's %v: IoU %.2f, want at least 0.85", got[0].Box, want[0].Box, o)
	}
	// Eye positions are compared at the aligned face's scale: how far they move the crop.
	toCrop := float64(Size) / float64(want[0].Box.Dx())
	for i := range 2 {
		d := math.Hypot(got[0].Eyes[i].X-want[0].Eyes[i].X, got[0].Eyes[i].Y-want[0].Eyes[i].Y) * toCrop
		if d > 2 {
			t.Errorf("eye %d at %v, whole search's at %v: %.1f pixels apart in the aligned face", i, got[0].Eyes[i], want[0].Eyes[i], d)
		}
	}
	var diff float64
	for i := range want[0].Aligned.Pix {
		diff += math.Abs(float64(got[0].Aligned.Pix[i]) - float64(want[0].Aligned.Pix[i]))
	}
	if mean := diff / float64(len(want[0].Aligned.Pix)); mean > 8 {
		t.Errorf("aligned faces differ by %.1f levels a byte on average, want at most 8", mean)
	}
}

// warpCropped reads only the face's part of the photo, yet draws what warp draws from the whole.
func TestWarpCroppedMatchesWarp(t *testing.T) {
	src := image.NewRGBA(image.Rect(0, 0, 1001, 757))
	for i := range src.Pix {
		src.Pix[i] = uint8(i*7 + i/4093)
	}
	for _, eyes := range [][2]Point{
		{{400, 300}, {460, 305}},     // no halving
		{{300, 200}, {700, 260}},     // halved twice
		{{-50, -40}, {150, -30}},     // off the top-left corner
		{{950, 700}, {1200, 740}},    // off the bottom-right corner
		{{5000, 5000}, {5100, 5000}}, // off the photo altogether
	} {
		s := eyeSimilarity(eyes, EyeTargets)
		want, got := warp(src, s, Size), warpCropped(src, s, Size)
		for i := range want.Pix {
			if d := int(got.Pix[i]) - int(want.Pix[i]); d < -1 || d > 1 {
				t.Errorf("eyes %v: byte %d is %d, warp gives %d", eyes, i, got.Pix[i], want.Pix[i])
				break
			}
		}
	}
}

// Aligning a large photo allocates far less than the photo itself: no full-size copy, grey
// image or detector pyramid (before, a 49 MP photo took 2.5 GB). The turned searches for
// tilted faces search turned copies of the shrunk picture (each about 1.6 times its pixels),
// so they add allocations in proportion to the shrunk picture, never to the photo.
func TestAlignLargePhotoAllocatesLittle(t *testing.T) {
	photo := facePhoto(3000, 900, 1000, 800) // 9 MP: 36 MB of RGBA
	allocated := func(tilts []float64) uint64 {
		a := New(haar.FrontalFace(), haar.Eye())
		a.DetectPixels = 250_000
		a.Tilts = tilts
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		faces, err := a.Align(photo)
		runtime.ReadMemStats(&after)
		if err != nil || len(faces) == 0 || faces[0].WholeImage {
			t.Fatalf("%d faces, err %v; want the face", len(faces), err)
		}
		return after.TotalAlloc - before.TotalAlloc
	}
	photoBytes := uint64(len(photo.Pix))
	upright := allocated(nil)
	if upright > photoBytes/2 {
		t.Errorf("aligning a %d MB photo allocated %d MB, want under half of it", photoBytes>>20, upright>>20)
	} else {
		t.Logf("aligning a %d MB photo allocated %.1f MB", photoBytes>>20, float64(upright)/(1<<20))
	}
	tilted := allocated([]float64{-20, 20})
	if limit := upright * 45 / 10; tilted > limit {
		t.Errorf("with the turned searches: %.1f MB, want at most %.1f MB (4.5 times the upright search's)", float64(tilted)/(1<<20), float64(limit)/(1<<20))
	}
}
