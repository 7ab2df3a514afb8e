package cli

import (
	"image"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vgglab/vgg/vision"
)

// Issue 18, item 8: every whole-number flag is checked before any work starts. A zero was
// taken as "the default" (--width 0 trained the full-width network) or crashed deep inside
// (--input 0 panicked in the dataset).
func TestNumericFlagsRefusedUpFront(t *testing.T) {
	data := t.TempDir() // never read: the flags are refused first
	dir := t.TempDir()
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"train", "--data", data, "--input", "0"}, "--input 0 must be at least 32"},
		{[]string{"train", "--data", data, "--width", "0"}, "--width 0 must be at least 1"},
		{[]string{"train", "--data", data, "--width", "-2"}, "--width -2 must be at least 1"},
		{[]string{"train", "--data", data, "--epochs", "0"}, "--epochs 0 must be at least 1"},
		{[]string{"train", "--data", data, "--workers", "-1"}, "--workers -1 must be at least 0"},
		{[]string{"train", "--data", data, "--time", "0s"}, "--time 0s: give a positive duration"},
		{[]string{"train", "--data", data, "--time", "-5m"}, "--time -5m0s: give a positive duration"},
		{[]string{"train", "--data", data, "--time", "30m", "--epochs", "10"}, "--time chooses the epochs; give --time or --epochs, not both"},
		{[]string{"summary", "--input", "0"}, "--input 0 must be at least 32"},
		{[]string{"summary", "--width", "0"}, "--width 0 must be at least 1"},
		{[]string{"demo", "--out", filepath.Join(dir, "demo"), "--width", "0"}, "--width 0 must be at least 1"},
		{[]string{"demo", "--out", filepath.Join(dir, "demo"), "--held-out", "-1"}, "--held-out -1 must be at least 1"},
		{[]string{"evaluate", "--model", "m", "--data", data, "--shots", "0"}, "--shots 0 must be at least 1"},
		{[]string{"detect", "--neighbors", "-1", "x.jpg"}, "--neighbors -1 must be at least 0"},
		{[]string{"detect", "--min-size", "-5", "x.jpg"}, "--min-size -5 must be at least 0"},
		{[]string{"serve", "--model", "m", "--max-requests", "0"}, "--max-requests 0 must be at least 1"},
		{[]string{"serve", "--model", "m", "--max-upload-mb", "-1"}, "--max-upload-mb -1 must be at least 1"},
		{[]string{"serve", "--model", "m", "--top", "0"}, "--top 0 must be at least 1"},
	} {
		_, _, err := run(t, tc.args...)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("vgg %s: error %v, want %q", strings.Join(tc.args, " "), err, tc.want)
		}
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Errorf("refused commands left %d files behind", len(entries))
	}
}

// Issue 18, item 11: --scale 1.0000001 made millions of pyramid levels and ran for minutes on a
// small photo; the scale step is now bounded and refused before any photo is read.
func TestDetectScaleBounded(t *testing.T) {
	photo := filepath.Join(t.TempDir(), "grey.png")
	flat := image.NewGray(image.Rect(0, 0, 120, 90))
	if err := vision.WritePNG(photo, flat); err != nil {
		t.Fatal(err)
	}
	for _, scale := range []string{"1.0000001", "1", "0", "-3", "2.5", "NaN"} {
		_, _, err := run(t, "detect", "--scale", scale, photo)
		if err == nil || !strings.Contains(err.Error(), "--scale") || !strings.Contains(err.Error(), "between 1.01 and 2") {
			t.Errorf("--scale %s: error %v, want one naming --scale and its range", scale, err)
		}
	}
	if _, _, err := run(t, "detect", "--scale", "1.01", photo); err != nil {
		t.Errorf("--scale 1.01: %v", err)
	}
}

// Issue 18, item 14: flags after the photos are flags, not photos.
func TestFlagsFirst(t *testing.T) {
	app := App()
	for _, c := range []struct{ in, want string }{
		{"vgg match a.jpg --model m --top 3 b.jpg", "vgg match --model m --top 3 a.jpg b.jpg"},
		{"vgg match a.jpg --aligned --by=embedding b.jpg", "vgg match --aligned --by=embedding a.jpg b.jpg"},
		{"vgg --max-pixels 9 detect a.jpg --json", "vgg --max-pixels 9 detect --json a.jpg"},
		{"vgg viz activations a.jpg --model m --cell 8", "vgg viz activations --model m --cell 8 a.jpg"},
		{"vgg match a.jpg --model m -- --odd.jpg --top", "vgg match --model m -- a.jpg --odd.jpg --top"},
		{"vgg match a.jpg --nonsense b.jpg", "vgg match --nonsense a.jpg b.jpg"},
		{"vgg enrol --name Ann a.jpg - --model m", "vgg enrol --name Ann --model m a.jpg -"},
	} {
		if got := strings.Join(flagsFirst(app, strings.Fields(c.in)), " "); got != c.want {
			t.Errorf("%s:\n got %s\nwant %s", c.in, got, c.want)
		}
	}
}

func TestFlagsAfterPhotosAreFlags(t *testing.T) {
	model := randomModel(t, []string{"Ann", "Bob"}, 1)
	data := t.TempDir()
	patternPhotos(t, data, []string{"Ann"}, 1)
	photo := filepath.Join(data, "Ann", "0000.png")
	stdout, stderr, err := run(t, "match", photo, "--model", model, "--aligned", "--top", "1", "--json")
	if err != nil {
		t.Fatalf("match with flags after the photo: %v\n%s", err, stderr)
	}
	if !strings.Contains(stdout, `"matches"`) || strings.Contains(stdout, "--model") {
		t.Errorf("match output:\n%s", stdout)
	}
}

// Issue 18, item 14: --resume where no run was saved says so, not "--data is required".
func TestTrainResumeWithNothingToResume(t *testing.T) {
	out := filepath.Join(t.TempDir(), "none.safetensors")
	_, _, err := run(t, "train", "--resume", "--out", out)
	if err == nil || !strings.Contains(err.Error(), "nothing to resume at "+out) {
		t.Errorf("error %v, want one saying there is nothing to resume at %s", err, out)
	}
}

// Issue 18, item 14: a damaged training report is warned about, not ignored: it may be the one
// that says the model has not learned.
func TestMatchWarnsAboutADamagedReport(t *testing.T) {
	model := randomModel(t, []string{"Ann", "Bob"}, 1)
	data := t.TempDir()
	patternPhotos(t, data, []string{"Ann"}, 1)
	report := strings.TrimSuffix(model, ".safetensors") + ".report.json"
	if err := os.WriteFile(report, []byte(`{"settings": {"data": "x", "epo`), 0o644); err != nil {
		t.Fatal(err)
	}
	_, stderr, err := run(t, "match", "--model", model, "--aligned", filepath.Join(data, "Ann", "0000.png"))
	if err != nil {
		t.Fatalf("match: %v\n%s", err, stderr)
	}
	if !strings.Contains(stderr, "could not be read") || !strings.Contains(stderr, report) {
		t.Errorf("stderr does not warn about the damaged report %s:\n%s", report, stderr)
	}
}

// --cpuprofile writes a profile once the command ends, and never over an existing file.
func TestCPUProfile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "cpu.prof")
	if _, _, err := run(t, "--cpuprofile", path, "summary", "--width", "16", "--input", "32"); err != nil {
		t.Fatal(err)
	}
	if info, err := os.Stat(path); err != nil || info.Size() == 0 {
		t.Fatalf("no profile written at %s: %v", path, err)
	}
	if _, _, err := run(t, "--cpuprofile", path, "summary"); err == nil || !strings.Contains(err.Error(), "cpu.prof") {
		t.Errorf("an existing profile was not refused: %v", err)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("the folder holds %d files, want the profile alone", len(entries))
	}
}
