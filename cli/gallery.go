package cli

import (
	"fmt"

	"github.com/urfave/cli/v2"

	"github.com/vgglab/vgg/gallery"
	"github.com/vgglab/vgg/safefile"
)

func init() {
	addCommand(&cli.Command{
		Name:  "gallery",
		Usage: "list the identities in a model's gallery, or remove one",
		Description: "gallery lists the identities of the gallery beside the model ('vgg index' and " +
			"'vgg enrol' fill it) with their photo counts. 'vgg gallery remove NAME' takes an identity out.",
		Flags:  galleryCommandFlags(),
		Action: runGalleryList,
		Subcommands: []*cli.Command{{
			Name:      "remove",
			Usage:     "remove an identity and all its photos from the gallery",
			ArgsUsage: "NAME",
			Flags:     galleryCommandFlags(),
			Action:    runGalleryRemove,
		}},
	})
}

// galleryCommandFlags are the flags of 'vgg gallery' and of 'vgg gallery remove': either
// names the gallery.
func galleryCommandFlags() []cli.Flag {
	return []cli.Flag{
		&cli.StringFlag{Name: "model", Usage: "the model whose gallery it is"},
		galleryFlag(),
	}
}

// Listing and removing use no embedding, so they read the gallery without loading the model
// to check its fingerprint: a gallery from another model still lists, and match and enrol
// refuse it.

func runGalleryList(c *cli.Context) error {
	path, err := galleryPath(c)
	if err != nil {
		return fmt.Errorf("gallery: %w", err)
	}
	g, err := gallery.Load(path, "")
	if err != nil {
		return fmt.Errorf("gallery: %w", err)
	}
	width := len("identity")
	for _, ic := range g.Identities() {
		width = max(width, len([]rune(safefile.Printable(ic.Identity))))
	}
	fmt.Fprintf(c.App.Writer, "%s%*s  photos\n", "identity", width-len("identity"), "")
	for _, ic := range g.Identities() {
		name := safefile.Printable(ic.Identity)
		fmt.Fprintf(c.App.Writer, "%s%*s  %6d\n", name, width-len([]rune(name)), "", ic.Photos)
	}
	_, err = fmt.Fprintf(c.App.Writer, "%d photos of %d identities in %s (model weights sha256 %.12s…)\n",
		g.Len(), len(g.Identities()), path, g.ModelSHA256)
	return err
}

func runGalleryRemove(c *cli.Context) error {
	if c.NArg() != 1 {
		return fmt.Errorf("gallery remove: give one identity name: vgg gallery --model MODEL remove NAME")
	}
	path, err := galleryPath(c)
	if err != nil {
		return fmt.Errorf("gallery remove: %w", err)
	}
	// Under the gallery's lock, so that an enrolment running at the same time is not lost.
	var removed string
	var n int
	g, err := gallery.Update(path, "", nil, func(g *gallery.Gallery) error {
		names := g.Names()
		i, err := gallery.Lookup(names, c.Args().First())
		if err != nil {
			return err
		}
		removed, n = names[i], g.Remove(names[i])
		return nil
	})
	if err != nil {
		return fmt.Errorf("gallery remove: %w", err)
	}
	_, err = fmt.Fprintf(c.App.Writer, "removed %q (%d photos); %s holds %d photos of %d identities\n",
		removed, n, safefile.Printable(path), g.Len(), len(g.Identities()))
	return err
}
