package align

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"image"
	"image/color"
	"io"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/vgglab/vgg/vision"
	"github.com/vgglab/vgg/vision/haar"
)

// TestEyeSimilarity checks that the transform takes the source eyes exactly onto the targets
// (so its inverse takes the targets back), whatever the rotation and scale.
func TestEyeSimilarity(t *testing.T) {
	for _, src := range [][2]Point{{{10, 20}, {50, 20}}, {{100, 80}, {160, 120}}, {{30, 60}, {25, 10}}} {
		s := eyeSimilarity(src, EyeTargets)
		for i := range 2 {
			back := s.inverse(EyeTargets[i])
			if math.Hypot(back.X-src[i].X, back.Y-src[i].Y) > 1e-9 {
				t.Errorf("eyes %v: target %v maps back to %v, want %v", src, EyeTargets[i], back, src[i])
			}
		}
	}
}

// TestWarpIdentityAndBorder warps a test card with the identity transform (every pixel must
// come back unchanged) and with a strong zoom-out (corners must repeat the edge colour, not
// turn black).
func TestWarpIdentityAndBorder(t *testing.T) {
	src := image.NewRGBA(image.Rect(0, 0, Size, Size))
	for y := 0; y < Size; y++ {
		for x := 0; x < Size; x++ {
			src.Set(x, y, color.RGBA{uint8(x * 2), uint8(y * 2), uint8(x ^ y), 255})
		}
	}
	same := warp(src, eyeSimilarity(EyeTargets, EyeTargets), Size)
	for i := range src.Pix {
		if same.Pix[i] != src.Pix[i] {
			t.Fatalf("identity warp changed byte %d: %d -> %d", i, src.Pix[i], same.Pix[i])
		}
	}
	// Eyes 4x closer together than the targets: the picture shrinks to a quarter, mid-frame.
	mid := Point{Size / 2, Size / 2}
	small := [2]Point{{mid.X - 5, mid.Y}, {mid.X + 5, mid.Y}}
	out := warp(src, eyeSimilarity(small, EyeTargets), Size)
	corner := out.RGBAAt(0, 0)
	if corner.A != 255 || corner == (color.RGBA{0, 0, 0, 255}) && src.RGBAAt(0, 0) != corner {
		t.Errorf("corner pixel %v: border not replicated", corner)
	}
}

// TestHalveAverages checks the anti-aliasing step: each output pixel is its 2x2 block's mean.
func TestHalveAverages(t *testing.T) {
	src := image.NewRGBA(image.Rect(0, 0, 3, 2))
	vals := []uint8{10, 20, 30, 40, 50, 60}
	for i, v := range vals {
		src.Set(i%3, i/3, color.RGBA{v, v, v, 255})
	}
	h := halve(src)
	if h.Rect.Dx() != 2 || h.Rect.Dy() != 1 {
		t.Fatalf("halved size %v, want 2x1", h.Rect)
	}
	if got := h.RGBAAt(0, 0).R; got != 30 { // (10+20+40+50)/4
		t.Errorf("block (0,0) = %d, want 30", got)
	}
	if got := h.RGBAAt(1, 0).R; got != 45 { // odd column averaged with itself: (30+30+60+60)/4
		t.Errorf("block (1,0) = %d, want 45", got)
	}
}

// TestAlignBadInput: tiny, flat and face-free images give an error or a marked fallback,
// never a panic.
func TestAlignBadInput(t *testing.T) {
	a := New(haar.FrontalFace(), haar.Eye())
	if _, err := a.Align(image.NewRGBA(image.Rect(0, 0, 1, 1))); err == nil {
		t.Error("1x1 image: no error")
	}
	grey := image.NewGray(image.Rect(0, 0, 200, 150))
	for i := range grey.Pix {
		grey.Pix[i] = 120
	}
	faces, err := a.Align(grey)
	if err != nil || len(faces) != 1 || !faces[0].WholeImage || faces[0].Aligned.Rect.Dx() != Size {
		t.Errorf("flat grey image: %d faces, err %v; want one whole-image fallback", len(faces), err)
	}
}

// dlibFace is one annotated face of dlib_train: its box and its landmark eye centres.
type dlibFace struct {
	file string
	box  image.Rectangle
	eyes [2]Point // image-left eye first
}

// dlibFaces reads landmarks68.xml (iBUG numbering: 36-41 the subject's right eye, on the
// image's left; 42-47 the left eye).
func dlibFaces(t *testing.T) (string, []dlibFace) {
	dir := os.Getenv("VGG_FACES")
	if dir == "" {
		t.Skip("VGG_FACES not set: real-photo checks skipped")
	}
	dir = filepath.Join(dir, "dlib_train")
	data, err := os.ReadFile(filepath.Join(dir, "landmarks68.xml"))
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Images []struct {
			File  string `xml:"file,attr"`
			Boxes []struct {
				Top    int `xml:"top,attr"`
				Left   int `xml:"left,attr"`
				Width  int `xml:"width,attr"`
				Height int `xml:"height,attr"`
				Parts  []struct {
					Name string  `xml:"name,attr"`
					X    float64 `xml:"x,attr"`
					Y    float64 `xml:"y,attr"`
				} `xml:"part"`
			} `xml:"box"`
		} `xml:"images>image"`
	}
	d := xml.NewDecoder(bytes.NewReader(data))
	d.CharsetReader = func(_ string, r io.Reader) (io.Reader, error) { return r, nil }
	if err := d.Decode(&doc); err != nil {
		t.Fatal(err)
	}
	var faces []dlibFace
	for _, im := range doc.Images {
		for _, b := range im.Boxes {
			f := dlibFace{file: im.File, box: image.Rect(b.Left, b.Top, b.Left+b.Width, b.Top+b.Height)}
			for _, p := range b.Parts {
				var n int
				fmt.Sscan(p.Name, &n)
				// Landmarks are pixel indices; +0.5 puts them at pixel centres.
				switch {
				case n >= 36 && n <= 41:
					f.eyes[0].X += (p.X + 0.5) / 6
					f.eyes[0].Y += (p.Y + 0.5) / 6
				case n >= 42 && n <= 47:
					f.eyes[1].X += (p.X + 0.5) / 6
					f.eyes[1].Y += (p.Y + 0.5) / 6
				}
			}
			faces = append(faces, f)
		}
	}
	return dir, faces
}

// TestEyesOnDlibFaces finds the eyes inside each annotated dlib_train face box and measures
// the distance to the landmark eye centres in inter-ocular distances.
func TestEyesOnDlibFaces(t *testing.T) {
	dir, faces := dlibFaces(t)
	a := New(haar.FrontalFace(), haar.Eye())
	greys := map[string]*image.Gray{}
	found, bothWithin, meanWithin := 0, 0, 0
	for _, f := range faces {
		g, ok := greys[f.file]
		if !ok {
			img, err := vision.Load(filepath.Join(dir, f.file))
			if err != nil {
				t.Fatal(err)
			}
			g = haar.Grey(img)
			greys[f.file] = g
		}
		eyes, ok := a.findEyes(g, f.box)
		if !ok {
			t.Logf("%s %v: eyes not found", f.file, f.box)
			continue
		}
		found++
		iod := math.Hypot(f.eyes[1].X-f.eyes[0].X, f.eyes[1].Y-f.eyes[0].Y)
		e0 := math.Hypot(eyes[0].X-f.eyes[0].X, eyes[0].Y-f.eyes[0].Y) / iod
		e1 := math.Hypot(eyes[1].X-f.eyes[1].X, eyes[1].Y-f.eyes[1].Y) / iod
		if max(e0, e1) <= 0.10 {
			bothWithin++
		}
		if (e0+e1)/2 <= 0.10 {
			meanWithin++
		}
		t.Logf("%s %v: eyes off by %.3f and %.3f inter-ocular distances (found %.1f, landmarks %.1f)", f.file, f.box, e0, e1, eyes, f.eyes)
	}
	t.Logf("eyes found in %d of %d faces; within 10%% of the inter-ocular distance: both eyes in %d, on average over the two in %d",
		found, len(faces), bothWithin, meanWithin)
	if meanWithin <= len(faces)/2 {
		t.Errorf("only %d of %d faces have their eyes within 10%% of the inter-ocular distance on average", meanWithin, len(faces))
	}
}

// TestAlignCelebs aligns a sample of celebs60 (every 10th photo) and reports, per kind of
// photo, how often a face and its eyes were found. For the 112x112 ArcFace-aligned photos the
// true eye positions are known, so it also measures the found eyes against them. (The
// embedded cascades were trained on those aligned photos, so this checks the pipeline — tight
// crops, padding, mapping back — more than it measures generalisation; dlib_train does that.)
func TestAlignCelebs(t *testing.T) {
	dir := os.Getenv("VGG_FACES")
	if dir == "" {
		t.Skip("VGG_FACES not set: real-photo checks skipped")
	}
	paths, _ := filepath.Glob(filepath.Join(dir, "celebs60", "*", "*.jpg"))
	a := New(haar.FrontalFace(), haar.Eye())
	type tally struct{ photos, faces, eyes, eyesWithin10 int }
	kinds := map[int]*tally{}
	for i := 0; i < len(paths); i += 10 {
		img, err := vision.Load(paths[i])
		if err != nil {
			t.Fatal(err)
		}
		size := img.Bounds().Dx()
		if kinds[size] == nil {
			kinds[size] = &tally{}
		}
		k := kinds[size]
		faces, err := a.Align(img)
		if err != nil {
			t.Fatalf("%s: %v", paths[i], err)
		}
		k.photos++
		f := faces[0]
		if f.Aligned.Rect.Dx() != Size || f.Aligned.Rect.Dy() != Size {
			t.Fatalf("%s: aligned face is %v", paths[i], f.Aligned.Rect)
		}
		if f.WholeImage {
			continue
		}
		k.faces++
		if f.Fallback {
			continue
		}
		k.eyes++
		if size == 112 {
			truth := [2]Point{{38.29 + 0.5, 51.70 + 0.5}, {73.53 + 0.5, 51.50 + 0.5}}
			iod := truth[1].X - truth[0].X
			e := max(math.Hypot(f.Eyes[0].X-truth[0].X, f.Eyes[0].Y-truth[0].Y),
				math.Hypot(f.Eyes[1].X-truth[1].X, f.Eyes[1].Y-truth[1].Y)) / iod
			if e <= 0.1 {
				k.eyesWithin10++
			}
		}
	}
	for size, k := range kinds {
		t.Logf("%dx%d photos: %d, face found in %d, eyes in %d", size, size, k.photos, k.faces, k.eyes)
		if size == 112 {
			t.Logf("112x112 photos: both eyes within 10%% of the inter-ocular distance of the template eyes in %d", k.eyesWithin10)
		}
		if k.faces < k.photos*3/4 {
			t.Errorf("%dx%d photos: a face was found in only %d of %d", size, size, k.faces, k.photos)
		}
	}
}

func TestRankByConfidence(t *testing.T) {
	big := candidate{box: image.Rect(0, 0, 300, 300), neighbors: 7}                  // a false box spanning two people
	face := candidate{box: image.Rect(10, 10, 90, 90), neighbors: 60}                // a real face
	twin := candidate{box: image.Rect(100, 10, 200, 110), neighbors: 60}             // as confident, larger
	tilted := candidate{box: image.Rect(300, 10, 400, 110), neighbors: 60, tilt: 20} // as confident, as large, tilted
	dets := []candidate{big, tilted, face, twin}
	rankByConfidence(dets)
	if dets[0] != twin || dets[1] != face || dets[2] != tilted || dets[3] != big {
		t.Errorf("order %v, want the larger of the two most confident upright faces, the other, the tilted one, then the false box", dets)
	}
}

// On every dlib_train group photo, the face Detect puts first (the one match, enrol and align
// use) is one of the annotated faces, not a false box.
func TestFirstFaceIsARealFace(t *testing.T) {
	dir, faces := dlibFaces(t)
	a := New(haar.FrontalFace(), haar.Eye())
	byFile := map[string][]image.Rectangle{}
	for _, f := range faces {
		byFile[f.file] = append(byFile[f.file], f.box)
	}
	for file, boxes := range byFile {
		img, err := vision.Load(filepath.Join(dir, file))
		if err != nil {
			t.Fatal(err)
		}
		found, err := a.Detect(img)
		if err != nil || len(found) == 0 {
			t.Fatalf("%s: %d faces, %v", file, len(found), err)
		}
		first, best := found[0].Box, 0.0
		for _, b := range boxes {
			best = max(best, iou(first, b))
		}
		if best < 0.3 {
			t.Errorf("%s: the first face %v (%d hits) overlaps no annotated face (best IoU %.2f)", file, first, found[0].Neighbors, best)
		}
	}
}

var iou = haar.IoU

// The fingerprint keys cached framed photos: it must change with every setting that can change
// a crop, and only with those.
func TestFingerprintNamesEverySetting(t *testing.T) {
	base := New(haar.FrontalFace(), haar.Eye()).Fingerprint()
	if again := New(haar.FrontalFace(), haar.Eye()).Fingerprint(); again != base {
		t.Fatal("two default aligners have different fingerprints")
	}
	workers := New(haar.FrontalFace(), haar.Eye())
	workers.FaceParams.Workers = 1
	if workers.Fingerprint() != base {
		t.Error("the number of scanning goroutines changed the fingerprint")
	}
	trimmed := *haar.Eye()
	trimmed.Stages = trimmed.Stages[:len(trimmed.Stages)-1]
	changes := map[string]*Aligner{"eye cascade": New(haar.FrontalFace(), &trimmed)}
	minSize := New(haar.FrontalFace(), haar.Eye())
	minSize.FaceParams.MinSize = 30
	changes["face MinSize"] = minSize
	boxEyes := New(haar.FrontalFace(), haar.Eye())
	boxEyes.BoxEyes[0].X += 0.001
	changes["BoxEyes"] = boxEyes
	cropEyes := New(haar.FrontalFace(), haar.Eye())
	cropEyes.CropEyes[1].Y -= 0.001
	changes["CropEyes"] = cropEyes
	noCheck := New(haar.FrontalFace(), haar.Eye())
	noCheck.Check = nil
	changes["no check"] = noCheck
	strict := New(haar.FrontalFace(), haar.Eye())
	stricter := *strict.Check
	stricter.Threshold += 0.01
	strict.Check = &stricter
	changes["check threshold"] = strict
	upright := New(haar.FrontalFace(), haar.Eye())
	upright.Tilts = nil
	changes["no tilts"] = upright
	fallback := New(haar.FrontalFace(), haar.Eye())
	fallback.TiltsAsFallback = true
	changes["tilts as fallback"] = fallback
	for name, a := range changes {
		if a.Fingerprint() == base {
			t.Errorf("a change of %s kept the fingerprint", name)
		}
	}
}
