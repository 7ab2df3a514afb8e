package cli

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vgglab/vgg/gallery"
	"github.com/vgglab/vgg/lookalike"
)

// A gallery photo matched against the gallery finds itself as its identity's closest photo,
// with similarity 1; a person enrolled after training is found by --by embedding for a photo
// of them that was not enrolled, and never by the classifier, which does not know them.
func TestMatchWithGalleryAndEnrolment(t *testing.T) {
	la := lookAlikeSetup(t)
	self := filepath.Join(la.known, la.names[1], "0002.png")
	stdout, stderr, err := run(t, "match", "--model", la.model, "--aligned", "--json", self)
	if err != nil {
		t.Fatalf("match: %v\n%s", err, stderr)
	}
	var results []matchResult
	if err := json.Unmarshal([]byte(stdout), &results); err != nil {
		t.Fatal(err)
	}
	abs, _ := filepath.Abs(self)
	var own *lookalike.Match
	for i, m := range results[0].Faces[0].Matches {
		if m.Identity == la.names[1] {
			own = &results[0].Faces[0].Matches[i]
		}
	}
	if own == nil || own.ClosestPhoto != abs || own.Similarity == nil || *own.Similarity < 0.9999 || own.Probability == nil {
		t.Fatalf("the gallery photo's own identity entry is %+v, want itself as the closest photo with similarity 1", own)
	}

	var enrol []string
	for k := range 5 {
		enrol = append(enrol, filepath.Join(la.newcomerDir, fmt.Sprintf("%04d.png", k)))
	}
	if _, stderr, err := run(t, append([]string{"enrol", "--model", la.model, "--name", "Dee Dogwood", "--aligned"}, enrol...)...); err != nil {
		t.Fatalf("enrol: %v\n%s", err, stderr)
	}
	heldOut := filepath.Join(la.newcomerDir, "0005.png")
	stdout, _, err = run(t, "match", "--model", la.model, "--aligned", "--by", "embedding", "--top", "2", heldOut)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(stdout, "\n")
	if len(lines) < 3 || !strings.Contains(lines[1], "1. Dee Dogwood") || !strings.Contains(lines[1], "enrolled") ||
		!strings.Contains(lines[1], "score ") || !strings.Contains(lines[2], "%") {
		t.Fatalf("the held-out photo of the enrolled Dee Dogwood is not matched to her first:\n%s", stdout)
	}
	stdout, _, err = run(t, "match", "--model", la.model, "--aligned", "--top", "5", heldOut)
	if err != nil || strings.Contains(stdout, "Dee Dogwood  ") || strings.Count(stdout, "%") != 3 {
		t.Fatalf("by the classifier: %v\n%s", err, stdout)
	}
}

func TestMatchReport(t *testing.T) {
	la := lookAlikeSetup(t)
	photo := filepath.Join(la.known, la.names[0], "0001.png")
	dir := filepath.Join(t.TempDir(), "report")
	stdout, stderr, err := run(t, "match", "--model", la.model, "--aligned", "--report", dir, "--top", "3", photo)
	if err != nil {
		t.Fatalf("match --report: %v\n%s", err, stderr)
	}
	if !strings.Contains(stdout, filepath.Join(dir, "index.html")) {
		t.Errorf("the table does not say where the report is:\n%s", stdout)
	}
	page, err := os.ReadFile(filepath.Join(dir, "index.html"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range append(la.names, "Grad-CAM", "1.000") {
		if !strings.Contains(string(page), want) {
			t.Errorf("the report lacks %q", want)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "montage.png")); err != nil {
		t.Error(err)
	}

	// Two photos: a sub-folder each. --cam picks the heatmap's identity by name, loosely.
	other := filepath.Join(la.newcomerDir, "0003.png")
	two := filepath.Join(t.TempDir(), "two")
	if _, stderr, err := run(t, "match", "--model", la.model, "--aligned", "--report", two, "--cam", "cyd cedar", photo, other); err != nil {
		t.Fatalf("two photos: %v\n%s", err, stderr)
	}
	for _, sub := range []string{"001-0001", "002-0003"} {
		page, err := os.ReadFile(filepath.Join(two, sub, "index.html"))
		if err != nil || !strings.Contains(string(page), "found Cyd Cedar") {
			t.Errorf("%s: %v; want a heatmap of Cyd Cedar", sub, err)
		}
	}
}

func TestMatchRefusesBadLookAlikeRequests(t *testing.T) {
	la := lookAlikeSetup(t)
	photo := filepath.Join(la.known, la.names[0], "0000.png")
	if _, _, err := run(t, "enrol", "--model", la.model, "--name", "Dee Dogwood", "--aligned", filepath.Join(la.newcomerDir, "0000.png")); err != nil {
		t.Fatal(err)
	}
	blocker := filepath.Join(t.TempDir(), "file")
	os.WriteFile(blocker, nil, 0o644)
	otherModel := randomModel(t, la.names, 4)
	cases := []struct {
		name string
		args []string
		want []string
	}{
		{"unknown --cam", []string{"--report", t.TempDir(), "--cam", "Bob Brich"}, []string{`unknown identity "Bob Brich"`, `closest: "Bob Birch"`}},
		{"enrolled --cam", []string{"--report", t.TempDir(), "--cam", "Dee Dogwood"}, []string{"enrolled after training"}},
		{"--cam without --report", []string{"--cam", "Ann Ash"}, []string{"--report"}},
		{"unwritable report folder", []string{"--report", filepath.Join(blocker, "r")}, []string{blocker}},
		{"missing gallery", []string{"--gallery", gallery.PathFor(otherModel)}, []string{"no gallery yet", "vgg index"}},
		{"--by nonsense", []string{"--by", "votes"}, []string{"votes"}},
	}
	for _, c := range cases {
		args := append([]string{"match", "--model", la.model, "--aligned"}, c.args...)
		_, _, err := run(t, append(args, photo)...)
		for _, w := range c.want {
			if err == nil || !strings.Contains(err.Error(), w) {
				t.Errorf("%s: error %v, want it to say %q", c.name, err, w)
			}
		}
	}
	// Another model's gallery is refused as such.
	if _, _, err := run(t, "index", "--model", otherModel, "--data", la.known, "--aligned"); err != nil {
		t.Fatal(err)
	}
	_, _, err := run(t, "match", "--model", la.model, "--aligned", "--gallery", gallery.PathFor(otherModel), photo)
	if err == nil || !strings.Contains(err.Error(), "different model") || !strings.Contains(err.Error(), gallery.PathFor(otherModel)) {
		t.Errorf("another model's gallery: %v", err)
	}
	// Without a gallery, ranking by embedding is impossible and says how to fix it.
	bare := randomModel(t, la.names, 5)
	if _, _, err := run(t, "match", "--model", bare, "--aligned", "--by", "embedding", photo); err == nil || !strings.Contains(err.Error(), "vgg index") {
		t.Errorf("--by embedding without a gallery: %v", err)
	}
}

// On real photos ($VGG_FACES): index aligned crops of two people, enrol a third from photos
// where the face must be found and aligned, and write the report of a held-out photo of them.
// The model is untrained: this checks the path a real photo takes (detection, alignment,
// gallery, Grad-CAM, report), not how well a model recognises anyone.
func TestLookAlikeOnRealFaces(t *testing.T) {
	root := os.Getenv("VGG_FACES")
	if root == "" {
		t.Skip("set VGG_FACES to the shared face folder (holding celebs60/) to run the look-alike commands on real photos")
	}
	celebs := filepath.Join(root, "celebs60")
	known := filepath.Join(t.TempDir(), "known")
	names := []string{"Keanu_Reeves", "Tom_Hanks"}
	for _, name := range names {
		if err := os.MkdirAll(filepath.Join(known, name), 0o755); err != nil {
			t.Fatal(err)
		}
		for k := range 10 {
			photo := fmt.Sprintf("%04d.jpg", k)
			if err := os.Symlink(filepath.Join(celebs, name, photo), filepath.Join(known, name, photo)); err != nil {
				t.Fatal(err)
			}
		}
	}
	model := randomModel(t, names, 1)
	if _, stderr, err := run(t, "index", "--model", model, "--data", known, "--aligned"); err != nil {
		t.Fatalf("index: %v\n%s", err, stderr)
	}
	var enrol []string
	for k := range 6 {
		enrol = append(enrol, filepath.Join(celebs, "Colin_Powell", fmt.Sprintf("%04d.jpg", k)))
	}
	if _, stderr, err := run(t, append([]string{"enrol", "--model", model, "--name", "Colin Powell"}, enrol...)...); err != nil {
		t.Fatalf("enrol (LFW photos, faces detected): %v\n%s", err, stderr)
	}
	dir := filepath.Join(t.TempDir(), "report")
	heldOut := filepath.Join(celebs, "Colin_Powell", "0119.jpg")
	stdout, stderr, err := run(t, "match", "--model", model, "--by", "embedding", "--report", dir, heldOut)
	if err != nil {
		t.Fatalf("match: %v\n%s", err, stderr)
	}
	page, err := os.ReadFile(filepath.Join(dir, "index.html"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"The face found (green box", "Colin Powell", "not in the classifier", "Keanu_Reeves", "Grad-CAM"} {
		if !strings.Contains(string(page), want) {
			t.Errorf("the report lacks %q", want)
		}
	}
	t.Logf("%s", stdout)
}
