// Package report writes the answer to "whom do I look like" for one photo and each of its
// faces as a page a person reads: a self-contained HTML file (every picture inline as a data: URI, so it can be mailed
// or opened from anywhere) and a PNG montage of the same, for places that show pictures only.
package report

import (
	"bytes"
	"fmt"
	"image"
	"io"
	"os"
	"path/filepath"

	"github.com/vgglab/vgg/safefile"
	"github.com/vgglab/vgg/vision"
)

// Match is one identity the photo resembles.
type Match struct {
	Identity string
	// Probability is the classifier's softmax output for the identity; HasProbability is
	// false for an identity enrolled after training, which the classifier does not know.
	Probability    float32
	HasProbability bool
	// Score is the gallery score the identities were ranked by ('--by embedding'): the mean
	// similarity of its closest photos. HasScore is false when the classifier ranked them.
	Score    float32
	HasScore bool
	// Closest is the identity's gallery photo most similar to the face, its path, and the
	// cosine similarity of their embeddings. Closest is nil when the gallery has no photo of
	// the identity.
	Closest     image.Image
	ClosestPath string
	Similarity  float32
}

// Report is everything one page shows: a photo and the answer for each of its faces.
type Report struct {
	// PhotoPath and Photo are the photo asked about.
	PhotoPath string
	Photo     image.Image
	// Framing says in words how the faces were taken from the photo.
	Framing string
	// RankedBy says what ordered the matches: "classifier" or "embedding".
	RankedBy string
	// Model names the model file the answer came from.
	Model string
	// Warnings are about the model or its gallery (it has not learned, its embeddings have
	// collapsed), shown in the banner above everything.
	Warnings []string
	// NoClosest says the gallery photos are left out because their similarities mean nothing.
	NoClosest bool
	// Faces are the faces answered, most confident first; each is outlined on the photo
	// with its number.
	Faces []Face
}

// Face is the answer for one face of the photo.
type Face struct {
	// Number is the face's place among the photo's faces, most confident first, from 1 (as
	// 'vgg detect' lists them).
	Number int
	// Box is where the face was found, in the pixels of Report.Photo (which may be a shrunk
	// copy of the photo); empty: no detector ran, the photo was framed by its centre square.
	Box image.Rectangle
	// Picture is what the network saw (aligned, at its input size).
	Picture image.Image
	// Heatmap is the Grad-CAM overlay on Picture, for the identity CAMIdentity; nil for none.
	Heatmap     image.Image
	CAMIdentity string
	Matches     []Match
	// Confidence says in words how far to trust the answer; Doubtful (a guess) puts it in the
	// warning banner too.
	Confidence string
	Doubtful   bool
}

// File names inside the report folder.
const (
	HTMLFile    = "index.html"
	MontageFile = "montage.png"
)

// generatorMark is in the head of every page Write makes; MadePage looks for it.
const generatorMark = `<meta name="generator" content="vgg">`

// MadePage reports whether the file at path is a report page vgg wrote, so that a report
// written again into the same folder may replace it (and a person's own index.html is left
// alone).
func MadePage(path string) bool {
	return bytes.Contains(safefile.ReadHead(path, 512), []byte(generatorMark))
}

// Files lists the files Write makes in dir.
func Files(dir string) []string {
	return []string{filepath.Join(dir, HTMLFile), filepath.Join(dir, MontageFile)}
}

// PrepareDir makes sure files can be written into dir (a report folder, the folder a gallery
// goes to), creating it if needed, before any slow work starts: a folder that cannot be written
// to is an error naming it now, not after a minute of computing.
func PrepareDir(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	probe, err := os.CreateTemp(dir, ".write-test-*")
	if err != nil {
		return fmt.Errorf("folder %s is not writable: %w", dir, err)
	}
	probe.Close()
	return os.Remove(probe.Name())
}

// Write writes dir/index.html and dir/montage.png. Both are rendered in memory first and each
// file is then written atomically (a reader sees the old file or the complete new one), so a
// failure leaves no half-written file. dir must exist (see PrepareDir).
func Write(dir string, r *Report) error {
	page, err := HTML(r)
	if err != nil {
		return err
	}
	picture, err := montage(r)
	if err != nil {
		return err
	}
	if err := vision.WriteAtomic(filepath.Join(dir, HTMLFile), func(w io.Writer) error {
		_, err := w.Write(page)
		return err
	}); err != nil {
		return err
	}
	return vision.WritePNG(filepath.Join(dir, MontageFile), picture)
}
