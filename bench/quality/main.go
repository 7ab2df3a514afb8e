// Command quality measures how well vgg's recipe recognises people (issue 20), on a fixed split
// of real photos, and prints one table: held-out top-1 and top-5, 5-shot enrolment of people
// never trained on, the expected calibration error and the accuracy of each confidence word on
// the held-out photos, and the wall time; with --twin, the PyTorch twin (bench/recipe_twin.py)
// trained on the same pixels and split beside it.
//
//	VGG_FACES=/path/to/faces go run ./bench/quality [--people 20 --aligned --twin ...]
//
// The split, fixed by the folder alone (no seed): the people of $VGG_FACES/celebs60 (or
// --faces) sorted by name, every --unseen-every-th of them (the 5th, 10th, ...) kept out of
// training for the enrolment score, as 'vgg evaluate' scores it; of the others (the first
// --people of them, 0: all), the last --held-out share of each person's photos (sorted by
// name, at least one) are never trained or validated on, and the rest are the training folder
// that 'vgg train' splits into training and validation photos as usual. The three folders are
// written as links under --work (a temporary folder unless given).
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"image"
	"io"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/vgglab/vgg/dataset"
	"github.com/vgglab/vgg/dataset/framecache"
	"github.com/vgglab/vgg/gallery"
	_ "github.com/vgglab/vgg/kernels/cpu" // the cpu device
	"github.com/vgglab/vgg/lookalike"
	"github.com/vgglab/vgg/nn"
	"github.com/vgglab/vgg/train"
	"github.com/vgglab/vgg/vision"
)

// facesEnv names the shared face folder; the benchmark runs only with it (or --faces).
const facesEnv = "VGG_FACES"

func main() {
	var o options
	s := train.DefaultSettings()
	flag.StringVar(&o.faces, "faces", "", "the photo folder, DIR/<identity>/<photo> (default: $VGG_FACES/celebs60)")
	flag.IntVar(&o.split.people, "people", 0, "train on the first this many people that are not kept unseen (0: all)")
	flag.IntVar(&o.split.unseenEvery, "unseen-every", 5, "keep every this-many-th person out of training, for the enrolment score (0: none)")
	flag.Float64Var(&o.split.heldOut, "held-out", 0.2, "share of each trained person's photos (the last by name) never trained or validated on")
	flag.IntVar(&o.shots, "shots", 5, "photos enrolled per unseen person")
	flag.StringVar(&o.work, "work", "", "folder for the split's links, the model and the twin's files (default: a temporary one, removed)")
	flag.BoolVar(&o.aligned, "aligned", false, "the photos are face crops: take their centre square (as vgg train --aligned); required by --twin")
	flag.BoolVar(&o.twin, "twin", false, "train the PyTorch twin (bench/recipe_twin.py, with "+python+") on the same pixels and split")
	flag.StringVar(&o.jsonOut, "json", "", "also write the results, with the reliability bins and every held-out answer, to this file")
	flag.IntVar(&s.Epochs, "epochs", s.Epochs, "as vgg train --epochs")
	flag.IntVar(&s.MinSteps, "min-steps", s.MinSteps, "as vgg train --min-steps")
	flag.IntVar(&s.WidthDivisor, "width", 8, "as vgg train --width")
	flag.IntVar(&s.InputSize, "input", 64, "as vgg train --input")
	flag.Uint64Var(&s.Seed, "seed", s.Seed, "as vgg train --seed (the split of the photos into training and validation, the weights, ...)")
	flag.Float64Var(&s.LR, "lr", s.LR, "as vgg train --lr")
	flag.IntVar(&s.BatchSize, "batch", s.BatchSize, "as vgg train --batch")
	flag.Float64Var(&s.Augment.Erase, "erase", s.Augment.Erase, "as vgg train --erase")
	flag.Float64Var(&s.Augment.Mixup, "mixup", s.Augment.Mixup, "as vgg train --mixup")
	flag.DurationVar(&s.TimeBudget, "time", 0, "as vgg train --time: the run chooses the epochs, and the --width and --input not given, that fit")
	flag.Parse()
	if s.TimeBudget > 0 {
		given := map[string]bool{}
		flag.Visit(func(f *flag.Flag) { given[f.Name] = true })
		if given["epochs"] {
			fmt.Fprintln(os.Stderr, "quality: --time chooses the epochs; give --time or --epochs, not both")
			os.Exit(2)
		}
		s.Epochs = 0
		if !given["width"] {
			s.WidthDivisor = 0
		}
		if !given["input"] {
			s.InputSize = 0
		}
	}
	if o.faces == "" {
		root := os.Getenv(facesEnv)
		if root == "" {
			fmt.Fprintf(os.Stderr, "quality: set %s to the shared face folder (holding celebs60/), or give --faces\n", facesEnv)
			os.Exit(2)
		}
		o.faces = filepath.Join(root, "celebs60")
	}
	o.settings = s
	if err := run(context.Background(), o, os.Stdout, os.Stderr); err != nil {
		fmt.Fprintf(os.Stderr, "quality: %v\n", err)
		os.Exit(1)
	}
}

// python runs the twin: the system's, which has torch.
const python = "/usr/bin/python3"

type options struct {
	faces, work, jsonOut string
	split                splitOptions
	shots                int
	aligned, twin        bool
	settings             train.Settings
}

// result is one engine's row of the table.
type result struct {
	Engine string `json:"engine"`
	// HeldOut is how many held-out photos were answered; Top1 and Top5 their scores.
	HeldOut int     `json:"held_out"`
	Top1    float64 `json:"top1"`
	Top5    float64 `json:"top5"`
	// Enrolment is the 5-shot enrolment of the unseen people (nil: not measured).
	Enrolment *gallery.EnrolmentScore `json:"enrolment,omitempty"`
	// Calibration is measured on the held-out photos (nil: not measured).
	Calibration *nn.Reliability `json:"calibration,omitempty"`
	// Epochs trained; Seconds is the wall time of the whole run: framing, training, scoring.
	Epochs  int     `json:"epochs"`
	Seconds float64 `json:"seconds"`
	// Answers are vgg's held-out answers, for choosing the confidence words' thresholds.
	Answers []answer `json:"answers,omitempty"`
}

// answer is one held-out photo's answer: its person, the top identity and the two largest
// calibrated probabilities.
type answer struct {
	Photo  string  `json:"photo"`
	Person string  `json:"person"`
	Top    string  `json:"top"`
	P1     float64 `json:"p1"`
	P2     float64 `json:"p2"`
	Level  string  `json:"level"`
}

func run(ctx context.Context, o options, out, log io.Writer) error {
	if o.twin && !o.aligned {
		return fmt.Errorf("--twin needs --aligned: the twin reads the centre squares bench/facedump writes, not aligned faces")
	}
	sp, err := makeSplit(o.faces, o.split)
	if err != nil {
		return err
	}
	work := o.work
	if work == "" {
		if work, err = os.MkdirTemp("", "vgg-quality-"); err != nil {
			return err
		}
		defer os.RemoveAll(work)
	}
	dirs, err := sp.link(work)
	if err != nil {
		return err
	}
	fmt.Fprintf(log, "split of %s: %d people trained on (%d photos, %d held out), %d unseen (%d photos); links in %s\n",
		o.faces, len(sp.train), count(sp.train), count(sp.heldOut), len(sp.unseen), count(sp.unseen), work)

	started := time.Now()
	vgg, chosen, err := runVGG(ctx, o, dirs, log)
	if err != nil {
		return err
	}
	o.settings = chosen // what a time budget chose, for the twin and the table's heading
	vgg.Seconds = time.Since(started).Seconds()
	rows := []result{vgg}
	var twinErr error
	if o.twin {
		// vgg's row first, on the log: the twin takes as long again, and a twin stopped or
		// failed must not lose it.
		writeTable(log, rows)
		var twin result
		if twin, twinErr = runTwin(ctx, o, dirs, vgg.Epochs, log); twinErr == nil {
			rows = append(rows, twin)
		}
	}
	fmt.Fprintf(out, "%s: %d people trained on, %d unseen; --width %d --input %d --seed %d, %s\n", o.faces, len(sp.train), len(sp.unseen),
		o.settings.WidthDivisor, o.settings.InputSize, o.settings.Seed, framingName(o.aligned))
	writeTable(out, rows)
	if err := writeResults(o.jsonOut, rows); err != nil {
		return err
	}
	return twinErr
}

// writeResults writes rows as JSON to path ("": nowhere).
func writeResults(path string, rows []result) error {
	if path != "" {
		data, err := json.MarshalIndent(rows, "", " ")
		if err != nil {
			return err
		}
		return vision.WriteAtomic(path, func(w io.Writer) error { _, err := w.Write(data); return err })
	}
	return nil
}

func framingName(aligned bool) string {
	name, _, _ := lookalike.Framing(aligned)
	return name
}

// splitDirs are the three folders of a split.
type splitDirs struct{ train, heldOut, unseen string }

// runVGG trains on the training folder as 'vgg train' does (its gallery included), then
// answers the held-out photos with the classifier at the fitted temperature and enrols the
// unseen people as 'vgg evaluate' does. It returns the settings it trained with, a time
// budget's choices in them.
func runVGG(ctx context.Context, o options, dirs splitDirs, log io.Writer) (result, train.Settings, error) {
	r := result{Engine: "vgg"}
	s := o.settings
	s.Data = dirs.train
	model := filepath.Join(filepath.Dir(dirs.train), "vgg", "model.safetensors")
	to := train.Options{Out: model, Device: "cpu", Log: log, AllowChance: true}
	s.Preprocessing, to.FramingID, to.Framing = lookalike.Framing(o.aligned)
	cache := openCache(log)
	to.FrameCache = cache
	report, err := train.Run(ctx, s, to)
	if err != nil {
		return r, s, err
	}
	r.Epochs = len(report.Epochs)
	s = report.Settings // with what a time budget chose

	m, err := lookalike.Open("cpu", model, o.aligned)
	if err != nil {
		return r, s, err
	}
	defer m.Close()
	// The model's own gallery, as 'vgg train' indexes it: enrolment centres on its mean.
	trainSet, err := dataset.Scan(dirs.train, vision.Decoder{})
	if err != nil {
		return r, s, err
	}
	own, err := m.GalleryOf(ctx, trainSet, lookalike.CollectionOptions{Cache: cache})
	if err != nil {
		return r, s, err
	}
	if err := own.Save(gallery.PathFor(model)); err != nil {
		return r, s, err
	}

	if err := scoreHeldOut(m, dirs.heldOut, cache, &r); err != nil {
		return r, s, err
	}
	if dirs.unseen != "" {
		unseen, err := dataset.Scan(dirs.unseen, vision.Decoder{})
		if err != nil {
			return r, s, err
		}
		g, err := m.GalleryOf(ctx, unseen, lookalike.CollectionOptions{Cache: cache, OwnCentre: true})
		if err != nil {
			return r, s, err
		}
		score, err := gallery.EvaluateEnrolment(g.Gallery, o.shots, s.Seed)
		if err != nil {
			return r, s, err
		}
		r.Enrolment = &score
	}
	return r, s, nil
}

// openCache opens the framing cache 'vgg train' uses, or none (with a warning).
func openCache(log io.Writer) *framecache.Cache {
	dir, err := framecache.DefaultDir()
	if err == nil {
		var cache *framecache.Cache
		if cache, err = framecache.Open(dir); err == nil {
			return cache
		}
	}
	fmt.Fprintf(log, "quality: framing without a cache: %v\n", err)
	return nil
}

// scoreHeldOut answers every held-out photo, framed as the model was trained, with its
// classifier at the fitted temperature, and scores top-1, top-5 and the calibration.
func scoreHeldOut(m *lookalike.Model, dir string, cache *framecache.Cache, r *result) error {
	set, err := dataset.Scan(dir, vision.Decoder{})
	if err != nil {
		return err
	}
	src := m.Source(cache)
	embedder := m.Embedder()
	var probs [][]float64
	var labels []int
	top1, top5 := 0, 0
	const batch = 64
	for start := 0; start < len(set.Samples); start += batch {
		group := set.Samples[start:min(start+batch, len(set.Samples))]
		pictures := make([]*image.RGBA, 0, len(group))
		for _, s := range group {
			pic, err := src.Image(s.Path)
			if err != nil {
				return err
			}
			pictures = append(pictures, pic)
		}
		outs, err := embedder.Run(pictures)
		if err != nil {
			return err
		}
		for i, out := range outs {
			person := set.Classes[group[i].Label]
			label := slices.Index(m.Info.ClassNames, person)
			if label < 0 {
				return fmt.Errorf("%s: %s is not among the model's identities", group[i].Path, person)
			}
			p := make([]float64, len(out.Probabilities))
			for j, v := range out.Probabilities {
				p[j] = float64(v)
			}
			order := nn.Ranked(p)
			if order[0] == label {
				top1++
			}
			if slices.Contains(order[:min(5, len(order))], label) {
				top5++
			}
			p1, p2 := nn.TopTwo(p)
			r.Answers = append(r.Answers, answer{Photo: group[i].Path, Person: person, Top: m.Info.ClassNames[order[0]],
				P1: p1, P2: p2, Level: nn.ConfidenceLevel(p, m.Info.Calibration())})
			probs, labels = append(probs, p), append(labels, label)
		}
	}
	if len(probs) == 0 {
		return fmt.Errorf("%s: no held-out photo", dir)
	}
	r.HeldOut = len(probs)
	r.Top1, r.Top5 = float64(top1)/float64(len(probs)), float64(top5)/float64(len(probs))
	calibration := nn.MeasureReliability(probs, labels, 10, m.Info.Calibration())
	r.Calibration = &calibration
	return nil
}

// runTwin dumps the split's pixels as 'vgg train --aligned' sees them (bench/facedump) and
// trains the PyTorch twin on them for the epochs vgg trained, with the same recipe.
func runTwin(ctx context.Context, o options, dirs splitDirs, epochs int, log io.Writer) (result, error) {
	r := result{Engine: "PyTorch twin", Epochs: epochs}
	started := time.Now()
	s := o.settings
	work := filepath.Dir(dirs.train)
	dumps := map[string]string{"train": filepath.Join(work, "dump-train"), "test": filepath.Join(work, "dump-held-out"), "unseen": filepath.Join(work, "dump-unseen")}
	for _, d := range []struct {
		from, to string
		val      float64
	}{{dirs.train, dumps["train"], s.ValFraction}, {dirs.heldOut, dumps["test"], 0}, {dirs.unseen, dumps["unseen"], 0}} {
		if d.from == "" {
			continue
		}
		if err := command(ctx, log, "go", "run", "./bench/facedump", "--data", d.from, "--input", fmt.Sprint(s.InputSize),
			"--val", fmt.Sprint(d.val), "--seed", fmt.Sprint(s.Seed), "--out", d.to); err != nil {
			return r, err
		}
	}
	out := filepath.Join(work, "twin.json")
	args := []string{"bench/recipe_twin.py", "--dump", dumps["train"], "--test", dumps["test"], "--keep-best",
		"--arch", s.Arch, "--width", fmt.Sprint(s.WidthDivisor), "--epochs", fmt.Sprint(epochs), "--batch", fmt.Sprint(s.BatchSize),
		"--optimizer", s.Optimizer, "--lr", fmt.Sprint(s.LR), "--weight-decay", fmt.Sprint(s.WeightDecay),
		"--seed", fmt.Sprint(s.Seed), "--threads", fmt.Sprint(runtime.NumCPU()), "--shots", fmt.Sprint(o.shots), "--json", out,
		"--mixup", fmt.Sprint(s.Augment.Mixup)}
	if dirs.unseen != "" {
		args = append(args, "--enrol", dumps["unseen"])
	}
	if err := command(ctx, log, python, args...); err != nil {
		return r, err
	}
	data, err := os.ReadFile(out)
	if err != nil {
		return r, err
	}
	var twin struct {
		Test struct {
			Photos int     `json:"photos"`
			Top1   float64 `json:"top1"`
			Top5   float64 `json:"top5"`
		} `json:"test"`
		Enrolment *gallery.EnrolmentScore `json:"enrolment"`
	}
	if err := json.Unmarshal(data, &twin); err != nil {
		return r, fmt.Errorf("%s: %v", out, err)
	}
	r.HeldOut, r.Top1, r.Top5, r.Enrolment = twin.Test.Photos, twin.Test.Top1, twin.Test.Top5, twin.Enrolment
	r.Seconds = time.Since(started).Seconds()
	return r, nil
}

// command runs name with args in the module's root, its output going to log.
func command(ctx context.Context, log io.Writer, name string, args ...string) error {
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Stdout, cmd.Stderr = log, log
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("%s %s: %w", name, strings.Join(args, " "), err)
	}
	return nil
}

// writeTable prints the rows as one table; what an engine did not measure is "-".
func writeTable(w io.Writer, rows []result) {
	var b bytes.Buffer
	tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
	header := []string{"engine", "held-out top-1", "top-5", "unseen 5-shot top-1", "ECE"}
	for _, level := range nn.ConfidenceLevels {
		header = append(header, `"`+level+`" right`)
	}
	header = append(header, "epochs", "wall")
	fmt.Fprintln(tw, strings.Join(header, "\t"))
	for _, r := range rows {
		cells := []string{r.Engine, fmt.Sprintf("%.1f%% of %d", 100*r.Top1, r.HeldOut), percent(r.Top5)}
		if r.Enrolment != nil {
			cells = append(cells, fmt.Sprintf("%.1f%% (%d people)", 100*r.Enrolment.Top1, r.Enrolment.Identities))
		} else {
			cells = append(cells, "-")
		}
		if c := r.Calibration; c != nil {
			cells = append(cells, percent(c.ECE))
			for _, word := range c.Words {
				if word.Count == 0 {
					cells = append(cells, "none")
				} else {
					cells = append(cells, fmt.Sprintf("%d/%d = %.1f%%", word.Correct, word.Count, 100*word.Accuracy()))
				}
			}
		} else {
			cells = append(cells, "-")
			for range nn.ConfidenceLevels {
				cells = append(cells, "-")
			}
		}
		cells = append(cells, fmt.Sprint(r.Epochs), (time.Duration(math.Round(r.Seconds)) * time.Second).String())
		fmt.Fprintln(tw, strings.Join(cells, "\t"))
	}
	tw.Flush()
	w.Write(b.Bytes())
}

func percent(v float64) string { return fmt.Sprintf("%.1f%%", 100*v) }
