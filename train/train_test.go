package train

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"image"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/schollz/progressbar/v3"

	"github.com/vgglab/vgg/dataset"
	"github.com/vgglab/vgg/dataset/framecache"
	_ "github.com/vgglab/vgg/kernels/cpu"
	"github.com/vgglab/vgg/nn"
	"github.com/vgglab/vgg/vision/synth"
)

// synthData writes a small synthetic collection (identities x photos, 32x32) and returns its
// folder.
func synthData(t *testing.T, identities, photos int) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "photos")
	if err := synth.WriteDataset(context.Background(), dir, synth.Options{Seed: 7, Identities: identities, Photos: photos, Size: 32}); err != nil {
		t.Fatal(err)
	}
	return dir
}

// tinySettings train the narrowest network on 32x32 pictures for a few short epochs.
func tinySettings(data string) Settings {
	s := DefaultSettings()
	s.Data = data
	s.InputSize = 32
	s.WidthDivisor = 16
	s.Epochs, s.MinSteps = 3, 0
	s.BatchSize = 8
	s.LR = 0.02
	s.ValFraction = 0.25
	s.Seed = 3
	s.Augment = dataset.Augment{Flip: true, MaxShift: 0.06}
	return s
}

// noTempFiles fails when dir holds a leftover temporary file of an atomic write.
func noTempFiles(t *testing.T, dir string) {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if strings.Contains(e.Name(), ".tmp") {
			t.Errorf("%s holds a temporary file %s", dir, e.Name())
		}
	}
}

func readFile(t *testing.T, path string) []byte {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func TestRunWritesModelReportAndPlot(t *testing.T) {
	data := synthData(t, 3, 12)
	out := filepath.Join(t.TempDir(), "run", "model.safetensors")
	var log, progress bytes.Buffer
	// A framing that leaves the photos as they are but remarks on each.
	lookAt := func(img image.Image) (image.Image, string, error) { return img, "looked at", nil }
	report, err := Run(context.Background(), tinySettings(data), Options{Out: out, Device: "cpu", Log: &log, Progress: &progress, Framing: lookAt, AllowChance: true})
	if err != nil {
		t.Fatalf("%v\n%s", err, log.String())
	}
	if report.Status != "complete" || len(report.Epochs) != 3 || report.BestEpoch < 1 {
		t.Errorf("report status %q, %d epochs, best %d; want complete, 3, >= 1", report.Status, len(report.Epochs), report.BestEpoch)
	}
	if report.TrainPhotos != 27 || report.ValPhotos != 9 || len(report.Classes) != 3 {
		t.Errorf("report counts %d train, %d val, %d classes; want 27, 9, 3", report.TrainPhotos, report.ValPhotos, len(report.Classes))
	}
	paths := PathsFor(out)
	if !strings.Contains(log.String(), "36 photos were framed with a remark (all listed in "+paths.Framing+")") ||
		!strings.Contains(log.String(), ": looked at\n  ... and 31 more") {
		t.Errorf("log does not count and name the framing's remarks:\n%s", log.String())
	}
	if lines := strings.Split(strings.TrimSpace(string(readFile(t, paths.Framing))), "\n"); len(lines) != 36 ||
		!strings.HasSuffix(lines[0], ".jpg: looked at") || report.FramingRemarks != 36 || report.Files.Framing != paths.Framing {
		t.Errorf("%s lists %d photos (first %q), the report %d in %q; want all 36", paths.Framing, len(lines), lines[0], report.FramingRemarks, report.Files.Framing)
	}
	saved, err := ReadReport(paths.Report)
	if err != nil {
		t.Fatal(err)
	}
	if saved.Status != "complete" || len(saved.Epochs) != 3 || saved.Settings != report.Settings {
		t.Errorf("saved report %+v differs from the returned one", saved)
	}
	// A new model answers with each face averaged with its mirror image, and embeds at the
	// convolutional features.
	if _, info, err := nn.ReadModelInfo(out); err != nil || !info.Mirror || info.EmbeddingLayer != nn.EmbeddingFeatures {
		t.Errorf("%s: mirror %v, embedding %q (%v); want true and %q", out, info.Mirror, info.EmbeddingLayer, err, nn.EmbeddingFeatures)
	}
	png := readFile(t, paths.Plot)
	if !bytes.HasPrefix(png, []byte("\x89PNG")) {
		t.Errorf("%s is not a PNG", paths.Plot)
	}
	for _, want := range []string{"epoch 1/3", "epoch 3/3", "top-5", "done in"} {
		if !strings.Contains(log.String(), want) {
			t.Errorf("log lacks %q:\n%s", want, log.String())
		}
	}
	// Progress that is not a terminal (a file, a pipe, here a buffer) gets no bar redraws:
	// the log's line per epoch is the progress there.
	if progress.Len() != 0 {
		t.Errorf("a bar was drawn into a buffer:\n%q", progress.String())
	}
	if n := strings.Count(log.String(), "epoch "); n < 3 {
		t.Errorf("the log has %d epoch lines, want one per epoch:\n%s", n, log.String())
	}
	noTempFiles(t, filepath.Dir(out))
}

// Interrupting a run (mid-epoch, then again between the last step of an epoch and its
// validation) and resuming it must reach the very bytes an uninterrupted run writes.
func TestResumeAfterInterruptIsBitIdentical(t *testing.T) {
	data := synthData(t, 3, 12) // 27 training photos: 4 batches of 8 an epoch
	s := tinySettings(data)
	straight := filepath.Join(t.TempDir(), "model.safetensors")
	if _, err := Run(context.Background(), s, Options{Out: straight, Device: "cpu", AllowChance: true}); err != nil {
		t.Fatal(err)
	}

	resumed := filepath.Join(t.TempDir(), "model.safetensors")
	for i, stopAt := range []int{6, 8} { // epoch 2 batch 2; the end of epoch 2
		ctx, cancel := context.WithCancel(context.Background())
		_, err := Run(ctx, s, Options{Out: resumed, Device: "cpu", Resume: i > 0, AfterStep: func(steps int) {
			if steps == stopAt {
				cancel()
			}
		}})
		cancel()
		if !errors.Is(err, ErrInterrupted) {
			t.Fatalf("run stopped at step %d: error %v, want ErrInterrupted", stopAt, err)
		}
		report, err := ReadReport(PathsFor(resumed).Report)
		if err != nil || report.Status != "interrupted" {
			t.Fatalf("report after the interrupt: %+v, %v", report, err)
		}
		noTempFiles(t, filepath.Dir(resumed))
	}
	report, err := Run(context.Background(), s, Options{Out: resumed, Device: "cpu", Resume: true, AllowChance: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(report.Epochs) != 3 || report.Status != "complete" {
		t.Errorf("resumed report: %d epochs, status %q", len(report.Epochs), report.Status)
	}
	a, b := PathsFor(straight), PathsFor(resumed)
	for _, pair := range [][2]string{{a.Last, b.Last}, {a.Best, b.Best}, {a.LastState, b.LastState}} {
		x, y := readFile(t, pair[0]), readFile(t, pair[1])
		if pair[0] == a.LastState {
			// The state's metadata holds the report, with its timings; compare the tensors.
			x, y = x[8+binary.LittleEndian.Uint64(x):], y[8+binary.LittleEndian.Uint64(y):]
		}
		if !bytes.Equal(x, y) {
			t.Errorf("%s differs from the uninterrupted %s", filepath.Base(pair[1]), filepath.Base(pair[0]))
		}
	}
}

func TestResumeRefusesOtherDataOrSettings(t *testing.T) {
	data := synthData(t, 3, 8)
	s := tinySettings(data)
	s.Epochs = 2
	out := interruptedRun(t, s)

	// A fresh run over a saved one would destroy it.
	if _, err := Run(context.Background(), s, Options{Out: out, Device: "cpu"}); err == nil || !strings.Contains(err.Error(), "already holds") {
		t.Errorf("fresh run over a saved one: error %v", err)
	}

	if _, err := Run(context.Background(), s, Options{Out: filepath.Join(t.TempDir(), "m.safetensors"), Device: "cpu", Resume: true}); err == nil || !strings.Contains(err.Error(), "nothing to resume") {
		t.Errorf("resume with no saved run: error %v", err)
	}

	other := s
	other.BatchSize = 4
	_, err := Run(context.Background(), other, Options{Out: out, Device: "cpu", Resume: true})
	if err == nil || !strings.Contains(err.Error(), "batch_size 8, now 4") {
		t.Errorf("resume with another batch size: error %v", err)
	}

	// A fourth identity changes the class count: the checkpoint no longer fits.
	extra := filepath.Join(data, "Zed Newcomer")
	if err := os.Mkdir(extra, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"0000.jpg", "0001.jpg"} {
		if err := os.WriteFile(filepath.Join(extra, f), readFile(t, filepath.Join(data, synth.Name(0), f)), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	_, err = Run(context.Background(), s, Options{Out: out, Device: "cpu", Resume: true})
	if err == nil || !strings.Contains(err.Error(), PathsFor(out).Last) || !strings.Contains(err.Error(), "3 identities") {
		t.Errorf("resume with 4 identities: error %v, want one naming the checkpoint and its 3 identities", err)
	}
	noTempFiles(t, filepath.Dir(out))
}

func TestDivergingRunStopsWithoutSaving(t *testing.T) {
	s := tinySettings(synthData(t, 3, 8))
	s.LR, s.Schedule, s.Momentum = 1e6, "constant", 0.9
	dir := t.TempDir()
	out := filepath.Join(dir, "model.safetensors")
	report, err := Run(context.Background(), s, Options{Out: out, Device: "cpu"})
	if !errors.Is(err, ErrDiverged) || !strings.Contains(err.Error(), "Lower the learning rate") {
		t.Fatalf("error %v, want ErrDiverged advising a lower rate", err)
	}
	// It diverged before any checkpoint: none may be named as the one to go back to (issue 18).
	if strings.Contains(err.Error(), "last good checkpoint") || !strings.Contains(err.Error(), "No checkpoint was saved") {
		t.Errorf("error %v names a checkpoint that does not exist", err)
	}
	if report.Status != "diverged" {
		t.Errorf("report status %q, want diverged", report.Status)
	}
	for _, f := range []string{out, PathsFor(out).Last, PathsFor(out).LastState} {
		if _, err := os.Stat(f); err == nil {
			t.Errorf("%s was written by a diverged run", f)
		}
	}
	noTempFiles(t, dir)
}

// Bad files are skipped with their names in the log; bad folders stop the run before anything
// is written.
func TestBadInput(t *testing.T) {
	data := synthData(t, 3, 8)
	someone := filepath.Join(data, synth.Name(2))
	jpeg := readFile(t, filepath.Join(someone, "0000.jpg"))
	bad := map[string][]byte{
		"truncated.jpg": jpeg[:len(jpeg)/2],
		"notes.jpg":     []byte("this is not a photo\n"),
		"huge.png":      pngHeader(30000, 30000),
	}
	for name, content := range bad {
		if err := os.WriteFile(filepath.Join(someone, name), content, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	s := tinySettings(data)
	s.Epochs = 1
	var log bytes.Buffer
	out := filepath.Join(t.TempDir(), "model.safetensors")
	report, err := Run(context.Background(), s, Options{Out: out, Device: "cpu", Log: &log, AllowChance: true})
	if err != nil {
		t.Fatal(err)
	}
	if report.SkippedPhotos != 3 || report.TrainPhotos+report.ValPhotos != 24 {
		t.Errorf("skipped %d, used %d photos; want 3 and 24", report.SkippedPhotos, report.TrainPhotos+report.ValPhotos)
	}
	for name := range bad {
		if !strings.Contains(log.String(), filepath.Join(someone, name)) {
			t.Errorf("log does not name %s:\n%s", name, log.String())
		}
	}

	for _, c := range []struct {
		name  string
		setUp func(dir string)
		want  string
	}{
		{"empty identity folder", func(dir string) { os.Mkdir(filepath.Join(dir, "Nobody"), 0o755) }, "Nobody is empty"},
		{"single identity", func(dir string) {
			for _, id := range []int{1, 2} {
				os.RemoveAll(filepath.Join(dir, synth.Name(id)))
			}
		}, "only the identity"},
		{"missing folder", func(dir string) { os.RemoveAll(dir) }, "no such file"},
	} {
		t.Run(c.name, func(t *testing.T) {
			data := synthData(t, 3, 4)
			c.setUp(data)
			outDir := t.TempDir()
			s := tinySettings(data)
			_, err := Run(context.Background(), s, Options{Out: filepath.Join(outDir, "m.safetensors"), Device: "cpu"})
			if err == nil || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), data) {
				t.Errorf("error %v, want one naming %s and saying %q", err, data, c.want)
			}
			if entries, _ := os.ReadDir(outDir); len(entries) != 0 {
				t.Errorf("a failed run left %d files in the output folder", len(entries))
			}
		})
	}
}

// pngHeader is the start of a PNG claiming width x height pixels: enough for a decoder to
// read the size, nothing more.
func pngHeader(width, height uint32) []byte {
	chunk := []byte("IHDR")
	chunk = binary.BigEndian.AppendUint32(chunk, width)
	chunk = binary.BigEndian.AppendUint32(chunk, height)
	chunk = append(chunk, 8, 6, 0, 0, 0) // 8-bit RGBA, no interlace
	b := append([]byte("\x89PNG\r\n\x1a\n"), 0, 0, 0, 13)
	b = append(b, chunk...)
	return binary.BigEndian.AppendUint32(b, crc32.ChecksumIEEE(chunk))
}

func TestSettingsValidate(t *testing.T) {
	s := DefaultSettings()
	s.Data = "x"
	if err := s.Validate(); err != nil {
		t.Fatalf("default settings: %v", err)
	}
	s.Optimizer, s.InputSize, s.ValFraction, s.Schedule = "rmsprop", 100, 1, "linear"
	err := s.Validate()
	for _, want := range []string{"rmsprop", "input size 100", "validation fraction 1", "linear"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("error %v does not mention %q", err, want)
		}
	}
	// nn.Config reads zero as "the default"; a run's settings must not (issue 18, item 8).
	s = DefaultSettings()
	s.Data, s.InputSize, s.WidthDivisor = "x", 0, 0
	err = s.Validate()
	for _, want := range []string{"input size 0", "width divisor 0"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("error %v does not mention %q", err, want)
		}
	}
}

func TestScores(t *testing.T) {
	var s scores
	s.add([]float32{0, 0, 10, 0, 0, 0, 0}, 2)  // right
	s.add([]float32{1, 2, 3, 4, 5, 6, 7}, 2)   // fifth best: top-5 only
	s.add([]float32{1, 2, 3, 4, 5, 6, 7}, 1)   // sixth best: neither
	s.add([]float32{1e4, 0, 0, 0, 0, 0, 0}, 6) // confidently wrong: large, finite loss
	if s.top1 != 1 || s.top5 != 2 || s.count != 4 {
		t.Errorf("top-1 %d, top-5 %d of %d; want 1, 2 of 4", s.top1, s.top5, s.count)
	}
	if l := s.loss(); !(l > 100) || l > 1e300 {
		t.Errorf("mean loss %v, want large and finite", l)
	}
}

// An output folder that cannot be written is refused before any photo is read or step taken.
// (/proc refuses new files even to root, who may write to any ordinary folder.)
func TestRunRefusesAnUnwritableOutBeforeTraining(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("needs Linux's /proc")
	}
	var log bytes.Buffer
	_, err := Run(context.Background(), tinySettings(filepath.Join(t.TempDir(), "no-photos")),
		Options{Out: "/proc/model.safetensors", Device: "cpu", Log: &log, NoEstimate: true})
	if err == nil || !strings.Contains(err.Error(), "cannot write beside /proc/model.safetensors") {
		t.Errorf("error %v, want one saying the output cannot be written", err)
	}
	if log.Len() != 0 {
		t.Errorf("work began before the check:\n%s", log.String())
	}
}

// Issue 18, item 14: an --out that is a folder is refused before any work, not at the first
// save after a whole epoch.
func TestRunRefusesAFolderAsOut(t *testing.T) {
	var log bytes.Buffer
	out := t.TempDir()
	_, err := Run(context.Background(), tinySettings(synthData(t, 3, 8)), Options{Out: out, Device: "cpu", Log: &log, NoEstimate: true})
	if err == nil || !strings.Contains(err.Error(), out+" is a folder") {
		t.Errorf("error %v, want one saying %s is a folder", err, out)
	}
	if log.Len() != 0 {
		t.Errorf("work began before the check:\n%s", log.String())
	}
}

// Issue 18, item 14: a run started with AllowChance keeps it when resumed without it.
func TestResumeKeepsAllowChance(t *testing.T) {
	s := tinySettings(synthData(t, 3, 8))
	s.Epochs = 1
	shuffleLabels(t, s.Data) // nothing to learn: the run ends at chance
	out := filepath.Join(t.TempDir(), "model.safetensors")
	ctx, cancel := context.WithCancel(context.Background())
	_, err := Run(ctx, s, Options{Out: out, Device: "cpu", AllowChance: true, NoEstimate: true, AfterStep: func(int) { cancel() }})
	cancel()
	if !errors.Is(err, ErrInterrupted) {
		t.Fatalf("error %v, want ErrInterrupted", err)
	}
	// Without the stored choice the resumed run, at chance, would fail with ErrNotLearned.
	report, err := Run(context.Background(), s, Options{Out: out, Device: "cpu", Resume: true, NoEstimate: true})
	if err != nil {
		t.Fatalf("resumed run: %v", err)
	}
	if report.Verdict == nil || report.Verdict.Learned {
		t.Errorf("verdict %+v, want a run at chance", report.Verdict)
	}
}

// A model.last from another run, beside this run's training state, is refused on resume.
func TestResumeRefusesAnotherRunsModel(t *testing.T) {
	data := synthData(t, 3, 8)
	mine := interruptedRun(t, tinySettings(data))
	other := tinySettings(data)
	other.Seed = 4
	theirs := interruptedRun(t, other)
	if err := os.WriteFile(PathsFor(mine).Last, readFile(t, PathsFor(theirs).Last), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := Run(context.Background(), tinySettings(data), Options{Out: mine, Device: "cpu", Resume: true})
	if err == nil || !strings.Contains(err.Error(), "does not hold the weights") {
		t.Errorf("resume with another run's model: error %v", err)
	}
}

// interruptedRun starts a run of s and stops it after its first step, leaving a saved run to
// resume; it returns the model path.
func interruptedRun(t *testing.T, s Settings) string {
	t.Helper()
	out := filepath.Join(t.TempDir(), "model.safetensors")
	ctx, cancel := context.WithCancel(context.Background())
	_, err := Run(ctx, s, Options{Out: out, Device: "cpu", AfterStep: func(int) { cancel() }})
	cancel()
	if !errors.Is(err, ErrInterrupted) {
		t.Fatalf("error %v, want ErrInterrupted", err)
	}
	return out
}

// The epoch bar draws nothing into a file (where every redraw would stay).
func TestBarOnlyOnATerminal(t *testing.T) {
	f, err := os.Create(filepath.Join(t.TempDir(), "log.txt"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for _, bar := range []*progressbar.ProgressBar{newBar(f, 10, "epoch 1/1"), NewPhotoBar(f, 10, "indexing")} {
		for i := range 11 {
			bar.Set(i)
		}
		bar.Finish()
	}
	if info, err := f.Stat(); err != nil || info.Size() != 0 {
		t.Errorf("the bars wrote %d bytes into a file: %v", info.Size(), err)
	}
	if isTerminal(f) || isTerminal(nil) {
		t.Error("a file or nil taken for a terminal")
	}
}

// A second run over the same photos reads every framed picture and its remark from the framing
// cache instead of framing it again, and says so.
func TestRunFramesOnceWithTheCache(t *testing.T) {
	data := synthData(t, 3, 6)
	cache, err := framecache.Open(filepath.Join(t.TempDir(), "frames"))
	if err != nil {
		t.Fatal(err)
	}
	var framings atomic.Int32
	remarkOnSome := func(img image.Image) (image.Image, string, error) {
		framings.Add(1)
		if img.(*image.RGBA).Pix[0]%2 == 0 {
			return img, "even corner", nil
		}
		return img, "", nil
	}
	s := tinySettings(data)
	s.Epochs = 1
	var lists []string
	for run, want := range []string{
		"framed 18 photos: 0 from the cache (" + cache.Dir() + "), 18 framed now in %f s",
		"framed 18 photos: 18 from the cache (" + cache.Dir() + "), 0 framed now in %f s",
	} {
		out := filepath.Join(t.TempDir(), "model.safetensors")
		var log bytes.Buffer
		o := Options{Out: out, Device: "cpu", Log: &log, Framing: remarkOnSome, FramingID: "test framing", FrameCache: cache,
			AllowChance: true, NoEstimate: true}
		if _, err := Run(context.Background(), s, o); err != nil {
			t.Fatalf("run %d: %v\n%s", run+1, err, log.String())
		}
		var seconds float64
		line := log.String()[strings.Index(log.String(), "framed "):]
		if _, err := fmt.Sscanf(line, want, &seconds); err != nil {
			t.Errorf("run %d's log lacks %q (%v):\n%s", run+1, want, err, log.String())
		}
		lists = append(lists, string(readFile(t, PathsFor(out).Framing)))
	}
	if n := framings.Load(); n != 18 {
		t.Errorf("the photos were framed %d times over two runs, want 18 (once each)", n)
	}
	// The same photos with their remarks, though the second run framed none.
	if lists[0] == "" || lists[0] != lists[1] {
		t.Errorf("remarks of the framing run and of the cached one:\n%s\n%s", lists[0], lists[1])
	}
}

func TestEpochsForMinSteps(t *testing.T) {
	for _, c := range []struct{ epochs, minSteps, batches, want int }{
		{30, 1500, 7, 215},  // 6 people x 20 photos: 210 steps are raised to 1,505
		{30, 1500, 230, 30}, // 60 people: 6,900 steps already
		{30, 0, 7, 30},      // no least
		{30, 1500, 50, 30},  // exactly 1,500
		{3, 10, 0, 3},       // no batches: nothing to scale
	} {
		s := Settings{Epochs: c.epochs, MinSteps: c.minSteps}
		if got := s.epochsFor(c.batches); got != c.want {
			t.Errorf("epochs %d, least %d steps, %d batches an epoch: %d epochs, want %d", c.epochs, c.minSteps, c.batches, got, c.want)
		}
	}
}

// A set too small for the recipe's least number of steps trains more epochs, says so, and
// records them, so that a resumed run continues the same schedule.
func TestRunTrainsTheLeastSteps(t *testing.T) {
	s := tinySettings(synthData(t, 3, 12))
	s.Epochs, s.MinSteps = 1, 5
	var log bytes.Buffer
	report, err := Run(context.Background(), s, Options{Out: filepath.Join(t.TempDir(), "m.safetensors"), Device: "cpu", Log: &log, NoEstimate: true, AllowChance: true})
	if err != nil && !errors.Is(err, ErrNotLearned) {
		t.Fatal(err)
	}
	if !strings.Contains(log.String(), "a small set: 1 epochs would be") {
		t.Errorf("the log does not say the epochs were raised:\n%s", log.String())
	}
	if report.Settings.Epochs < 2 || len(report.Epochs) != report.Settings.Epochs {
		t.Errorf("trained %d epochs, settings say %d; want the raised number (at least 2)", len(report.Epochs), report.Settings.Epochs)
	}
}

// --init starts a run on other identities from an earlier model: the run says what it took,
// and a model of another width is refused before any training.
func TestRunStartsFromAnEarlierModel(t *testing.T) {
	first := tinySettings(synthData(t, 3, 12))
	firstOut := filepath.Join(t.TempDir(), "first.safetensors")
	if _, err := Run(context.Background(), first, Options{Out: firstOut, Device: "cpu", NoEstimate: true, AllowChance: true}); err != nil {
		t.Fatal(err)
	}
	s := tinySettings(synthData(t, 2, 12))
	s.Init = firstOut
	var log bytes.Buffer
	if _, err := Run(context.Background(), s, Options{Out: filepath.Join(t.TempDir(), "m.safetensors"), Device: "cpu", Log: &log, NoEstimate: true, AllowChance: true}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(log.String(), "started from "+firstOut+" (3 identities): every weight taken but fc.6.weight, fc.6.bias") {
		t.Errorf("the log does not say where the run started:\n%s", log.String())
	}
	s.WidthDivisor = 8
	_, err := Run(context.Background(), s, Options{Out: filepath.Join(t.TempDir(), "w.safetensors"), Device: "cpu", NoEstimate: true, AllowChance: true})
	if err == nil || !strings.Contains(err.Error(), "--init") {
		t.Errorf("a start of another width: %v, want a refusal naming --init", err)
	}
}

// TestKeepsTheLatestEpochWithinTheNoise runs the kept-epoch rule over sequences of epoch
// scores: a later epoch replaces the kept one unless it is below the highest so far by more
// than two standard errors of a score on that many photos.
func TestKeepsTheLatestEpochWithinTheNoise(t *testing.T) {
	cases := []struct {
		name   string
		photos int
		scores []float64
		want   int // the kept epoch, from 1
	}{
		{"18 photos: the last epoch, 11 points below the highest", 18, []float64{0.50, 13.0 / 18, 11.0 / 18}, 3},
		{"18 photos: a collapse of 28 points is not noise", 18, []float64{13.0 / 18, 8.0 / 18}, 1},
		{"18 photos: a perfect score still has a margin", 18, []float64{1, 16.0 / 18}, 2},
		{"279 photos: 3 points below the highest", 279, []float64{0.70, 0.73, 0.70}, 3},
		{"279 photos: 7 points below the highest", 279, []float64{0.70, 0.73, 0.66}, 2},
		{"279 photos: a rise is always kept", 279, []float64{0.40, 0.50, 0.60}, 3},
		{"the highest is remembered after a kept dip", 279, []float64{0.73, 0.70, 0.66}, 2},
	}
	for _, c := range cases {
		peak, kept := 0.0, 0
		for i, s := range c.scores {
			peak = max(peak, s)
			if keeps(s, peak, c.photos) {
				kept = i + 1
			}
		}
		if kept != c.want {
			t.Errorf("%s: kept epoch %d of %v, want %d", c.name, kept, c.scores, c.want)
		}
	}
	// The margins the comments quote.
	for _, c := range []struct {
		p    float64
		n    int
		want float64
	}{{13.0 / 18, 18, 0.199}, {0.73, 279, 0.053}} {
		if got := noiseMargin(c.p, c.n); math.Abs(got-c.want) > 0.001 {
			t.Errorf("noiseMargin(%.3f, %d) = %.4f, want %.3f", c.p, c.n, got, c.want)
		}
	}
}
