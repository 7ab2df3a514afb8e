package lookalike

import (
	"fmt"
	"image"

	"github.com/vgglab/vgg/train"
	"github.com/vgglab/vgg/vision"
	"github.com/vgglab/vgg/vision/align"
	"github.com/vgglab/vgg/vision/haar"
)

// Finder turns a photo into the pictures the network sees, remembering where each face was:
// every face found by the Haar cascade, most confident first, aligned by the eyes (as training
// does by default), or with aligned set the photo's centre square.
type Finder struct {
	aligner *align.Aligner // nil: centre square
	size    int
}

// NewFinder makes a finder of faces for a network whose input is size x size pixels; aligned
// says the photos are face crops already (the centre square is taken).
func NewFinder(aligned bool, size int) *Finder {
	f := &Finder{size: size}
	if !aligned {
		// Every face is answered, so every face is looked for, tilted ones too.
		f.aligner = align.New(haar.FrontalFace(), haar.Eye())
	}
	return f
}

// Face is one face taken from a photo.
type Face struct {
	// Number is the face's place among the photo's faces, most confident first, from 1: the
	// order 'vgg detect' lists them in.
	Number int
	// Box is the face in the photo, in its full-size pixels as 'vgg detect' gives it (see
	// Photo.PreviewBox for where it is in the preview); empty for the centre square.
	Box image.Rectangle
	// Detection is the detector's confidence (its merged window hits); 0 when no detector ran
	// or it found nothing.
	Detection int
	// Picture is the face at the network's input size.
	Picture *image.RGBA
}

// Photo is a photo and the faces taken from it.
type Photo struct {
	Path string
	// Image is the photo for showing (a page draws it a few hundred pixels wide): shrunk by the
	// whole factor PreviewScale to at most PreviewPixels, so that the answers of a batch of
	// photos do not hold their full-size photos. PreviewScale is 1 for a photo within it.
	Image        image.Image
	PreviewScale int
	// Faces are its faces, most confident first; there is always one.
	Faces []Face
	// CentreSquare is set when no detector ran (the photo is a face crop); WholePhoto when the
	// detector found no face and the whole photo was taken as a face crop.
	CentreSquare, WholePhoto bool
}

// PreviewPixels bounds Photo.Image: 1 MP, more than a page's largest drawing of it.
const PreviewPixels = 1_000_000

// PreviewBox is a face's box (in the photo's pixels, as Face.Box) in Image's pixels.
func (p *Photo) PreviewBox(box image.Rectangle) image.Rectangle {
	k := max(p.PreviewScale, 1)
	return image.Rect(box.Min.X/k, box.Min.Y/k, (box.Max.X+k-1)/k, (box.Max.Y+k-1)/k)
}

// Load reads the photo at path and finds its faces. The full-size photo is dropped once its
// faces are taken (vision.LoadFramed), and until then counts against the pixel budget shared
// by every photo being read, so memory stays bounded per photo however many are answered.
func (f *Finder) Load(path string) (*Photo, error) {
	return vision.LoadFramed(vision.Decoder{}, path, func(img image.Image) (*Photo, error) {
		return f.find(path, img)
	})
}

// Find finds the faces of a decoded photo; name is what errors call it.
func (f *Finder) Find(name string, img image.Image) (*Photo, error) {
	p, err := f.find(name, img)
	if err != nil {
		return nil, &vision.FileError{Path: name, Err: err}
	}
	return p, nil
}

// find is Find with errors that do not name the photo (Load's and Find's callers name it).
func (f *Finder) find(name string, img image.Image) (*Photo, error) {
	full := vision.ToRGBA(img)
	k := vision.ShrinkFactor(full.Rect.Dx(), full.Rect.Dy(), PreviewPixels)
	p := &Photo{Path: name, Image: vision.Shrink(full, k), PreviewScale: k}
	if f.aligner == nil {
		p.CentreSquare = true
		p.Faces = []Face{{Number: 1, Picture: vision.SquareResize(full, f.size)}}
		return p, nil
	}
	faces, err := f.aligner.Align(full)
	if err != nil {
		return nil, err
	}
	p.WholePhoto = faces[0].WholeImage
	for i, af := range faces {
		face := Face{Number: i + 1, Picture: vision.SquareResize(af.Aligned, f.size)}
		if !af.WholeImage {
			face.Box, face.Detection = af.Box, af.Neighbors
		}
		p.Faces = append(p.Faces, face)
	}
	return p, nil
}

// Found is how many faces the detector found in the photo (0: none, or no detector ran).
func (p *Photo) Found() int {
	if p.CentreSquare || p.WholePhoto {
		return 0
	}
	return len(p.Faces)
}

// Choice says which faces of a photo are answered.
type Choice string

const (
	// AllFaces answers every face found, most confident first.
	AllFaces Choice = "all"
	// BestFace answers the most confident face only.
	BestFace Choice = "best"
)

// ParseChoice reads --faces.
func ParseChoice(s string) (Choice, error) {
	switch c := Choice(s); c {
	case AllFaces, BestFace:
		return c, nil
	}
	return "", fmt.Errorf("%q is not a choice of faces: say all (every face found) or best (the most confident)", s)
}

// Chosen are the faces of the photo to answer.
func (p *Photo) Chosen(c Choice) []Face {
	if c == BestFace {
		return p.Faces[:1]
	}
	return p.Faces
}

// Remark says what is worth knowing about how the faces were taken from the photo, given which
// were answered: the one wording shared by matching, enrolling, indexing and training.
func (p *Photo) Remark(c Choice) string {
	return remark(p.WholePhoto, p.Found(), c)
}

func remark(wholePhoto bool, found int, c Choice) string {
	switch {
	case wholePhoto:
		return "no face found: the whole photo is taken as a face crop"
	case found > 1 && c == AllFaces:
		return fmt.Sprintf("%d faces found: each is answered, most confident first", found)
	case found > 1:
		return fmt.Sprintf("%d faces found: the most confident is used", found)
	}
	return ""
}

// FaceFraming frames a photo by its most confident face, found by a Haar cascade and turned
// and scaled so that the eyes land where they do in the aligned crops: the framing of
// training, indexing and 'vgg align'.
type FaceFraming struct {
	aligner *align.Aligner
}

// NewFaceFraming frames faces found with the face cascade (nil: the built-in one) and finds
// their eyes with the built-in eye locator, or, when eyes is not nil, with that eye cascade.
func NewFaceFraming(faces, eyes *haar.Cascade) *FaceFraming {
	if faces == nil {
		faces = haar.FrontalFace()
	}
	a := align.New(faces, haar.Eye())
	if eyes != nil {
		a.UseEyeCascade(eyes)
	}
	// One face a photo is framed: the turned searches for tilted faces run only on photos
	// where no upright face is found, so framing a folder costs about what it did before them.
	a.TiltsAsFallback = true
	return &FaceFraming{aligner: a}
}

// Fingerprint names everything that shapes the framed faces (cascades, version, settings),
// for the framing cache's keys.
func (f *FaceFraming) Fingerprint() string { return f.aligner.Fingerprint() }

// FramedFace is the most confident face of a photo, aligned, and how it was found.
type FramedFace struct {
	// Aligned is the face, align.Size pixels square.
	Aligned *image.RGBA
	// Found is how many faces the detector found (0: none).
	Found int
	// WholePhoto is set when no face was found and the whole photo was taken as a face crop;
	// EyesMissing when a face was found but not both its eyes, so it is aligned from its box.
	WholePhoto, EyesMissing bool
}

// Remark says what is worth knowing about how the face was taken (see Photo.Remark).
func (f FramedFace) Remark() string { return remark(f.WholePhoto, f.Found, BestFace) }

// Frame finds, ranks and aligns the faces of img and keeps the most confident.
func (f *FaceFraming) Frame(img image.Image) (FramedFace, error) {
	faces, err := f.aligner.Align(img)
	if err != nil {
		return FramedFace{}, err
	}
	best := faces[0]
	ff := FramedFace{Aligned: best.Aligned, WholePhoto: best.WholeImage}
	if !best.WholeImage {
		ff.Found, ff.EyesMissing = len(faces), best.Fallback
	}
	return ff, nil
}

// Framing is how training frames its photos before they are resized to the network's input:
// by default the most confident face of each photo (FaceFraming with the built-in cascades);
// with aligned, the photo's centre square. name describes the choice for the training
// settings; id names everything that shapes the framed pictures (the aligner's fingerprint),
// for the framing cache's keys.
func Framing(aligned bool) (name, id string, f train.Framing) {
	if aligned {
		return train.CentreSquare, "", nil
	}
	framing := NewFaceFraming(nil, nil)
	return "most confident face, aligned by the eyes", "most confident face, aligner " + framing.Fingerprint(), func(img image.Image) (image.Image, string, error) {
		face, err := framing.Frame(img)
		if err != nil {
			return nil, "", err
		}
		return face.Aligned, face.Remark(), nil
	}
}
