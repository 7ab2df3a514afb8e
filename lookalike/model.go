// Package lookalike answers "whom does this photo look like" with a trained model: it finds
// every face of a photo (ranked by the detector's confidence, aligned by the eyes), runs them
// through the network (probabilities, embedding and, when asked, the Grad-CAM heatmap from the
// same pass), ranks the look-alikes with their closest gallery photos, says how far to trust
// each answer, and gives the answer as data (Result, for JSON) and as a page (report.Report).
// 'vgg match', 'enrol', 'index', 'evaluate', 'viz', 'serve' and the demo all answer through it;
// train only trains.
package lookalike

import (
	"errors"
	"fmt"
	"os"

	"github.com/vgglab/vgg/dataset"
	"github.com/vgglab/vgg/dataset/framecache"
	"github.com/vgglab/vgg/gallery"
	"github.com/vgglab/vgg/kernels"
	"github.com/vgglab/vgg/nn"
	"github.com/vgglab/vgg/train"
	"github.com/vgglab/vgg/vision"
)

// Model is a trained model opened on a device to answer "whom does this face look like": the
// network and its info, the fingerprint of its weights that its gallery must carry, and how
// photos are framed for it.
type Model struct {
	Net  *nn.Model
	Info nn.ModelInfo
	// Path is the model file.
	Path        string
	Fingerprint string
	// Aligned is set when photos are taken as face crops (centre square) rather than aligned
	// by the face aligner; FramingName and Framing are that choice as training makes it, and
	// FramingID names it for the framing cache's keys (see Framing).
	Aligned     bool
	FramingName string
	FramingID   string
	Framing     train.Framing
	b           kernels.Backend
	finder      *Finder
}

// Open opens the device, loads the model file at path and fingerprints its weights; aligned
// is whether the photos it will see are face crops already (see TrainedOnCrops).
func Open(device, path string, aligned bool) (*Model, error) {
	b, err := kernels.Open(device)
	if err != nil {
		return nil, err
	}
	net, info, err := nn.LoadModel(b, path)
	if err != nil {
		b.Close()
		return nil, err
	}
	m := &Model{Net: net, Info: info, Path: path, Aligned: aligned, b: b}
	if m.Fingerprint, err = net.Fingerprint(); err != nil {
		m.Close()
		return nil, err
	}
	m.FramingName, m.FramingID, m.Framing = Framing(aligned)
	m.finder = NewFinder(aligned, net.Config.InputSize)
	return m, nil
}

// Close releases the model and its device.
func (m *Model) Close() {
	m.Net.Release()
	m.b.Close()
}

// TrainedOnCrops says whether the model at path was trained on photos as they are (face
// crops, taken by their centre square), as its training report beside it says; without a
// report, faces are found and aligned.
func TrainedOnCrops(path string) bool {
	r, err := train.ReadReport(train.PathsFor(path).Report)
	return err == nil && r.Settings.Preprocessing == train.CentreSquare
}

// Finder finds faces for this model: framed as its training framed them, at its input size.
func (m *Model) Finder() *Finder { return m.finder }

// Embedder runs face pictures through the model.
func (m *Model) Embedder() *gallery.Embedder {
	return &gallery.Embedder{Model: m.Net, Norm: m.Norm(), Temperature: m.Info.Temperature, Mirror: m.Info.Mirror}
}

// Norm is the input normalisation the model was trained with.
func (m *Model) Norm() vision.Normalization {
	return vision.Normalization{Mean: m.Info.Mean, Std: m.Info.Std}
}

// Source loads photos framed and sized for the model, as a gallery is built from them,
// through the framing cache (nil: none).
func (m *Model) Source(cache *framecache.Cache) *dataset.Source {
	return dataset.NewSource(dataset.SourceOptions{Size: m.Net.Config.InputSize, Frame: m.Framing, FrameID: m.FramingID,
		FrameCache: cache})
}

// LoadGallery reads the gallery at path, which must belong to the model; with orEmpty, a
// gallery that does not exist yet is an empty one.
func (m *Model) LoadGallery(path string, orEmpty bool) (*gallery.Gallery, error) {
	if _, err := os.Stat(path); orEmpty && errors.Is(err, os.ErrNotExist) {
		return gallery.New(m.Fingerprint, m.Net.EmbeddingWidth()), nil
	}
	return gallery.Load(path, m.Fingerprint)
}

// MatchGallery loads the gallery answers are drawn from: required when need is set (ranking by
// embedding, or a gallery named by the user), otherwise used when it exists (nil when not). A
// gallery computed by another model is refused either way: its photos would be compared in the
// wrong space.
func (m *Model) MatchGallery(path string, need bool) (*gallery.Gallery, error) {
	if _, err := os.Stat(path); errors.Is(err, os.ErrNotExist) && !need {
		return nil, nil
	}
	return gallery.Load(path, m.Fingerprint)
}

// Warnings are what makes every answer of this model doubtful: a training report beside the
// model that says it has not learned, or that cannot be read (it may be the one that says so),
// and a gallery whose embeddings have collapsed (collapsed is then set, and the closest photos
// are not to be shown).
func (m *Model) Warnings(g *gallery.Gallery) (warnings []string, collapsed bool) {
	path := train.PathsFor(m.Path).Report
	r, err := train.ReadReport(path)
	switch {
	case errors.Is(err, os.ErrNotExist):
		// A model without its report (copied on its own): nothing to say either way.
	case err != nil:
		warnings = append(warnings, fmt.Sprintf("the model's training report could not be read (%v): whether the model learned anything is unknown", err))
	case r.Verdict != nil && !r.Verdict.Learned:
		warnings = append(warnings, fmt.Sprintf("the model's training report (%s) says it has not learned to tell these people apart: %s. Its answers are guesses",
			path, r.Verdict.Reason))
	}
	if g != nil {
		var why string
		if collapsed, why = g.Separation().Collapsed(); collapsed {
			warnings = append(warnings, fmt.Sprintf("%s: 'most similar photo' is meaningless for this model, and is not shown", why))
		}
	}
	return warnings, collapsed
}

// CAMClass resolves a name to the classifier output a Grad-CAM explains. An identity enrolled
// after training, which has no output, is refused with that reason.
func (m *Model) CAMClass(g *gallery.Gallery, name string) (int, error) {
	class, err := gallery.Lookup(m.Info.ClassNames, name)
	if err == nil {
		return class, nil
	}
	if g != nil {
		if _, inGallery := gallery.Lookup(g.Names(), name); inGallery == nil {
			return -1, fmt.Errorf("%q was enrolled after training: the classifier has no output for them, so there is no Grad-CAM to draw", name)
		}
	}
	return -1, err
}
