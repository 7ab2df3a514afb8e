package lookalike

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/vgglab/vgg/nn"
	"github.com/vgglab/vgg/train"
	"github.com/vgglab/vgg/vision"
	"github.com/vgglab/vgg/vision/synth"
)

// DemoOptions size the synthetic demo: how many made-up people, how many photos of each to
// learn from and to test on, and the network and schedule to train.
type DemoOptions struct {
	// Dir receives the photos, the contact sheet, the model, its report and the match table.
	Dir string
	// Identities is the number of made-up people; Photos the training photos of each;
	// HeldOut the photos of each that training never sees, matched at the end.
	Identities, Photos, HeldOut int
	// PhotoSize is the side of the drawn photos; training scales them to the input size as it
	// would real photos. Zero means the input size.
	PhotoSize int
	// Settings train the network; Data is filled in by the demo.
	Settings train.Settings
	// Device is the backend name (see train.Options.Device).
	Device string
	// Log and Progress are as in train.Options.
	Log, Progress io.Writer
}

// DefaultDemo is sized to finish in under half a minute on two CPU cores: 10 people, 72
// photos each to learn from and 20 to test on, trained with train.DemoSettings (95.0% of the
// held-out photos right in 21 s on two idle AVX-512 cores).
func DefaultDemo() DemoOptions {
	return DemoOptions{Dir: "vgg-demo", Identities: 10, Photos: 72, HeldOut: 20, Settings: train.DemoSettings(), Device: "cpu"}
}

// DemoResult is how the demo did on the held-out photos.
type DemoResult struct {
	Correct, Total int
	// Report is the training run's report.
	Report *train.Report
	// Files the demo wrote.
	ContactSheet, Model, Matches string
}

// Accuracy is the share of held-out photos matched to the right person.
func (r *DemoResult) Accuracy() float64 { return float64(r.Correct) / float64(max(r.Total, 1)) }

// Demo runs the whole job on synthetic people: draw them, train on their photos, then match
// photos of them the network has never seen and count how many it names right.
func Demo(ctx context.Context, o DemoOptions) (*DemoResult, error) {
	log := o.Log
	if log == nil {
		log = io.Discard
	}
	say := func(format string, args ...any) { fmt.Fprintf(log, format+"\n", args...) }
	s := o.Settings
	trainDir := filepath.Join(o.Dir, "photos")
	testDir := filepath.Join(o.Dir, "held-out")
	res := &DemoResult{
		ContactSheet: filepath.Join(o.Dir, "identities.png"),
		Model:        filepath.Join(o.Dir, "model.safetensors"),
		Matches:      filepath.Join(o.Dir, "matches.txt"),
	}
	// Start from a clean slate: photos or a model from an earlier demo would mix in.
	if err := os.MkdirAll(o.Dir, 0o755); err != nil {
		return nil, fmt.Errorf("demo: %w", err)
	}
	for _, dir := range []string{trainDir, testDir} {
		if err := os.RemoveAll(dir); err != nil {
			return nil, fmt.Errorf("demo: %w", err)
		}
	}
	paths := train.PathsFor(res.Model)
	for _, f := range []string{paths.Best, paths.Last, paths.LastState, paths.Report, paths.Plot} {
		if err := os.Remove(f); err != nil && !os.IsNotExist(err) {
			return nil, fmt.Errorf("demo: %w", err)
		}
	}

	size := o.PhotoSize
	if size == 0 {
		size = s.InputSize
	}
	start := time.Now()
	say("1. Drawing %d made-up people, %d photos each to learn from and %d more to test on (%dx%d pixels).",
		o.Identities, o.Photos, o.HeldOut, size, size)
	say("   Each photo changes pose, light, expression, background and noise; only the face stays the same.")
	all := synth.Options{Seed: s.Seed, Identities: o.Identities, Photos: o.Photos + o.HeldOut, Size: size}
	if err := synth.WriteDataset(ctx, trainDir, all); err != nil {
		return nil, err
	}
	// The last HeldOut photos of each person move to the test folder: training never sees them.
	var testPhotos []string
	var truth []string
	for id := range o.Identities {
		name := synth.Name(id)
		if err := os.MkdirAll(filepath.Join(testDir, name), 0o755); err != nil {
			return nil, fmt.Errorf("demo: %w", err)
		}
		for photo := o.Photos; photo < o.Photos+o.HeldOut; photo++ {
			file := fmt.Sprintf("%04d.jpg", photo)
			to := filepath.Join(testDir, name, file)
			if err := os.Rename(filepath.Join(trainDir, name, file), to); err != nil {
				return nil, fmt.Errorf("demo: %w", err)
			}
			testPhotos = append(testPhotos, to)
			truth = append(truth, name)
		}
	}
	if err := vision.WritePNG(res.ContactSheet, synth.ContactSheet(s.Seed, o.Identities, 8, 64)); err != nil {
		return nil, err
	}
	say("   Wrote them to %s and %s; %s shows each person. (%.1f s)", trainDir, testDir, res.ContactSheet, time.Since(start).Seconds())

	network := "VGG-D"
	if s.Arch == nn.ArchVGGDBN {
		network = "VGG-D with batch norm"
	}
	say("2. Training %s (16 layers, 1/%d width) to tell the %d people apart.", network, s.WidthDivisor, o.Identities)
	s.Data = trainDir
	report, err := train.Run(ctx, s, train.Options{Out: res.Model, Device: o.Device, Log: indent{log}, Progress: o.Progress})
	res.Report = report
	if err != nil {
		return res, err
	}

	say("3. Matching the %d held-out photos the network has never seen.", len(testPhotos))
	m, err := Open(o.Device, res.Model, true)
	if err != nil {
		return res, err
	}
	defer m.Close()
	mt, err := NewMatcher(m, nil, Options{Top: 1, Faces: BestFace})
	if err != nil {
		return res, err
	}
	answers, err := mt.MatchFiles(ctx, testPhotos)
	if err != nil {
		return res, err
	}
	var table strings.Builder
	tw := tabwriter.NewWriter(&table, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "photo\tperson\tbest match\tprobability\t")
	for i, a := range answers {
		if a.Err != nil {
			return res, a.Err
		}
		best := a.Faces[0].Candidates[0]
		mark := "wrong"
		if best.Identity == truth[i] {
			res.Correct++
			mark = "right"
		}
		res.Total++
		rel, _ := filepath.Rel(o.Dir, a.Path)
		fmt.Fprintf(tw, "%s\t%s\t%s\t%5.1f%%\t%s\n", rel, truth[i], best.Identity, 100*best.Probability, mark)
	}
	tw.Flush()
	if err := vision.WriteAtomic(res.Matches, func(w io.Writer) error {
		_, err := io.WriteString(w, table.String())
		return err
	}); err != nil {
		return res, err
	}
	say("   %d of %d right: %.1f%% held-out accuracy (chance is %.1f%%). The full table is in %s.",
		res.Correct, res.Total, 100*res.Accuracy(), 100/float64(o.Identities), res.Matches)
	say("Done in %.1f s. Try: %s match --model %q %q", time.Since(start).Seconds(), vggCommand(), res.Model, testPhotos[0])
	return res, nil
}

// indent prefixes every line written through it with three spaces, so the training log
// nests under the demo's numbered steps.
type indent struct{ w io.Writer }

func (in indent) Write(p []byte) (int, error) {
	lines := strings.SplitAfter(string(p), "\n")
	var b strings.Builder
	for _, l := range lines {
		if l != "" {
			b.WriteString("   " + l)
		}
	}
	if _, err := io.WriteString(in.w, b.String()); err != nil {
		return 0, err
	}
	return len(p), nil
}

// vggCommand is how to run vgg from here: the installed command, or, where it is not on the
// PATH (the demo was started with go run), the same go run.
func vggCommand() string {
	if _, err := exec.LookPath("vgg"); err == nil {
		return "vgg"
	}
	return "go run ./cmd/vgg"
}
