//go:build unix

package cli

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/vgglab/vgg/gallery"
	"github.com/vgglab/vgg/train"
)

// runWithin is run, failing the test when the command has not returned after a while (a
// command stuck opening a named pipe never does).
func runWithin(t *testing.T, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	type result struct {
		stdout, stderr string
		err            error
	}
	done := make(chan result, 1)
	go func() {
		o, e, err := run(t, args...)
		done <- result{o, e, err}
	}()
	select {
	case r := <-done:
		return r.stdout, r.stderr, r.err
	case <-time.After(60 * time.Second):
		t.Fatalf("vgg %s hangs", strings.Join(args, " "))
		return "", "", nil
	}
}

func mkfifo(t *testing.T, path string) {
	t.Helper()
	if err := syscall.Mkfifo(path, 0o644); err != nil {
		t.Skipf("no named pipes here: %v", err)
	}
}

// Issue 18 item 7: a named pipe as a photo, a report or a gallery hung train, match, enrol,
// index and detect forever in open, and align skipped it without a word. Each now names it
// as not a regular file and goes on (or stops) as it does for any unreadable photo.
func TestNamedPipesNeverHang(t *testing.T) {
	la := lookAlikeSetup(t)
	pipe := filepath.Join(la.known, la.names[0], "pipe.png")
	mkfifo(t, pipe)
	const why = "named pipe"

	_, stderr, err := runWithin(t, "index", "--model", la.model, "--data", la.known, "--aligned")
	if err != nil || !strings.Contains(stderr, pipe) || !strings.Contains(stderr, why) {
		t.Errorf("index with a pipe among the photos: %v\n%s", err, stderr)
	}
	out := filepath.Join(t.TempDir(), "m.safetensors")
	stdout, stderr, err := runWithin(t, "train", "--data", la.known, "--out", out, "--epochs", "1", "--width", "16", "--input", "32",
		"--batch", "8", "--aligned", "--allow-chance")
	if err != nil || !strings.Contains(stdout+stderr, pipe) || !strings.Contains(stdout+stderr, why) {
		t.Errorf("train with a pipe among the photos: %v\n%s%s", err, stdout, stderr)
	}
	_, stderr, err = runWithin(t, "match", "--model", la.model, "--aligned", pipe, filepath.Join(la.known, la.names[1], "0000.png"))
	if err == nil || !strings.Contains(err.Error(), "1 of 2") || !strings.Contains(stderr, pipe) || !strings.Contains(stderr, why) {
		t.Errorf("match of a pipe and a photo: %v\n%s", err, stderr)
	}
	for _, args := range [][]string{
		{"enrol", "--model", la.model, "--name", "Pipe", "--aligned", pipe},
		{"detect", pipe},
		{"match", "--model", la.model, "--gallery", pipe, "--by", "embedding", filepath.Join(la.known, la.names[1], "0000.png")},
	} {
		if _, _, err := runWithin(t, args...); err == nil || !strings.Contains(err.Error(), pipe) || !strings.Contains(err.Error(), why) {
			t.Errorf("vgg %v: %v, want an error naming the pipe", args, err)
		}
	}
	// The training report and the gallery beside the model, read by match, as pipes.
	os.Remove(gallery.PathFor(la.model))
	mkfifo(t, gallery.PathFor(la.model))
	mkfifo(t, train.PathsFor(la.model).Report)
	if _, _, err := runWithin(t, "match", "--model", la.model, "--aligned", filepath.Join(la.known, la.names[1], "0000.png")); err == nil ||
		!strings.Contains(err.Error(), why) {
		t.Errorf("match with a pipe for a gallery: %v", err)
	}

	aligned := filepath.Join(t.TempDir(), "aligned")
	stdout, _, err = runWithin(t, "align", "--in", la.known, "--out", aligned)
	if err == nil || !strings.Contains(err.Error(), pipe) || !strings.Contains(err.Error(), why) || !strings.Contains(stdout, "1 unreadable") {
		t.Errorf("align with a pipe among the photos: %v\n%s", err, stdout)
	}
}
