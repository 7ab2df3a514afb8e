package cli

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/vgglab/vgg/gallery"
	"github.com/vgglab/vgg/safefile"
	"github.com/vgglab/vgg/train"
	"github.com/vgglab/vgg/vision"
	"github.com/vgglab/vgg/vision/synth"
)

// unchanged fails the test when the file at path no longer holds before.
func unchanged(t *testing.T, path string, before []byte) {
	t.Helper()
	if after, err := os.ReadFile(path); err != nil || !bytes.Equal(after, before) {
		t.Errorf("%s was changed (%v)", path, err)
	}
}

// listing is the sorted names in a folder.
func listing(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	return names
}

// Issue 18 item 1: 'vgg index --gallery FILE' wrote a gallery over whatever FILE was, the model
// itself, its report or a photo being indexed. It now writes only over a gallery, or over a
// file that is not an input with --force.
func TestIndexWritesOnlyOverAGallery(t *testing.T) {
	la := lookAlikeSetup(t)
	photo := filepath.Join(la.known, la.names[0], "0000.png")
	notes := filepath.Join(t.TempDir(), "notes.txt")
	os.WriteFile(notes, []byte("my notes"), 0o644)
	for _, c := range []struct {
		target string
		want   error
	}{{la.model, safefile.ErrInput}, {photo, safefile.ErrInput}, {notes, safefile.ErrExists}} {
		before, _ := os.ReadFile(c.target)
		_, _, err := run(t, "index", "--model", la.model, "--data", la.known, "--aligned", "--gallery", c.target)
		if !errors.Is(err, c.want) || !strings.Contains(err.Error(), c.target) {
			t.Errorf("index --gallery %s: %v, want %v", c.target, err, c.want)
		}
		unchanged(t, c.target, before)
		// --force replaces a stranger's file, never an input.
		_, _, err = run(t, "index", "--model", la.model, "--data", la.known, "--aligned", "--gallery", c.target, "--force")
		if c.want == safefile.ErrInput {
			if !errors.Is(err, safefile.ErrInput) {
				t.Errorf("index --force --gallery %s (an input): %v", c.target, err)
			}
			unchanged(t, c.target, before)
		} else if err != nil || !gallery.IsFile(c.target) {
			t.Errorf("index --force --gallery %s: %v", c.target, err)
		}
	}
	// Its own gallery it replaces without being asked.
	if _, _, err := run(t, "index", "--model", la.model, "--data", la.known, "--aligned"); err != nil {
		t.Errorf("index over its own gallery: %v", err)
	}
}

// Issue 18 item 3: 'vgg train --out DIR/Arin/0000.jpg' wrote the model over a photo of the
// training set and five more files into the identity folder. It is refused before training.
func TestTrainRefusesAnOutInsideItsData(t *testing.T) {
	data := synthPhotos(t, 2, 3)
	person := filepath.Join(data, synth.Name(0))
	photo := filepath.Join(person, "0000.jpg")
	before, _ := os.ReadFile(photo)
	files := listing(t, person)
	for _, force := range []string{"--force=false", "--force"} {
		_, _, err := run(t, "train", "--data", data, "--out", photo, "--epochs", "1", "--width", "16", "--input", "32",
			"--aligned", "--allow-chance", force)
		if !errors.Is(err, safefile.ErrInput) || !strings.Contains(err.Error(), "--data") {
			t.Errorf("train --out a photo of --data (%s): %v", force, err)
		}
	}
	unchanged(t, photo, before)
	if got := listing(t, person); !slices.Equal(got, files) {
		t.Errorf("the identity folder now holds %v, was %v", got, files)
	}
	// A stranger's file where the report would go stops the run before it starts.
	out := filepath.Join(t.TempDir(), "m.safetensors")
	report := train.PathsFor(out).Report
	os.WriteFile(report, []byte(`{"mine": true}`), 0o644)
	if _, _, err := run(t, "train", "--data", data, "--out", out, "--epochs", "1", "--width", "16", "--input", "32",
		"--aligned", "--allow-chance"); !errors.Is(err, safefile.ErrExists) || !strings.Contains(err.Error(), report) {
		t.Errorf("train over a stranger's %s: %v", report, err)
	}
	if _, err := os.Stat(out); err == nil {
		t.Error("the refused run wrote a model")
	}
}

// Issue 18 item 4: 'vgg align --in X --out X' replaced the photos with their crops, and x.jpg,
// x.png, x.JPG and x.jpeg became one x.png while the report counted four.
func TestAlignKeepsItsInputAndEveryPhoto(t *testing.T) {
	data := synthPhotos(t, 2, 1)
	photo := filepath.Join(data, synth.Name(0), "0000.jpg")
	img, err := vision.Load(photo)
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(data, synth.Name(0))
	for _, name := range []string{"x.jpg", "x.JPG", "x.jpeg"} {
		vision.WriteJPEG(filepath.Join(dir, name), img, 90)
	}
	vision.WritePNG(filepath.Join(dir, "x.png"), img)
	before, _ := os.ReadFile(photo)
	if _, _, err := run(t, "align", "--in", data, "--out", data); !errors.Is(err, safefile.ErrInput) {
		t.Errorf("align --in X --out X: %v, want it refused", err)
	}
	if _, _, err := run(t, "align", "--in", data, "--out", filepath.Join(data, "aligned")); !errors.Is(err, safefile.ErrInput) {
		t.Errorf("align --out inside --in: %v, want it refused", err)
	}
	unchanged(t, photo, before)
	if _, err := os.Stat(filepath.Join(data, "aligned")); err == nil {
		t.Error("the refused run made its --out folder inside --in")
	}

	out := filepath.Join(t.TempDir(), "aligned")
	stdout, stderr, err := run(t, "align", "--in", data, "--out", out)
	if err != nil || !strings.Contains(stdout, "6 photos") {
		t.Fatalf("align: %v\n%s%s", err, stdout, stderr)
	}
	want := []string{"0000.png", "x.JPG.png", "x.jpeg.png", "x.jpg-2.png", "x.png.png"}
	if got := listing(t, filepath.Join(out, synth.Name(0))); !slices.Equal(got, want) {
		t.Errorf("crops %v, want %v: one per photo", got, want)
	}
	// Again into the same folder: its own crops are replaced; a PNG it did not write is not.
	if _, _, err := run(t, "align", "--in", data, "--out", out); err != nil {
		t.Errorf("align again: %v", err)
	}
	mine := filepath.Join(out, synth.Name(1), "0000.png")
	os.WriteFile(mine, []byte("a picture of mine"), 0o644)
	if _, _, err := run(t, "align", "--in", data, "--out", out); !errors.Is(err, safefile.ErrExists) || !strings.Contains(err.Error(), mine) {
		t.Errorf("align over a stranger's PNG: %v", err)
	}
	unchanged(t, mine, []byte("a picture of mine"))
	if _, _, err := run(t, "align", "--in", data, "--out", out, "--force"); err != nil || !vision.MadePNG(mine) {
		t.Errorf("align --force: %v", err)
	}
}

// Issue 18 item 5: 'vgg detect --out p.jpg p.jpg' replaced the photo, and 'vgg match --report
// DIR' replaced a person's own DIR/index.html.
func TestDetectAndMatchLeaveOthersFilesAlone(t *testing.T) {
	la := lookAlikeSetup(t)
	photo := filepath.Join(la.known, la.names[0], "0000.png")
	before, _ := os.ReadFile(photo)
	for _, args := range [][]string{{"--out", photo, photo}, {photo, "--out", photo, "--force"}} {
		if _, _, err := run(t, append([]string{"detect"}, args...)...); !errors.Is(err, safefile.ErrInput) {
			t.Errorf("detect %v: %v, want the photo refused as the output", args, err)
		}
	}
	unchanged(t, photo, before)
	drawn := filepath.Join(t.TempDir(), "drawn.png")
	for range 2 { // the second run replaces its own drawing
		if _, _, err := run(t, "detect", "--out", drawn, photo); err != nil {
			t.Errorf("detect --out a new file: %v", err)
		}
	}

	dir := t.TempDir()
	page := filepath.Join(dir, "index.html")
	own := []byte("<html>my home page</html>")
	os.WriteFile(page, own, 0o644)
	_, _, err := run(t, "match", "--model", la.model, "--aligned", "--report", dir, photo)
	if !errors.Is(err, safefile.ErrExists) || !strings.Contains(err.Error(), page) {
		t.Errorf("match --report over a person's index.html: %v", err)
	}
	unchanged(t, page, own)
	report := filepath.Join(t.TempDir(), "report")
	for range 2 { // a report folder of its own it writes again
		if _, stderr, err := run(t, "match", "--model", la.model, "--aligned", "--report", report, photo); err != nil {
			t.Fatalf("match --report: %v\n%s", err, stderr)
		}
	}
	if _, _, err := run(t, "match", "--model", la.model, "--aligned", "--report", dir, "--force", photo); err != nil {
		t.Errorf("match --report --force: %v", err)
	}
}

// Issue 18 item 2: two 'vgg enrol' runs on one gallery at once each said "enrolled" and only
// one person survived. The gallery is read again and saved under its lock.
func TestConcurrentEnrolsKeepEveryone(t *testing.T) {
	la := lookAlikeSetup(t)
	people := map[string]string{"Eve Elm": "a", "Fay Fir": "b", "Gus Gum": "c"}
	var wg sync.WaitGroup
	for name, folder := range people {
		wg.Go(func() {
			dir := filepath.Join(filepath.Dir(la.newcomerDir), folder)
			if _, stderr, err := run(t, "enrol", "--model", la.model, "--name", name, "--aligned",
				filepath.Join(dir, "0000.png"), filepath.Join(dir, "0001.png")); err != nil {
				t.Errorf("enrol %s: %v\n%s", name, err, stderr)
			}
		})
	}
	wg.Wait()
	g, err := gallery.Load(gallery.PathFor(la.model), "")
	if err != nil {
		t.Fatal(err)
	}
	want := append(slices.Clone(la.names), "Eve Elm", "Fay Fir", "Gus Gum")
	slices.Sort(want)
	if got := g.Names(); !slices.Equal(got, want) || g.Len() != 18+6 {
		t.Errorf("after three enrolments at once the gallery holds %v (%d photos), want %v (24)", got, g.Len(), want)
	}
}

// Issue 18 item 6: identity names that are not UTF-8 became U+FFFD in the gallery, so its paths
// named files that do not exist and two names could collide. They are refused, naming the
// folder or the flag.
func TestNamesThatAreNotUTF8AreRefused(t *testing.T) {
	la := lookAlikeSetup(t)
	photo := filepath.Join(la.newcomerDir, "0000.png")
	_, _, err := run(t, "enrol", "--model", la.model, "--name", "Bad\xffName", "--aligned", photo)
	if err == nil || !strings.Contains(err.Error(), "--name") || !strings.Contains(err.Error(), "UTF-8") {
		t.Errorf("enrol --name with bytes that are not UTF-8: %v", err)
	}
	data := t.TempDir()
	patternPhotos(t, data, []string{"ok", "Bad\xfe"}, 2)
	_, _, err = run(t, "index", "--model", randomModel(t, []string{"ok", "Bad\xfe"}, 3), "--data", data, "--aligned")
	if err == nil || !strings.Contains(err.Error(), `Bad\xfe`) || !strings.Contains(err.Error(), "UTF-8") {
		t.Errorf("index of a folder named in bytes that are not UTF-8: %v", err)
	}
}

// Issue 18 item 13: control characters in names reached the terminal raw; "José" typed two
// ways became two identities; enrolling the same photos again doubled them.
func TestNamesPrintSafelyAndEnrolOnce(t *testing.T) {
	la := lookAlikeSetup(t)
	photos := []string{filepath.Join(la.newcomerDir, "0000.png"), filepath.Join(la.newcomerDir, "0001.png")}
	nfc, nfd := "Jos\u00e9", "Jose\u0301"
	for _, name := range []string{nfc, nfd} { // the same person, the same photos, twice
		if _, stderr, err := run(t, append([]string{"enrol", "--model", la.model, "--name", name, "--aligned"}, photos...)...); err != nil {
			t.Fatalf("enrol %q: %v\n%s", name, err, stderr)
		}
	}
	// A copy of a photo under another name is the same photo.
	copied := filepath.Join(t.TempDir(), "copy.png")
	data, _ := os.ReadFile(photos[0])
	os.WriteFile(copied, data, 0o644)
	stdout, _, err := run(t, "enrol", "--model", la.model, "--name", nfc, "--aligned", copied)
	if err != nil || !strings.Contains(stdout, "enrolled 0 photos") || !strings.Contains(stdout, "(now 2;") {
		t.Errorf("enrol of a copy: %v\n%s", err, stdout)
	}
	red := "Red\x1b[31m\nName"
	if _, _, err := run(t, "enrol", "--model", la.model, "--name", red, "--aligned", filepath.Join(la.newcomerDir, "0002.png")); err != nil {
		t.Fatal(err)
	}
	stdout, _, err = run(t, "gallery", "--model", la.model)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Count(stdout, "José") != 1 || !slices.ContainsFunc(strings.Split(stdout, "\n"), func(line string) bool {
		return slices.Equal(strings.Fields(line), []string{"José", "2"})
	}) {
		t.Errorf("José should be one identity of 2 photos:\n%s", stdout)
	}
	if strings.Contains(stdout, "\x1b") || !strings.Contains(stdout, `Red\x1b[31m\nName`) {
		t.Errorf("the control characters of a name reach the terminal:\n%q", stdout)
	}
	if _, stderr, err := run(t, "gallery", "--model", la.model, "remove", nfd); err != nil {
		t.Errorf("remove José spelt decomposed: %v\n%s", err, stderr)
	}
	stdout, _, _ = run(t, "match", "--model", la.model, "--aligned", "--by", "embedding", "--top", "9", photos[0])
	// A heading and four identities, on five lines: the newline in the name is escaped.
	if strings.Contains(stdout, "\x1b") || strings.Count(strings.TrimSpace(stdout), "\n") != 4 {
		t.Errorf("match table with a name holding control characters:\n%q", stdout)
	}
}

// The rule holds for the other commands that write: viz, cascade train and demo (which
// empties its photo folders) leave a stranger's files alone.
func TestOtherCommandsFollowTheOutputRule(t *testing.T) {
	dir := t.TempDir()
	mine := filepath.Join(dir, "face.png") // also where viz activations puts the face
	os.WriteFile(mine, []byte("my picture"), 0o644)
	model := randomModel(t, []string{"a", "b"}, 1)
	photos := synthPhotos(t, 2, 1)
	for _, args := range [][]string{
		{"viz", "filters", "--model", model, "--out", mine},
		{"viz", "activations", "--model", model, "--out", dir, "--aligned", filepath.Join(photos, synth.Name(0), "0000.jpg")},
		{"cascade", "train", "--pos", photos, "--bg", photos, "--out", mine},
	} {
		if _, _, err := run(t, args...); !errors.Is(err, safefile.ErrExists) && !errors.Is(err, safefile.ErrInput) {
			t.Errorf("vgg %v: %v, want the stranger's file refused", args, err)
		}
	}
	unchanged(t, mine, []byte("my picture"))
	if _, _, err := run(t, "viz", "filters", "--model", model, "--out", model, "--force"); !errors.Is(err, safefile.ErrInput) {
		t.Errorf("viz filters --out the model: %v", err)
	}
	os.MkdirAll(filepath.Join(dir, "train"), 0o755)
	os.WriteFile(filepath.Join(dir, "train", "keep.txt"), []byte("keep"), 0o644)
	if _, _, err := run(t, "demo", "--out", dir, "--epochs", "1"); !errors.Is(err, safefile.ErrExists) {
		t.Errorf("demo --out a folder of someone's files: %v", err)
	}
	unchanged(t, filepath.Join(dir, "train", "keep.txt"), []byte("keep"))
}

// A run started before PNGs carried vgg's mark still resumes: its model vouches for the curves
// beside it. Without the model, an unmarked PNG there is a stranger's.
func TestTrainOutputsOfAnEarlierRun(t *testing.T) {
	data := synthPhotos(t, 2, 1)
	model := randomModel(t, []string{"a", "b"}, 1)
	curves := train.PathsFor(model).Plot
	os.WriteFile(curves, []byte("\x89PNG unmarked"), 0o644)
	if err := checkTrainOutputs(model, data, false); err != nil {
		t.Errorf("an earlier run's outputs: %v", err)
	}
	os.Remove(model)
	if err := checkTrainOutputs(model, data, false); !errors.Is(err, safefile.ErrExists) {
		t.Errorf("an unmarked PNG without its model: %v", err)
	}
}

// Issue 18 item 2, the model's files: a second 'vgg train' on the same --out while one runs
// is refused at once, rather than both writing the model and its files.
func TestOneTrainingRunPerModel(t *testing.T) {
	data := synthPhotos(t, 2, 2)
	out := filepath.Join(t.TempDir(), "new", "m.safetensors")
	if err := os.MkdirAll(filepath.Dir(out), 0o755); err != nil {
		t.Fatal(err)
	}
	unlock, err := safefile.TryLock(out) // the run in progress
	if err != nil {
		t.Fatal(err)
	}
	defer unlock()
	_, _, err = run(t, "train", "--data", data, "--out", out, "--epochs", "1", "--width", "16", "--input", "32", "--aligned", "--allow-chance")
	if !errors.Is(err, safefile.ErrLocked) || !strings.Contains(err.Error(), out) {
		t.Errorf("a second run on one --out: %v", err)
	}
}

// A refused 'match --report' leaves nothing behind: the report folder inside the photos
// given is not even created (the rule is checked before the folder is prepared).
func TestMatchReportRefusedAmongThePhotosMakesNoFolder(t *testing.T) {
	la := lookAlikeSetup(t)
	inside := filepath.Join(la.known, "report")
	_, _, err := run(t, "match", "--model", la.model, "--aligned", "--report", inside, la.known)
	if !errors.Is(err, safefile.ErrInput) {
		t.Errorf("match --report inside the photos' folder: %v, want it refused as an input", err)
	}
	if _, statErr := os.Stat(inside); !errors.Is(statErr, os.ErrNotExist) {
		t.Errorf("the refused report folder %s was created (%v)", inside, statErr)
	}
}

// The warnings 'vgg match' (and 'vgg serve', through the same matcher) prints name files:
// a model kept under a name holding control characters cannot drive the terminal.
func TestMatchWarningsPrintSafely(t *testing.T) {
	data, err := os.ReadFile(randomModel(t, []string{"Ann", "Bob"}, 1))
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "red\x1b[31m")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	model := filepath.Join(dir, "model.safetensors")
	os.WriteFile(model, data, 0o644)
	os.WriteFile(train.PathsFor(model).Report, []byte(`{"settings": {"data": "x", "epo`), 0o644)
	photos := t.TempDir()
	patternPhotos(t, photos, []string{"Ann"}, 1)
	_, stderr, err := run(t, "match", "--model", model, "--aligned", filepath.Join(photos, "Ann", "0000.png"))
	if err != nil {
		t.Fatalf("match: %v\n%s", err, stderr)
	}
	if !strings.Contains(stderr, "WARNING") || strings.Contains(stderr, "\x1b") || !strings.Contains(stderr, `red\x1b[31m`) {
		t.Errorf("the warning prints the model's folder name as it is:\n%q", stderr)
	}
}

// The list of photos framed with a remark (issue 21's model.framing.txt) follows the output
// rule too: a run without remarks removes the list an earlier run left, so a file of that
// name with no run of vgg's beside it stops the run before it starts, and stays.
func TestTrainLeavesAStrangersFramingListAlone(t *testing.T) {
	data := synthPhotos(t, 2, 2)
	out := filepath.Join(t.TempDir(), "m.safetensors")
	list := train.PathsFor(out).Framing
	mine := []byte("my notes on these photos\n")
	os.WriteFile(list, mine, 0o644)
	_, _, err := run(t, "train", "--data", data, "--out", out, "--epochs", "1", "--width", "16", "--input", "32", "--aligned", "--allow-chance")
	if !errors.Is(err, safefile.ErrExists) || !strings.Contains(err.Error(), list) {
		t.Errorf("train over a stranger's %s: %v", list, err)
	}
	unchanged(t, list, mine)
	// Beside the run's model, the list is that run's.
	model := randomModel(t, []string{"a", "b"}, 1)
	os.WriteFile(train.PathsFor(model).Framing, []byte("/photos/a/1.jpg: no face found\n"), 0o644)
	if err := checkTrainOutputs(model, data, false); err != nil {
		t.Errorf("an earlier run's list of framing remarks: %v", err)
	}
}
