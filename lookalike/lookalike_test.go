package lookalike

import (
	"context"
	"encoding/json"
	"fmt"
	"image"
	"image/draw"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vgglab/vgg/gallery"
	"github.com/vgglab/vgg/kernels"
	"github.com/vgglab/vgg/nn"
	"github.com/vgglab/vgg/vision"
	"github.com/vgglab/vgg/vision/synth"

	_ "github.com/vgglab/vgg/kernels/cpu"
)

// randomModel saves an untrained narrow VGG-D for the identities names and returns its path.
func randomModel(t *testing.T, names []string) string {
	t.Helper()
	b, err := kernels.Open("cpu")
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	m, err := nn.New(b, nn.Config{Classes: len(names), InputSize: 32, WidthDivisor: 16}, 7)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "random.safetensors")
	if err := nn.SaveModel(path, m, nn.ModelInfo{ClassNames: names, Mean: [3]float32{0.5, 0.5, 0.5}, Std: [3]float32{0.25, 0.25, 0.25}}); err != nil {
		t.Fatal(err)
	}
	return path
}

// groupPhoto draws three synthetic people side by side, 96 pixels each: the Haar cascade
// finds each of their faces.
func groupPhoto() *image.RGBA {
	const side = 96
	group := image.NewRGBA(image.Rect(0, 0, 3*side, side))
	for k := range 3 {
		draw.Draw(group, image.Rect(k*side, 0, (k+1)*side, side), synth.Render(5, k, 1, side), image.Point{}, draw.Src)
	}
	return group
}

// Faces come most confident first, numbered from 1; the remark says how many were found and
// which were answered; --faces best keeps the most confident only.
func TestFinderRanksAndNumbersFaces(t *testing.T) {
	p, err := NewFinder(false, 32).Find("group.png", groupPhoto())
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Faces) != 3 || p.Found() != 3 {
		t.Fatalf("found %d faces, want the 3 people", len(p.Faces))
	}
	for i, f := range p.Faces {
		if f.Number != i+1 || f.Box.Empty() || f.Picture.Bounds().Dx() != 32 {
			t.Errorf("face %d: %+v", i, f)
		}
		if i > 0 && f.Detection > p.Faces[i-1].Detection {
			t.Errorf("face %d (confidence %d) is ranked after a less confident one (%d)", f.Number, f.Detection, p.Faces[i-1].Detection)
		}
	}
	if got := p.Remark(AllFaces); got != "3 faces found: each is answered, most confident first" {
		t.Errorf("remark for all faces: %q", got)
	}
	if got := p.Remark(BestFace); got != "3 faces found: the most confident is used" {
		t.Errorf("remark for the best face: %q", got)
	}
	if best := p.Chosen(BestFace); len(best) != 1 || best[0].Number != 1 {
		t.Errorf("--faces best chose %+v", best)
	}
	crop, err := NewFinder(true, 32).Find("crop.png", groupPhoto())
	if err != nil || !crop.CentreSquare || len(crop.Faces) != 1 || crop.Remark(AllFaces) != "" {
		t.Errorf("centre square: %+v, %v", crop, err)
	}
	if _, err := ParseChoice("most"); err == nil || !strings.Contains(err.Error(), "all") {
		t.Errorf("--faces most: %v", err)
	}
}

// Every face of a group photo gets its own look-alikes, confidence and heatmap, in the answer,
// its data form and its page; an unreadable photo gets its error and the others go on.
func TestMatcherAnswersEveryFace(t *testing.T) {
	names := []string{"Ann Ash", "Bob Birch", "Cyd Cedar"}
	m, err := Open("cpu", randomModel(t, names), false)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	mt, err := NewMatcher(m, nil, Options{Top: 2, Heatmaps: true})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	group := filepath.Join(dir, "group.png")
	if err := vision.WritePNG(group, groupPhoto()); err != nil {
		t.Fatal(err)
	}
	missing := filepath.Join(dir, "missing.jpg")
	answers, err := mt.MatchFiles(context.Background(), []string{group, missing})
	if err != nil {
		t.Fatal(err)
	}
	a := answers[0]
	if a.Err != nil || len(a.Faces) != 3 {
		t.Fatalf("group photo: %d faces answered, error %v; want 3", len(a.Faces), a.Err)
	}
	for _, f := range a.Faces {
		if len(f.Candidates) != 2 || f.Confidence.Level == "" || f.Heatmap == nil || f.CAMIdentity != f.Candidates[0].Identity {
			t.Errorf("face %d: %d candidates, confidence %q, heatmap of %q", f.Number, len(f.Candidates), f.Confidence.Level, f.CAMIdentity)
		}
		sum := float32(0)
		for _, p := range f.Output.Probabilities {
			sum += p
		}
		if sum < 0.999 || sum > 1.001 {
			t.Errorf("face %d: probabilities sum to %v", f.Number, sum)
		}
	}
	if answers[1].Err == nil || !strings.Contains(answers[1].Err.Error(), missing) {
		t.Errorf("missing photo: error %v, want one naming it", answers[1].Err)
	}

	r := mt.Result(&a)
	data, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	var back Result
	if err := json.Unmarshal(data, &back); err != nil || len(back.Faces) != 3 || back.Faces[2].Face != 3 || back.Faces[2].Box == nil ||
		len(back.Faces[2].Matches) != 2 || !strings.Contains(back.Note, "3 faces found") {
		t.Errorf("JSON answer %s: %v", data, err)
	}
	page := mt.Report(&a)
	if len(page.Faces) != 3 || page.Faces[1].Heatmap == nil || page.Faces[1].Box != a.Faces[1].Box {
		t.Errorf("the page has %d faces, want 3 with their boxes and heatmaps", len(page.Faces))
	}

	// With heatmaps each face's one pass is Grad-CAM's: it gives the same probabilities and
	// embedding as the batched pass without them.
	plain, err := NewMatcher(m, nil, Options{Top: 2})
	if err != nil {
		t.Fatal(err)
	}
	without, err := plain.MatchFiles(context.Background(), []string{group})
	if err != nil || len(without[0].Faces) != 3 {
		t.Fatalf("without heatmaps: %v", err)
	}
	for i, f := range without[0].Faces {
		with := a.Faces[i].Output
		if f.Heatmap != nil || !close32(f.Output.Probabilities, with.Probabilities) || !close32(f.Output.Embedding, with.Embedding) {
			t.Errorf("face %d: the heatmap's pass says %v, the plain pass %v", f.Number, with.Probabilities, f.Output.Probabilities)
		}
	}

	// The best face only.
	best, err := NewMatcher(m, nil, Options{Top: 1, Faces: BestFace})
	if err != nil {
		t.Fatal(err)
	}
	one, err := best.MatchImage(context.Background(), "group.png", groupPhoto())
	if err != nil || len(one.Faces) != 1 || one.Faces[0].Number != 1 || one.Faces[0].Heatmap != nil {
		t.Errorf("--faces best: %+v, %v", one, err)
	}
	// Ranking by embedding without a gallery is refused for the face, with the way out.
	byEmbedding, err := NewMatcher(m, nil, Options{Top: 1, By: gallery.ByEmbedding})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := byEmbedding.MatchImage(context.Background(), "group.png", groupPhoto()); err == nil || !strings.Contains(err.Error(), "vgg index") {
		t.Errorf("by embedding without a gallery: %v", err)
	}
}

func TestOpenRefusesBadModels(t *testing.T) {
	dir := t.TempDir()
	notModel := filepath.Join(dir, "notes.safetensors")
	os.WriteFile(notModel, []byte("hello"), 0o644)
	for _, path := range []string{notModel, filepath.Join(dir, "missing.safetensors")} {
		if _, err := Open("cpu", path, false); err == nil || !strings.Contains(err.Error(), path) {
			t.Errorf("Open(%s): error %v, want one naming the file", path, err)
		}
	}
	if _, err := Open("tpu", notModel, false); err == nil || !strings.Contains(err.Error(), "tpu") {
		t.Errorf("unknown device: error %v", err)
	}
}

// On the dlib_train group photos ($VGG_FACES), every face the detector finds is answered, most
// confident first, and face 1 (the one --faces best, enrol and training take) is an annotated
// face, not a false box.
func TestEveryFaceOfRealGroupPhotos(t *testing.T) {
	root := os.Getenv("VGG_FACES")
	if root == "" {
		t.Skip("set VGG_FACES to the shared face folder (holding dlib_train/) to answer real group photos")
	}
	dir := filepath.Join(root, "dlib_train")
	list, err := os.ReadFile(filepath.Join(dir, "boxes_xywh.txt"))
	if err != nil {
		t.Fatal(err)
	}
	truth := map[string][]image.Rectangle{}
	for _, line := range strings.Split(string(list), "\n") {
		var split, file string
		var x, y, w, h int
		if n, _ := fmt.Sscan(line, &split, &file, &x, &y, &w, &h); n == 6 {
			truth[file] = append(truth[file], image.Rect(x, y, x+w, y+h))
		}
	}
	m, err := Open("cpu", randomModel(t, []string{"Ann Ash", "Bob Birch"}), false)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	mt, err := NewMatcher(m, nil, Options{Top: 1})
	if err != nil {
		t.Fatal(err)
	}
	for file, boxes := range truth {
		answers, err := mt.MatchFiles(context.Background(), []string{filepath.Join(dir, file)})
		if err != nil || answers[0].Err != nil {
			t.Fatalf("%s: %v %v", file, err, answers[0].Err)
		}
		a := answers[0]
		if len(a.Faces) != a.Photo.Found() || len(a.Faces) < 2 {
			t.Errorf("%s: %d faces answered of %d found", file, len(a.Faces), a.Photo.Found())
		}
		real := false
		for _, b := range boxes {
			in := a.Faces[0].Box.Intersect(b)
			real = real || in.Dx()*in.Dy()*2 > b.Dx()*b.Dy()
		}
		if !real {
			t.Errorf("%s: face 1 at %v (confidence %d) is not one of the annotated faces", file, a.Faces[0].Box, a.Faces[0].Detection)
		}
		t.Logf("%s: %d faces answered (%d annotated)", file, len(a.Faces), len(boxes))
	}
}

// close32 says whether a and b agree to 1e-4 (relative to their size): the batched pass and a
// single face's pass may sum in another order.
func close32(a, b []float32) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if d := float64(a[i] - b[i]); d > 1e-4*(1+math.Abs(float64(a[i]))) || -d > 1e-4*(1+math.Abs(float64(a[i]))) {
			return false
		}
	}
	return true
}
