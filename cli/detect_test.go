package cli

import (
	"encoding/json"
	"fmt"
	"image"
	"image/color"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vgglab/vgg/vision"
	"github.com/vgglab/vgg/vision/haar"
	"github.com/vgglab/vgg/vision/synth"
)

// TestDetectBadInput: a tiny photo, a grey photo and a photo-less file give a clear answer or
// a clear error naming the file; a malformed cascade is refused with its name and problem.
func TestDetectBadInput(t *testing.T) {
	dir := t.TempDir()
	tiny := filepath.Join(dir, "tiny.png")
	grey := filepath.Join(dir, "grey.png")
	notPhoto := filepath.Join(dir, "notes.jpg")
	badCascade := filepath.Join(dir, "bad.xml")
	vision.WritePNG(tiny, image.NewRGBA(image.Rect(0, 0, 1, 1)))
	flat := image.NewGray(image.Rect(0, 0, 120, 90))
	for i := range flat.Pix {
		flat.Pix[i] = 128
	}
	vision.WritePNG(grey, flat)
	os.WriteFile(notPhoto, []byte("not a photo"), 0o644)
	os.WriteFile(badCascade, []byte("<opencv_storage><cascade><width>24</width>"), 0o644)

	stdout, _, err := run(t, "detect", tiny, grey)
	if err != nil || !strings.Contains(stdout, "tiny.png: 0 face(s)") || !strings.Contains(stdout, "grey.png: 0 face(s)") {
		t.Errorf("tiny and grey photos: err %v, output:\n%s", err, stdout)
	}
	if _, _, err := run(t, "detect", notPhoto); err == nil || !strings.Contains(err.Error(), notPhoto) {
		t.Errorf("non-image: error %v should name %s", err, notPhoto)
	}
	if _, _, err := run(t, "detect", "--cascade", badCascade, grey); err == nil || !strings.Contains(err.Error(), badCascade) {
		t.Errorf("malformed cascade: error %v should name %s", err, badCascade)
	}
	if _, _, err := run(t, "detect", grey, tiny, "--out", filepath.Join(dir, "x.png")); err == nil {
		t.Error("--out with two photos: no error")
	}
}

// TestDetectDrawsAndListsFaces runs detect on a synthetic portrait with flags after the photo
// (as people type them), checks the JSON and that the annotated copy is written.
func TestDetectDrawsAndListsFaces(t *testing.T) {
	data := synthPhotos(t, 2, 1)
	photo := filepath.Join(data, synth.Name(0), "0000.jpg")
	out := filepath.Join(t.TempDir(), "annotated.png")
	stdout, stderr, err := run(t, "detect", photo, "--json", "--out", out)
	if err != nil {
		t.Fatalf("%v\n%s", err, stderr)
	}
	var res []detectedPhoto
	if err := json.Unmarshal([]byte(stdout), &res); err != nil || len(res) != 1 || res[0].File != photo {
		t.Fatalf("JSON %q: %v", stdout, err)
	}
	// Each face of a group photo comes with the face checker's score; --no-check and
	// --upright switch the checker and the turned searches off.
	group := writeGroupPhoto(t)
	for _, flags := range [][]string{nil, {"--no-check", "--upright"}} {
		stdout, stderr, err = run(t, append([]string{"detect", group, "--json"}, flags...)...)
		if err != nil {
			t.Fatalf("%v\n%s", err, stderr)
		}
		if err := json.Unmarshal([]byte(stdout), &res); err != nil || len(res) != 1 || len(res[0].Faces) != 3 {
			t.Fatalf("%v: JSON %q: %v; want three faces", flags, stdout, err)
		}
		for _, f := range res[0].Faces {
			if scored := f.Score >= 0.5; scored != (flags == nil) || (flags != nil && f.Tilt != 0) {
				t.Errorf("%v: face %+v; want a score only with the check, and no tilt when upright", flags, f)
			}
		}
	}
	img, err := vision.Load(out)
	if err != nil {
		t.Fatal(err)
	}
	src, _ := vision.Load(photo)
	if img.Bounds() != src.Bounds() {
		t.Errorf("annotated image %v, photo %v", img.Bounds(), src.Bounds())
	}
}

// TestAlignFolder aligns a small synthetic collection with one unreadable file: every photo
// gets a 128x128 PNG, the bad one is counted and named in the report.
func TestAlignFolder(t *testing.T) {
	data := synthPhotos(t, 2, 3)
	bad := filepath.Join(data, synth.Name(1), "broken.jpg")
	os.WriteFile(bad, []byte("broken"), 0o644)
	out := filepath.Join(t.TempDir(), "aligned")
	stdout, stderr, err := run(t, "align", "--in", data, "--out", out)
	// The unreadable photo fails the run, named, after the others are aligned.
	if err == nil || !strings.Contains(err.Error(), "1 of 7 photos could not be read") || !strings.Contains(err.Error(), bad) {
		t.Errorf("error %v, want one naming %s\n%s", err, bad, stderr)
	}
	if !strings.Contains(stdout, "7 photos") || !strings.Contains(stdout, "1 unreadable") {
		t.Errorf("report:\n%s", stdout)
	}
	var rep alignReport
	data2, err := os.ReadFile(filepath.Join(out, "align-report.json"))
	if err != nil || json.Unmarshal(data2, &rep) != nil || rep.Unreadable != 1 || rep.Problems[bad] == "" {
		t.Errorf("align-report.json: %s (%v)", data2, err)
	}
	for id := range 2 {
		for p := range 3 {
			path := filepath.Join(out, synth.Name(id), fmt.Sprintf("%04d.png", p))
			img, err := vision.Load(path)
			if err != nil {
				t.Errorf("%v", err)
			} else if img.Bounds().Dx() != 128 || img.Bounds().Dy() != 128 {
				t.Errorf("%s is %v, want 128x128", path, img.Bounds())
			}
		}
	}
	if _, _, err := run(t, "align", "--in", filepath.Join(data, "nothing"), "--out", out); err == nil {
		t.Error("missing --in folder: no error")
	}
}

// TestCascadeTrain trains a one-stage cascade from generated patches and checks the XML loads.
func TestCascadeTrain(t *testing.T) {
	dir := t.TempDir()
	pos, bg := filepath.Join(dir, "pos"), filepath.Join(dir, "bg")
	os.MkdirAll(pos, 0o755)
	os.MkdirAll(bg, 0o755)
	for i := range 40 {
		g := image.NewGray(image.Rect(0, 0, 24, 24))
		for y := 0; y < 24; y++ {
			for x := 0; x < 24; x++ {
				v := 200 - 8*((x+i)%3) // bright with faint stripes
				if y >= 8 && y < 12 {
					v = 40 // a dark bar across the middle
				}
				g.SetGray(x, y, color.Gray{uint8(v)})
			}
		}
		vision.WritePNG(filepath.Join(pos, fmt.Sprintf("%02d.png", i)), g)
	}
	noise := image.NewGray(image.Rect(0, 0, 100, 80))
	for i := range noise.Pix {
		noise.Pix[i] = uint8(i * 7919 % 251)
	}
	vision.WritePNG(filepath.Join(bg, "noise.png"), noise)
	out := filepath.Join(dir, "bar.xml")
	if _, stderr, err := run(t, "cascade", "train", "--pos", pos, "--bg", bg, "--out", out,
		"--stages", "2", "--features", "300", "--mirror"); err != nil {
		t.Fatalf("%v\n%s", err, stderr)
	}
	if _, err := haar.LoadFile(out); err != nil {
		t.Error(err)
	}
	if _, _, err := run(t, "cascade", "train", "--pos", pos, "--bg", bg, "--out", out, "--boost", "real"); err == nil {
		t.Error("--boost real: no error")
	}
}

// --max-pixels sets the budget every command decodes photos under: a 32x32 photo is refused
// under 1000 pixels, naming the file and the budget, and read under the default.
func TestMaxPixels(t *testing.T) {
	photo := filepath.Join(synthPhotos(t, 2, 1), synth.Name(0), "0000.jpg")
	_, _, err := run(t, "--max-pixels", "1000", "detect", photo)
	if err == nil || !strings.Contains(err.Error(), photo) || !strings.Contains(err.Error(), "over the") {
		t.Errorf("32x32 photo under a 1000-pixel budget: error %v", err)
	}
	if _, stderr, err := run(t, "detect", photo); err != nil {
		t.Errorf("the default budget refused a 32x32 photo: %v\n%s", err, stderr)
	}
	if _, _, err := run(t, "--max-pixels", "0", "detect", photo); err == nil || !strings.Contains(err.Error(), "--max-pixels 0") {
		t.Errorf("--max-pixels 0: error %v", err)
	}
}
