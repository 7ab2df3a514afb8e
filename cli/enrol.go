package cli

import (
	"errors"
	"fmt"
	"image"
	"os"
	"path/filepath"

	"github.com/urfave/cli/v2"

	"github.com/vgglab/vgg/gallery"
	"github.com/vgglab/vgg/report"
	"github.com/vgglab/vgg/safefile"
	"github.com/vgglab/vgg/vision"
	"github.com/vgglab/vgg/vision/align"
	"github.com/vgglab/vgg/vision/haar"
)

func init() {
	addCommand(&cli.Command{
		Name:      "enrol",
		Aliases:   []string{"enroll"},
		Usage:     "add a person (or more photos of one) to the model's gallery, without retraining",
		ArgsUsage: "PHOTO|FOLDER...",
		Description: "enrol finds the face in each photo, computes its embedding with the model and adds " +
			"it to the gallery beside the model under --name. The classifier does not learn the new " +
			"person, but 'vgg match --by embedding' ranks every gallery identity, so it finds them. " +
			"Every photo must show a face (with --aligned, every photo is taken as a face crop); if " +
			"one cannot be used, nothing is added.",
		Flags: []cli.Flag{
			modelFlag(),
			&cli.StringFlag{Name: "name", Required: true, Usage: "the person's name, as it should appear in answers"},
			galleryFlag(),
			alignedFlag(),
			deviceFlag(),
		},
		Action: runEnrol,
	})
}

func runEnrol(c *cli.Context) error {
	if err := gallery.CheckName(c.String("name")); err != nil {
		return fmt.Errorf("enrol: --name: %w", err)
	}
	name := gallery.NormalizeName(c.String("name"))
	if c.NArg() == 0 {
		return fmt.Errorf("enrol: no photos given: vgg enrol --model MODEL --name NAME PHOTO...")
	}
	paths, problems := expandPhotos(c.Args().Slice())
	if len(problems) > 0 {
		return fmt.Errorf("enrol: %w", errors.Join(problems...))
	}
	out, err := galleryPath(c)
	if err != nil {
		return fmt.Errorf("enrol: %w", err)
	}
	if err := report.PrepareDir(filepath.Dir(out)); err != nil {
		return fmt.Errorf("enrol: gallery %s: %w", out, err)
	}
	em, err := openEmbeddingModel(c.String("device"), c.String("model"), photosAligned(c))
	if err != nil {
		return fmt.Errorf("enrol: %w", err)
	}
	defer em.Close()
	g, err := loadGallery(out, em, true)
	if err != nil {
		return fmt.Errorf("enrol: %w", err)
	}

	faces := newFaceFinder(em.aligned, em.Model.Config.InputSize)
	var pictures []*image.RGBA
	var entries []gallery.Entry
	for _, p := range paths {
		f, err := faces.find(p)
		if err == nil && f.wholePhoto {
			err = fmt.Errorf("%s: no face found; enrol photos where the face shows, or pass --aligned for photos that are face crops already", p)
		}
		if err != nil {
			problems = append(problems, err)
			continue
		}
		if f.faces > 1 {
			fmt.Fprintf(c.App.ErrWriter, "vgg: enrol: %s: %d faces found, enrolling the most confident\n", p, f.faces)
		}
		abs, err := filepath.Abs(p)
		if err != nil {
			return fmt.Errorf("enrol: %w", err)
		}
		pictures = append(pictures, f.picture)
		entries = append(entries, gallery.Entry{Identity: name, Path: abs})
	}
	if len(problems) > 0 {
		return fmt.Errorf("enrol: nothing added: %w", errors.Join(problems...))
	}
	outs, err := em.embedder().Run(pictures)
	if err != nil {
		return fmt.Errorf("enrol: %w", err)
	}
	// The gallery is read again under its lock and saved before the lock is released, so an
	// enrolment running at the same time is kept, not overwritten. A photo the person has in
	// the gallery already (same path, or same picture) is not added twice.
	added := 0
	g, err = gallery.Update(out, em.fingerprint, func() *gallery.Gallery {
		return gallery.New(em.fingerprint, gallery.EmbeddingWidth(em.Model))
	}, func(g *gallery.Gallery) error {
		added = 0
		for i, o := range outs {
			ok, err := g.AddNew(entries[i], o.Embedding)
			if err != nil {
				return fmt.Errorf("nothing added: %w", err)
			}
			if ok {
				added++
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("enrol: %w", err)
	}
	total := 0
	for _, ic := range g.Identities() {
		if ic.Identity == name {
			total = ic.Photos
		}
	}
	known := ""
	if dup := len(entries) - added; dup > 0 {
		known = fmt.Sprintf("; %d were in the gallery already and are not added twice", dup)
	}
	_, err = fmt.Fprintf(c.App.Writer, "enrolled %d photos of %q (now %d%s); gallery %s holds %d photos of %d identities\n",
		added, name, total, known, safefile.Printable(out), g.Len(), len(g.Identities()))
	return err
}

// loadGallery reads the gallery at path, which must belong to the model; with orEmpty, a
// gallery that does not exist yet is an empty one.
func loadGallery(path string, em *embeddingModel, orEmpty bool) (*gallery.Gallery, error) {
	if _, err := os.Stat(path); orEmpty && errors.Is(err, os.ErrNotExist) {
		return gallery.New(em.fingerprint, gallery.EmbeddingWidth(em.Model)), nil
	}
	return gallery.Load(path, em.fingerprint)
}

// faceFinder turns a photo into the picture the network sees, remembering where the face was:
// the most confident face found by the Haar cascade, aligned by the eyes (as training does by
// default), or with aligned set the photo's centre square.
type faceFinder struct {
	aligner *align.Aligner // nil: centre square
	size    int
}

// foundFace is one photo and the face taken from it.
type foundFace struct {
	path  string
	photo image.Image
	// box is the face in the photo; empty for the centre square.
	box image.Rectangle
	// picture is the face at the network's input size.
	picture *image.RGBA
	// faces is how many faces the detector found; wholePhoto is set when it found none and
	// the whole photo was taken as a face crop.
	faces      int
	wholePhoto bool
}

func newFaceFinder(aligned bool, size int) *faceFinder {
	f := &faceFinder{size: size}
	if !aligned {
		f.aligner = align.New(haar.FrontalFace(), haar.Eye())
	}
	return f
}

func (f *faceFinder) find(path string) (*foundFace, error) {
	photo, err := vision.Load(path)
	if err != nil {
		return nil, err
	}
	if f.aligner == nil {
		return &foundFace{path: path, photo: photo, picture: vision.SquareResize(photo, f.size)}, nil
	}
	faces, err := f.aligner.Align(photo)
	if err != nil {
		return nil, &vision.FileError{Path: path, Err: err}
	}
	ff := &foundFace{path: path, photo: photo, picture: vision.SquareResize(faces[0].Aligned, f.size), wholePhoto: faces[0].WholeImage}
	if !ff.wholePhoto {
		ff.box, ff.faces = faces[0].Box, len(faces)
	}
	return ff, nil
}
