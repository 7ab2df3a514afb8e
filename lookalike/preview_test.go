package lookalike

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vgglab/vgg/vision"
)

// Issue 18, item 12, carried into the finder: a photo read from a file keeps only a preview of
// at most PreviewPixels (the full-size photo is dropped once its faces are taken), the faces'
// boxes stay in the photo's own pixels (as 'vgg detect' and the JSON give them), and the page
// outlines them on the preview where they are.
func TestLoadKeepsAPreviewOfALargePhoto(t *testing.T) {
	small := groupPhoto()
	const k = 7 // 288x96 enlarged to 2016x672, 1.35 MP: over the preview's 1 MP
	large := vision.Resize(small, k*small.Rect.Dx(), k*small.Rect.Dy())
	path := filepath.Join(t.TempDir(), "large.png")
	if err := vision.WritePNG(path, large); err != nil {
		t.Fatal(err)
	}
	m, err := Open("cpu", randomModel(t, []string{"Ann", "Bob"}), false)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()

	mt, err := NewMatcher(m, nil, Options{Top: 1})
	if err != nil {
		t.Fatal(err)
	}
	answers, err := mt.MatchFiles(context.Background(), []string{path}) // through Finder.Load
	if err != nil || answers[0].Err != nil {
		t.Fatalf("match: %v, %v", err, answers[0].Err)
	}
	p := answers[0].Photo
	b := p.Image.Bounds()
	if b.Dx()*b.Dy() > PreviewPixels || p.PreviewScale != 2 || b.Dx() != 1008 || b.Dy() != 336 {
		t.Errorf("preview %v at scale %d, want 1008x336 (scale 2, at most %d pixels)", b, p.PreviewScale, PreviewPixels)
	}
	if len(p.Faces) != 3 {
		t.Fatalf("found %d faces, want the 3 people", len(p.Faces))
	}
	right := 0
	for _, f := range p.Faces {
		if !f.Box.In(large.Rect) || f.Box.Dx() < 100 {
			t.Errorf("face %d at %v: want a box of the full-size photo %v", f.Number, f.Box, large.Rect)
		}
		right = max(right, f.Box.Max.X)
	}
	if right <= b.Dx() {
		t.Errorf("the rightmost face ends at x=%d, within the preview's width %d: its box is not in the photo's own pixels", right, b.Dx())
	}
	page := mt.Report(&answers[0])
	if page.Photo != answers[0].Photo.Image {
		t.Errorf("the page shows another picture than the preview")
	}
	for i, f := range page.Faces {
		full := answers[0].Faces[i].Box
		want := f.Box
		if want.Min.X != full.Min.X/2 || want.Min.Y != full.Min.Y/2 || want.Max.X != (full.Max.X+1)/2 || want.Max.Y != (full.Max.Y+1)/2 || !want.In(page.Photo.Bounds()) {
			t.Errorf("face %d outlined at %v on the preview %v; its box in the photo is %v", f.Number, f.Box, page.Photo.Bounds(), full)
		}
	}
}

// A photo that cannot be read is named once in the error, not once by the loader and again by
// the finder.
func TestLoadNamesTheFileOnce(t *testing.T) {
	path := filepath.Join(t.TempDir(), "missing.jpg")
	_, err := NewFinder(false, 32).Load(path)
	if err == nil || strings.Count(err.Error(), "missing.jpg") != 1 {
		t.Errorf("error %v, want one naming %s once", err, path)
	}
}
