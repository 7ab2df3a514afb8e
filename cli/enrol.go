package cli

import (
	"errors"
	"fmt"
	"image"
	"path/filepath"

	"github.com/urfave/cli/v2"

	"github.com/vgglab/vgg/gallery"
	"github.com/vgglab/vgg/lookalike"
	"github.com/vgglab/vgg/report"
	"github.com/vgglab/vgg/safefile"
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
			"Every photo must show a face (with --aligned, every photo is taken as a face crop); a photo " +
			"with several faces is refused unless --face N says which (numbered as 'vgg detect' lists " +
			"them, most confident first). If one photo cannot be used, nothing is added.",
		Flags: []cli.Flag{
			modelFlag(),
			&cli.StringFlag{Name: "name", Required: true, Usage: "the person's name, as it should appear in answers"},
			&cli.IntFlag{Name: "face", Usage: "in a photo with several faces, enrol face `N` (1 = the most confident, as 'vgg detect' lists them)"},
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
	faceNumber := c.Int("face")
	if c.IsSet("face") && faceNumber < 1 {
		return fmt.Errorf("enrol: --face %d: faces are numbered from 1, most confident first, as 'vgg detect' lists them", faceNumber)
	}
	em, err := lookalike.Open(c.String("device"), c.String("model"), photosAligned(c))
	if err != nil {
		return fmt.Errorf("enrol: %w", err)
	}
	defer em.Close()
	g, err := em.LoadGallery(out, true)
	if err != nil {
		return fmt.Errorf("enrol: %w", err)
	}

	var pictures []*image.RGBA
	var entries []gallery.Entry
	for _, p := range paths {
		picture, err := enrolmentFace(em.Finder(), p, faceNumber)
		if err != nil {
			problems = append(problems, err)
			continue
		}
		abs, err := filepath.Abs(p)
		if err != nil {
			return fmt.Errorf("enrol: %w", err)
		}
		pictures = append(pictures, picture)
		entries = append(entries, gallery.Entry{Identity: name, Path: abs})
	}
	if len(problems) > 0 {
		return fmt.Errorf("enrol: nothing added: %w", errors.Join(problems...))
	}
	outs, err := em.Embedder().Run(pictures)
	if err != nil {
		return fmt.Errorf("enrol: %w", err)
	}
	// The gallery is read again under its lock and saved before the lock is released, so an
	// enrolment running at the same time is kept, not overwritten. A photo the person has in
	// the gallery already (same path, or same picture) is not added twice.
	added := 0
	g, err = gallery.Update(out, em.Fingerprint, func() *gallery.Gallery {
		return gallery.New(em.Fingerprint, em.Net.EmbeddingWidth())
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

// enrolmentFace is the face of the photo at path to enrol: its only face, or with number > 0
// its face of that number. A photo without a face, or with several and no number, is refused:
// enrolling a stranger (or a false box) under the name would spoil every later answer.
func enrolmentFace(finder *lookalike.Finder, path string, number int) (*image.RGBA, error) {
	p, err := finder.Load(path)
	if err != nil {
		return nil, err
	}
	switch {
	case p.WholePhoto:
		return nil, fmt.Errorf("%s: no face found; enrol photos where the face shows, or pass --aligned for photos that are face crops already", path)
	case number > len(p.Faces):
		return nil, fmt.Errorf("%s: --face %d, but %d face(s) found (see 'vgg detect %s')", path, number, len(p.Faces), path)
	case number > 0:
		return p.Faces[number-1].Picture, nil
	case len(p.Faces) > 1:
		return nil, fmt.Errorf("%s: %d faces found; say which to enrol with --face N (1 = the most confident; 'vgg detect %s' lists them in that order)", path, len(p.Faces), path)
	}
	return p.Faces[0].Picture, nil
}
