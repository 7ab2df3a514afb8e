package lookalike

import (
	"bytes"
	"context"
	"os"
	"strings"
	"testing"

	"github.com/vgglab/vgg/train"
)

// A shortened demo: fewer people, photos and epochs than the real one, but every step of it.
func TestShortDemo(t *testing.T) {
	d := DefaultDemo()
	d.Dir = t.TempDir()
	d.Identities, d.Photos, d.HeldOut = 4, 40, 8
	d.Settings.Epochs = 12
	// A constant rate leaves the start sooner than one-cycle's slow warm-up, and a quarter of
	// the photos held out for validation are enough for the learning guard to tell that the
	// run learned (on 4 photos a person, 50% could be luck).
	d.Settings.Schedule, d.Settings.LR, d.Settings.ValFraction = "constant", 0.001, 0.25
	var log bytes.Buffer
	d.Log = &log
	res, err := Demo(context.Background(), d)
	if err != nil {
		t.Fatalf("%v\n%s", err, log.String())
	}
	t.Logf("held-out accuracy %.1f%% (%d of %d), chance 25%%", 100*res.Accuracy(), res.Correct, res.Total)
	if res.Total != 32 {
		t.Errorf("matched %d held-out photos, want 32", res.Total)
	}
	// Chance is 25%: a network that learnt nothing gives every photo the same name and gets
	// 8 of the 32 (8 per person) right. 12 or more takes learning, even in so short a run.
	if res.Accuracy() < 0.375 {
		t.Errorf("held-out accuracy %.1f%%, want at least 37.5%% (chance 25%%)\n%s", 100*res.Accuracy(), log.String())
	}
	for _, f := range []string{res.ContactSheet, res.Model, res.Matches, train.PathsFor(res.Model).Plot} {
		if _, err := os.Stat(f); err != nil {
			t.Error(err)
		}
	}
	table, _ := os.ReadFile(res.Matches)
	if lines := strings.Count(string(table), "\n"); lines != 33 {
		t.Errorf("match table has %d lines, want a header and 32 rows", lines)
	}
	for _, want := range []string{"1. Drawing 4 made-up people", "2. Training", "3. Matching", "held-out accuracy"} {
		if !strings.Contains(log.String(), want) {
			t.Errorf("demo log lacks %q", want)
		}
	}
}
