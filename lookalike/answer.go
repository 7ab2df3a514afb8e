package lookalike

import (
	"context"
	"fmt"
	"image"

	"github.com/vgglab/vgg/explain"
	"github.com/vgglab/vgg/gallery"
	"github.com/vgglab/vgg/tensor"
	"github.com/vgglab/vgg/vision"
)

// Options shape the answers.
type Options struct {
	// Top is how many identities to give per face.
	Top int
	// By says what ranks the identities.
	By gallery.Ranking
	// Faces says which faces of a photo are answered.
	Faces Choice
	// Heatmaps asks for each face's Grad-CAM, of the identity named CAM ("": the classifier's
	// top identity for that face).
	Heatmaps bool
	CAM      string
}

// Matcher answers photos with one model and its gallery.
type Matcher struct {
	*Model
	// Gallery is nil when the model has none (possible only ranking by the classifier).
	Gallery *gallery.Gallery
	Options
	// Warnings are about the model and its gallery, the same for every answer; Collapsed is
	// set when the gallery's embeddings no longer separate people, so its closest photos are
	// not shown.
	Warnings  []string
	Collapsed bool
	camClass  int // -1: each face's top identity
}

// NewMatcher checks the options against the model and its gallery g (nil for none).
func NewMatcher(m *Model, g *gallery.Gallery, o Options) (*Matcher, error) {
	if o.Top < 1 {
		return nil, fmt.Errorf("top %d: at least one identity must be asked for", o.Top)
	}
	if o.Faces == "" {
		o.Faces = AllFaces
	}
	if o.By == "" {
		o.By = gallery.ByClassifier
	}
	mt := &Matcher{Model: m, Gallery: g, Options: o, camClass: -1}
	if o.CAM != "" {
		var err error
		if mt.camClass, err = m.CAMClass(g, o.CAM); err != nil {
			return nil, fmt.Errorf("heatmap of %q: %w", o.CAM, err)
		}
	}
	mt.Warnings, mt.Collapsed = m.Warnings(g)
	return mt, nil
}

// Setup says which model to open, where, with which gallery, and how photos are framed for it.
type Setup struct {
	// Device is the backend ("cpu", "cuda"); Model the model file.
	Device, Model string
	// Gallery is the gallery file (gallery.PathFor(Model) by default); GalleryRequired says a
	// missing one is an error even when ranking by the classifier (the user named it).
	Gallery         string
	GalleryRequired bool
	// Aligned says the photos are face crops already (see TrainedOnCrops).
	Aligned bool
}

// OpenMatcher opens the model on its device with its gallery (required when ranking by
// embedding, else used when it exists) and makes the matcher of the options.
func OpenMatcher(s Setup, o Options) (*Matcher, error) {
	if s.Gallery == "" {
		s.Gallery = gallery.PathFor(s.Model)
	}
	m, err := Open(s.Device, s.Model, s.Aligned)
	if err != nil {
		return nil, err
	}
	g, err := m.MatchGallery(s.Gallery, o.By == gallery.ByEmbedding || s.GalleryRequired)
	if err != nil {
		m.Close()
		return nil, err
	}
	mt, err := NewMatcher(m, g, o)
	if err != nil {
		m.Close()
		return nil, err
	}
	return mt, nil
}

// FaceAnswer is the answer for one face.
type FaceAnswer struct {
	Face
	// Output is what the network says of the face.
	Output gallery.Output
	// Candidates are the identities it looks like, best first, with their closest gallery photos.
	Candidates []gallery.Candidate
	// Confidence is how far to trust the classifier's answer.
	Confidence Confidence
	// Heatmap is the Grad-CAM overlay on the face for the identity CAMIdentity (when asked).
	Heatmap     *image.RGBA
	CAMIdentity string
}

// Answer is the answer for one photo: each chosen face's, most confident first, or the error
// that kept the photo from being answered.
type Answer struct {
	Path string
	// Photo is nil when the photo could not be read.
	Photo *Photo
	Faces []FaceAnswer
	Err   error
}

// Remark says how the faces were taken from the photo ("" when there is nothing to say).
func (a *Answer) Remark(c Choice) string {
	if a.Photo == nil {
		return ""
	}
	return a.Photo.Remark(c)
}

// batchPhotos is how many photos are read before their faces go through the network.
const batchPhotos = 32

// MatchFiles answers each photo, in order. A photo that cannot be read gets its error in its
// Answer and the others go on; the returned error is for what stops everything (the device, a
// cancelled context).
func (mt *Matcher) MatchFiles(ctx context.Context, paths []string) ([]Answer, error) {
	answers := make([]Answer, len(paths))
	for start := 0; start < len(paths); start += batchPhotos {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		var group []*Answer
		for i := start; i < min(start+batchPhotos, len(paths)); i++ {
			answers[i].Path = paths[i]
			p, err := mt.Finder().Load(paths[i])
			if err != nil {
				answers[i].Err = err
				continue
			}
			answers[i].Photo = p
			group = append(group, &answers[i])
		}
		if err := mt.answer(ctx, group); err != nil {
			return nil, err
		}
	}
	return answers, nil
}

// MatchImage answers one decoded photo; name is what messages call it. An error is returned
// for a photo that cannot be answered as well as for what stops everything.
func (mt *Matcher) MatchImage(ctx context.Context, name string, img image.Image) (*Answer, error) {
	p, err := mt.Finder().Find(name, img)
	if err != nil {
		return nil, err
	}
	a := &Answer{Path: name, Photo: p}
	if err := mt.answer(ctx, []*Answer{a}); err != nil {
		return nil, err
	}
	return a, a.Err
}

// answer runs the chosen faces of the photos through the network and fills in each face's
// answer. Without heatmaps the faces go through together; with them each face's one pass is
// Grad-CAM's, whose forward gives the probabilities and the embedding too.
func (mt *Matcher) answer(ctx context.Context, group []*Answer) error {
	var faces []Face
	for _, a := range group {
		faces = append(faces, a.Photo.Chosen(mt.Faces)...)
	}
	if len(faces) == 0 {
		return nil
	}
	outs := make([]gallery.Output, len(faces))
	heatmaps := make([]*explain.CAM, len(faces))
	if mt.Heatmaps {
		for i, f := range faces {
			if err := ctx.Err(); err != nil {
				return err
			}
			cam, err := mt.gradCAM(f.Picture)
			if err != nil {
				return err
			}
			out, err := mt.Embedder().Answer(f.Picture, cam.Logits, cam.Embedding)
			if err != nil {
				return err
			}
			heatmaps[i], outs[i] = cam, out
		}
	} else {
		var pictures []*image.RGBA
		for _, f := range faces {
			pictures = append(pictures, f.Picture)
		}
		var err error
		if outs, err = mt.Embedder().Run(pictures); err != nil {
			return err
		}
	}
	k := 0
	for _, a := range group {
		for _, f := range a.Photo.Chosen(mt.Faces) {
			out, cam := outs[k], heatmaps[k]
			k++
			if a.Err != nil {
				continue
			}
			cands, err := gallery.Answer(out, mt.Info.ClassNames, mt.Gallery, mt.By, mt.Top)
			if err != nil {
				a.Err = fmt.Errorf("%s: face %d: %w", a.Path, f.Number, err)
				a.Faces = nil
				continue
			}
			fa := FaceAnswer{Face: f, Output: out, Candidates: cands, Confidence: JudgeAnswer(out.Probabilities, mt.Info.ClassNames, mt.Info.Calibration())}
			if cam != nil {
				size := mt.Net.Config.InputSize
				fa.Heatmap = explain.Overlay(f.Picture, cam.Upsample(size, size), 0.5)
				fa.CAMIdentity = mt.Info.ClassNames[cam.Class]
			}
			a.Faces = append(a.Faces, fa)
		}
	}
	return nil
}

// gradCAM runs one face through the network with Grad-CAM: where in the face the network found
// the identity asked for (Options.CAM), or its top identity.
func (mt *Matcher) gradCAM(picture *image.RGBA) (*explain.CAM, error) {
	class := explain.TopClass
	if mt.camClass >= 0 {
		class = mt.camClass
	}
	x := tensor.Zeros(mt.Net.InputShape(1)...)
	vision.ToCHW(picture, mt.Norm(), x.Float32s())
	return explain.GradCAM(mt.Net, x, class)
}
