package cli

import (
	"encoding/json"
	"image"
	"image/draw"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vgglab/vgg/gallery"
	"github.com/vgglab/vgg/vision"
	"github.com/vgglab/vgg/vision/synth"
)

// writeGroupPhoto writes three synthetic people side by side, 96 pixels each (the Haar cascade
// finds each face), and returns its path.
func writeGroupPhoto(t *testing.T) string {
	t.Helper()
	const side = 96
	group := image.NewRGBA(image.Rect(0, 0, 3*side, side))
	for k := range 3 {
		draw.Draw(group, image.Rect(k*side, 0, (k+1)*side, side), synth.Render(5, k, 1, side), image.Point{}, draw.Src)
	}
	path := filepath.Join(t.TempDir(), "group.png")
	if err := vision.WritePNG(path, group); err != nil {
		t.Fatal(err)
	}
	return path
}

// Every face of a group photo is answered, in the table, the JSON and the report; --faces best
// answers the most confident only.
func TestMatchAnswersEveryFace(t *testing.T) {
	names := []string{"Ann Ash", "Bob Birch", "Cyd Cedar"}
	model := randomModel(t, names, 3)
	group := writeGroupPhoto(t)

	stdout, stderr, err := run(t, "match", "--model", model, "--top", "2", "--json", group)
	if err != nil {
		t.Fatalf("match: %v\n%s", err, stderr)
	}
	var results []matchResult
	if err := json.Unmarshal([]byte(stdout), &results); err != nil {
		t.Fatal(err)
	}
	if len(results) != 1 || len(results[0].Faces) != 3 {
		t.Fatalf("JSON %s: want the 3 faces answered", stdout)
	}
	for i, f := range results[0].Faces {
		if f.Face != i+1 || f.Box == nil || len(f.Matches) != 2 || f.Confidence == "" {
			t.Errorf("face %d: %+v", i+1, f)
		}
	}

	dir := filepath.Join(t.TempDir(), "report")
	stdout, stderr, err = run(t, "match", "--model", model, "--top", "2", "--report", dir, group)
	if err != nil {
		t.Fatalf("match --report: %v\n%s", err, stderr)
	}
	for _, want := range []string{"3 faces found: each is answered", "face 1 at x=", "face 3 at x=", "answer: "} {
		if !strings.Contains(stdout, want) {
			t.Errorf("the table lacks %q:\n%s", want, stdout)
		}
	}
	if n := strings.Count(stdout, "   1. "); n != 3 {
		t.Errorf("the table ranks identities for %d faces, want 3:\n%s", n, stdout)
	}
	page, err := os.ReadFile(filepath.Join(dir, "index.html"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`id="answer-1"`, `id="answer-3"`, `id="heatmap-3"`, "3 faces found (green boxes"} {
		if !strings.Contains(string(page), want) {
			t.Errorf("the report lacks %q", want)
		}
	}

	stdout, _, err = run(t, "match", "--model", model, "--faces", "best", "--json", group)
	results = nil
	if err != nil || json.Unmarshal([]byte(stdout), &results) != nil || len(results[0].Faces) != 1 || results[0].Faces[0].Face != 1 ||
		!strings.Contains(results[0].Note, "the most confident is used") {
		t.Errorf("--faces best: %v\n%s", err, stdout)
	}
	if _, _, err := run(t, "match", "--model", model, "--faces", "some", group); err == nil || !strings.Contains(err.Error(), "--faces") {
		t.Errorf("--faces some: %v", err)
	}
}

// enrol refuses a photo with several faces unless --face says which, and refuses a number
// beyond the faces found.
func TestEnrolChoosesAFaceOfAGroupPhoto(t *testing.T) {
	model := randomModel(t, []string{"Ann Ash", "Bob Birch"}, 3)
	group := writeGroupPhoto(t)
	_, _, err := run(t, "enrol", "--model", model, "--name", "Cyd", group)
	if err == nil || !strings.Contains(err.Error(), "3 faces found") || !strings.Contains(err.Error(), "--face N") {
		t.Errorf("a group photo without --face: %v", err)
	}
	if _, err := os.Stat(gallery.PathFor(model)); err == nil {
		t.Error("a refused enrolment wrote a gallery")
	}
	if _, _, err := run(t, "enrol", "--model", model, "--name", "Cyd", "--face", "4", group); err == nil || !strings.Contains(err.Error(), "3 face(s) found") {
		t.Errorf("--face 4 of 3: %v", err)
	}
	if _, _, err := run(t, "enrol", "--model", model, "--name", "Cyd", "--face", "0", group); err == nil || !strings.Contains(err.Error(), "numbered from 1") {
		t.Errorf("--face 0: %v", err)
	}
	stdout, stderr, err := run(t, "enrol", "--model", model, "--name", "Cyd", "--face", "2", group)
	if err != nil || !strings.Contains(stdout, "enrolled 1 photos of \"Cyd\"") {
		t.Errorf("--face 2: %v\n%s%s", err, stdout, stderr)
	}
}
