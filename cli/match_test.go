package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vgglab/vgg/gallery"
	"github.com/vgglab/vgg/lookalike"
	"github.com/vgglab/vgg/nn"
	"github.com/vgglab/vgg/train"
	"github.com/vgglab/vgg/vision/synth"
)

// run runs the vgg command line with args and returns what it printed and its error.
func run(t *testing.T, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	var out, errOut bytes.Buffer
	app := App()
	app.Writer, app.ErrWriter = &out, &errOut
	err = Run(app, append([]string{"vgg"}, args...))
	return out.String(), errOut.String(), err
}

// synthPhotos writes a small synthetic collection and returns its folder.
func synthPhotos(t *testing.T, identities, photos int) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "photos")
	if err := synth.WriteDataset(context.Background(), dir, synth.Options{Seed: 5, Identities: identities, Photos: photos, Size: 32}); err != nil {
		t.Fatal(err)
	}
	return dir
}

// trainTiny trains a one-epoch toy model through the command and returns its path. One epoch
// teaches it nothing, so it is kept with --allow-chance.
func trainTiny(t *testing.T, data string) string {
	t.Helper()
	out := filepath.Join(t.TempDir(), "toy.safetensors")
	if _, stderr, err := run(t, "train", "--data", data, "--out", out, "--epochs", "1", "--width", "16",
		"--input", "32", "--batch", "8", "--optimizer", "adam", "--lr", "0.003", "--aligned", "--allow-chance"); err != nil {
		t.Fatalf("vgg train: %v\n%s", err, stderr)
	}
	return out
}

func TestMatchReportsBadFilesAndMatchesTheRest(t *testing.T) {
	data := synthPhotos(t, 3, 6)
	model := trainTiny(t, data)
	notPhoto := filepath.Join(t.TempDir(), "notes.jpg")
	os.WriteFile(notPhoto, []byte("not a photo"), 0o644)
	good := filepath.Join(data, synth.Name(0), "0000.jpg")
	folder := filepath.Join(data, synth.Name(1))

	stdout, stderr, err := run(t, "match", "--model", model, "--aligned", "--top", "2", good, notPhoto, folder)
	if err == nil || !strings.Contains(err.Error(), "1 of 8 photos") {
		t.Errorf("error %v, want one saying 1 of 8 photos failed", err)
	}
	if !strings.Contains(stderr, notPhoto) || !strings.Contains(stderr, "not an image") {
		t.Errorf("stderr does not report %s:\n%s", notPhoto, stderr)
	}
	if strings.Count(stdout, "   1. ") != 7 || strings.Count(stdout, "   2. ") != 7 || !strings.Contains(stdout, good) {
		t.Errorf("table should rank 2 identities for each of the 7 good photos:\n%s", stdout)
	}

	// Without the flag, match frames photos as the model's training report says: centre square.
	stdout, _, err = run(t, "match", "--model", model, good)
	if err != nil || strings.Contains(stdout, "no face found") || !strings.Contains(stdout, "   1. ") {
		t.Errorf("match framed as in training: error %v, output:\n%s", err, stdout)
	}

	// Told to look for the face, match finds none in a 32-pixel cartoon and says so.
	stdout, _, err = run(t, "match", "--model", model, "--aligned=false", good)
	if err != nil || !strings.Contains(stdout, "no face found") {
		t.Errorf("match of a photo without a detectable face: error %v, output lacks the note:\n%s", err, stdout)
	}

	stdout, _, err = run(t, "match", "--model", model, "--aligned", "--json", good, notPhoto)
	if err == nil {
		t.Error("no error for a bad photo with --json")
	}
	var results []matchResult
	if err := json.Unmarshal([]byte(stdout), &results); err != nil {
		t.Fatalf("--json output does not parse: %v\n%s", err, stdout)
	}
	if len(results) != 2 || len(results[0].Faces) != 1 || len(results[0].Faces[0].Matches) != 3 || results[1].Error == "" || results[1].Photo != notPhoto {
		t.Errorf("--json results %+v, want 3 matches for the photo and an error for the text file", results)
	}
}

func TestMatchRefusesBadModels(t *testing.T) {
	photo := filepath.Join(synthPhotos(t, 2, 1), synth.Name(0), "0000.jpg")
	truncated := filepath.Join(t.TempDir(), "cut.safetensors")
	whole, err := os.ReadFile(trainTiny(t, synthPhotos(t, 2, 4)))
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(truncated, whole[:len(whole)/2], 0o644)
	for _, model := range []string{truncated, filepath.Join(t.TempDir(), "none.safetensors")} {
		_, _, err := run(t, "match", "--model", model, photo)
		if err == nil || !strings.Contains(err.Error(), model) {
			t.Errorf("match --model %s: error %v, want one naming the model file", model, err)
		}
	}
	if _, _, err := run(t, "match", "--model", truncated); err == nil || !strings.Contains(err.Error(), "no photos") {
		t.Errorf("match without photos: error %v", err)
	}
}

func TestTrainCommand(t *testing.T) {
	data := synthPhotos(t, 3, 6)
	model := trainTiny(t, data)
	report, err := train.ReadReport(train.PathsFor(model).Report)
	if err != nil {
		t.Fatal(err)
	}
	if report.Status != "complete" || report.Settings.Optimizer != "adam" || report.Settings.InputSize != 32 {
		t.Errorf("report %+v does not reflect the flags", report.Settings)
	}
	if report.Settings.Augment.Mixup != 0.5 {
		t.Errorf("mixup share %v; the default recipe mixes half the batches", report.Settings.Augment.Mixup)
	}
	if c := report.Calibration; c == nil || c.Photos != report.ValPhotos || len(c.Bins) != 10 || c.Calibration.Temperature != report.Epochs[report.BestEpoch-1].Temperature || c.Calibration.Photos != report.ValPhotos {
		t.Errorf("report calibration %+v, want the best epoch's on its %d validation photos", c, report.ValPhotos)
	}
	// Resuming a finished run with its saved settings has nothing left to do; a flag that
	// contradicts them is refused.
	if _, stderr, err := run(t, "train", "--out", model, "--resume", "--allow-chance"); err != nil {
		t.Errorf("resume of a finished run: %v\n%s", err, stderr)
	}
	if _, _, err := run(t, "train", "--out", model, "--resume", "--batch", "4"); err == nil || !strings.Contains(err.Error(), "batch_size") {
		t.Errorf("resume with another batch size: error %v", err)
	}
	if _, _, err := run(t, "train", "--data", data, "--out", model); err == nil || !strings.Contains(err.Error(), "already holds") {
		t.Errorf("fresh run over a finished one: error %v", err)
	}
	if _, _, err := run(t, "train", "--data", data, "--out", model, "--augment", "wild"); err == nil || !strings.Contains(err.Error(), "wild") {
		t.Errorf("unknown augmentation: error %v", err)
	}
	single := filepath.Join(t.TempDir(), "one")
	os.MkdirAll(filepath.Join(single, "Only Person"), 0o755)
	os.WriteFile(filepath.Join(single, "Only Person", "a.jpg"), mustRead(t, filepath.Join(data, synth.Name(0), "0000.jpg")), 0o644)
	outDir := t.TempDir()
	if _, _, err := run(t, "train", "--data", single, "--out", filepath.Join(outDir, "m.safetensors")); err == nil || !strings.Contains(err.Error(), single) {
		t.Errorf("single identity: error %v, want one naming %s", err, single)
	}
	if entries, _ := os.ReadDir(outDir); len(entries) != 0 {
		t.Errorf("a refused run left %d files behind", len(entries))
	}
}

// A model no better than guessing is written with its gallery, for inspection, but the command
// fails with ErrNotLearned (exit status 3) unless --allow-chance.
func TestTrainRefusesAModelAtChance(t *testing.T) {
	data := synthPhotos(t, 3, 6)
	out := filepath.Join(t.TempDir(), "toy.safetensors")
	stdout, _, err := run(t, "train", "--data", data, "--out", out, "--epochs", "1", "--width", "16",
		"--input", "32", "--batch", "8", "--aligned")
	if !errors.Is(err, train.ErrNotLearned) || !strings.Contains(err.Error(), "--allow-chance") {
		t.Fatalf("error %v, want ErrNotLearned naming --allow-chance", err)
	}
	for _, want := range []string{"has not learned", "not usable for matching", "Things to try", "estimated "} {
		if !strings.Contains(stdout, want) {
			t.Errorf("output lacks %q:\n%s", want, stdout)
		}
	}
	report, err := train.ReadReport(train.PathsFor(out).Report)
	if err != nil {
		t.Fatal(err)
	}
	if report.Verdict == nil || report.Verdict.Learned {
		t.Errorf("report verdict %+v, want not learned", report.Verdict)
	}
	for _, f := range []string{out, gallery.PathFor(out)} {
		if _, err := os.Stat(f); err != nil {
			t.Errorf("a model at chance is still written whole: %v", err)
		}
	}
}

func mustRead(t *testing.T, path string) []byte {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// A model whose report says it has not learned, and a gallery whose embeddings have collapsed,
// are warned about on stderr and in every JSON answer, each answer says how far to trust it,
// and the meaningless closest photos are left out.
func TestMatchWarnsAboutAModelAtChance(t *testing.T) {
	data := synthPhotos(t, 3, 6)
	model := trainTiny(t, data) // one epoch: not learned, kept with --allow-chance
	m, err := lookalike.Open("cpu", model, true)
	if err != nil {
		t.Fatal(err)
	}
	g := gallery.New(m.Fingerprint, m.Net.EmbeddingWidth())
	m.Close()
	same := make([]float32, g.Dim)
	for i := range same {
		same[i] = 1
	}
	for _, name := range []string{synth.Name(0), synth.Name(1)} {
		for _, photo := range []string{"0000.jpg", "0001.jpg"} {
			if err := g.Add(gallery.Entry{Identity: name, Path: filepath.Join(data, name, photo)}, same); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := g.Save(gallery.PathFor(model)); err != nil {
		t.Fatal(err)
	}
	photo := filepath.Join(data, synth.Name(0), "0002.jpg")

	stdout, stderr, err := run(t, "match", "--model", model, "--aligned", "--json", photo)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"WARNING", "has not learned", "collapsed", "'most similar photo' is meaningless"} {
		if !strings.Contains(stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, stderr)
		}
	}
	var results []matchResult
	if err := json.Unmarshal([]byte(stdout), &results); err != nil {
		t.Fatalf("%v\n%s", err, stdout)
	}
	r := results[0]
	if len(r.Warnings) != 2 || len(r.Faces) != 1 || r.Faces[0].Confidence == "" || r.Faces[0].ConfidenceNote == "" {
		t.Errorf("JSON answer %+v, want 2 warnings and a confidence", r)
	}
	for _, m := range r.Faces[0].Matches {
		if m.ClosestPhoto != "" || m.Similarity != nil {
			t.Errorf("a closest photo %q is shown from collapsed embeddings", m.ClosestPhoto)
		}
	}

	stdout, _, err = run(t, "match", "--model", model, "--aligned", photo)
	if err != nil || !strings.Contains(stdout, "answer: ") || strings.Contains(stdout, " like ") {
		t.Errorf("table: %v\n%s", err, stdout)
	}
	dir := filepath.Join(t.TempDir(), "report")
	if _, _, err := run(t, "match", "--model", model, "--aligned", "--report", dir, photo); err != nil {
		t.Fatal(err)
	}
	page, err := os.ReadFile(filepath.Join(dir, "index.html"))
	if err != nil || !strings.Contains(string(page), `id="warning"`) || !strings.Contains(string(page), "has not learned") {
		t.Errorf("the report has no warning banner: %v", err)
	}
}

// The closing lines of 'vgg train' say the expected calibration error and how often each
// confidence word was right on the validation split.
func TestPrintCalibration(t *testing.T) {
	var out bytes.Buffer
	printCalibration(&out, &nn.Reliability{Photos: 18, Calibration: nn.Calibration{Temperature: 1.59, Photos: 18}, ECE: 0.073, Words: []nn.WordAccuracy{
		{Level: nn.Confident, Count: 6, Correct: 5}, {Level: nn.FairlySure, Count: 5, Correct: 3},
		{Level: nn.Unsure, Count: 7, Correct: 2}, {Level: nn.AtChance}}})
	want := "calibration on 18 validation photos (temperature 1.59): expected calibration error 7.3%\n" +
		"  confident 5 of 6 right (83.3%), fairly sure 3 of 5 (60.0%), unsure 2 of 7 (28.6%), chance none\n"
	if out.String() != want {
		t.Errorf("printed\n%s\nwant\n%s", out.String(), want)
	}
	out.Reset()
	printCalibration(&out, nil)
	if out.Len() != 0 {
		t.Errorf("a run without validation printed %q", out.String())
	}
}
