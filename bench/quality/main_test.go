package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vgglab/vgg/gallery"
	"github.com/vgglab/vgg/nn"
)

// people writes root/<name>/NNNN.jpg files (empty: the split reads names only).
func people(t *testing.T, photos map[string]int) string {
	t.Helper()
	root := t.TempDir()
	for name, n := range photos {
		os.MkdirAll(filepath.Join(root, name), 0o755)
		for i := range n {
			os.WriteFile(filepath.Join(root, name, fmt.Sprintf("%04d.jpg", i)), nil, 0o644)
		}
	}
	return root
}

// Every 3rd person by name is unseen; of the others the first 2 are trained on, each with its
// last fifth held out (at least one photo).
func TestMakeSplit(t *testing.T) {
	root := people(t, map[string]int{"A": 10, "B": 4, "C": 7, "D": 20, "E": 5, "F": 9, "G": 3})
	sp, err := makeSplit(root, splitOptions{people: 2, unseenEvery: 3, heldOut: 0.2})
	if err != nil {
		t.Fatal(err)
	}
	if len(sp.unseen) != 2 || len(sp.unseen["C"]) != 7 || len(sp.unseen["F"]) != 9 {
		t.Errorf("unseen %v, want C and F whole", sp.unseen)
	}
	if len(sp.train) != 2 || len(sp.train["A"]) != 8 || len(sp.heldOut["A"]) != 2 || len(sp.train["B"]) != 3 || len(sp.heldOut["B"]) != 1 {
		t.Errorf("trained on %v, held out %v; want A 8+2 and B 3+1", sp.train, sp.heldOut)
	}
	if got := filepath.Base(sp.heldOut["A"][1]); got != "0009.jpg" {
		t.Errorf("A's held-out photos end with %s, want its last, 0009.jpg", got)
	}
	dirs, err := sp.link(filepath.Join(t.TempDir(), "work"))
	if err != nil {
		t.Fatal(err)
	}
	if target, err := os.Readlink(filepath.Join(dirs.heldOut, "A", "0009.jpg")); err != nil || target != filepath.Join(root, "A", "0009.jpg") {
		t.Errorf("held-out link %q (%v), want it to name %s", target, err, filepath.Join(root, "A", "0009.jpg"))
	}
	if _, err := sp.link(filepath.Dir(dirs.train)); err == nil || !strings.Contains(err.Error(), "exists already") {
		t.Errorf("linking over an earlier split: error %v", err)
	}
	if _, err := makeSplit(root, splitOptions{unseenEvery: 3, heldOut: 1}); err == nil {
		t.Error("a held-out share of 1 leaves nothing to train on, yet was accepted")
	}
}

// The table has a row per engine; what the twin does not measure is "-".
func TestWriteTable(t *testing.T) {
	calibration := nn.Reliability{ECE: 0.052, Words: []nn.WordAccuracy{{Level: nn.Confident, Count: 40, Correct: 39}, {Level: nn.FairlySure, Count: 10, Correct: 7}, {Level: nn.Unsure}, {Level: nn.AtChance}}}
	var out bytes.Buffer
	writeTable(&out, []result{
		{Engine: "vgg", HeldOut: 50, Top1: 0.92, Top5: 1, Enrolment: &gallery.EnrolmentScore{Top1: 0.31, Identities: 12}, Calibration: &calibration, Epochs: 30, Seconds: 125.4},
		{Engine: "PyTorch twin", HeldOut: 50, Top1: 0.9, Top5: 0.98, Epochs: 30, Seconds: 61},
	})
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(lines) != 3 {
		t.Fatalf("%d lines, want a header and two rows:\n%s", len(lines), out.String())
	}
	for _, want := range []string{"92.0% of 50", "100.0%", "31.0% (12 people)", "5.2%", "39/40 = 97.5%", "7/10 = 70.0%", "none", "2m5s"} {
		if !strings.Contains(lines[1], want) {
			t.Errorf("vgg's row lacks %q:\n%s", want, out.String())
		}
	}
	if !strings.Contains(lines[2], "90.0% of 50") || strings.Count(lines[2], " - ") < 5 || !strings.Contains(lines[2], "1m1s") {
		t.Errorf("the twin's row:\n%s", out.String())
	}
}

// The twin reads centre squares: asked for without --aligned, the run stops before any work.
func TestTwinNeedsAligned(t *testing.T) {
	var out, log bytes.Buffer
	err := run(context.Background(), options{faces: t.TempDir(), twin: true}, &out, &log)
	if err == nil || !strings.Contains(err.Error(), "--twin needs --aligned") || log.Len() != 0 {
		t.Errorf("error %v, log %q", err, log.String())
	}
}
