package cli

import (
	"context"
	"fmt"
	"io"
	"path/filepath"

	"github.com/urfave/cli/v2"

	"github.com/vgglab/vgg/dataset"
	"github.com/vgglab/vgg/dataset/framecache"
	"github.com/vgglab/vgg/gallery"
	"github.com/vgglab/vgg/lookalike"
	"github.com/vgglab/vgg/report"
	"github.com/vgglab/vgg/safefile"
	"github.com/vgglab/vgg/train"
	"github.com/vgglab/vgg/vision"
)

func init() {
	addCommand(&cli.Command{
		Name:      "index",
		Usage:     "store the embedding of every photo of a collection in the model's gallery",
		ArgsUsage: " ",
		Description: "index runs every photo of DIR/<identity>/<photo> through the model and stores its " +
			"embedding (the convolutional features, or for older models the layer before the classifier; centred and scaled to unit length) with its " +
			"identity and path in the gallery file beside the model (model.gallery), replacing the one " +
			"there (a file there that is not a gallery is left alone unless --force; the model and the " +
			"photos never are). 'vgg match' then shows, for each identity, the gallery photo most like the face, and " +
			"'vgg match --by embedding' ranks identities by gallery similarity. Photos are framed the " +
			"same as 'vgg match' frames them: as the model's training did, unless --aligned says the " +
			"photos are face crops already (or --aligned=false that they are not).",
		Flags: append([]cli.Flag{
			modelFlag(),
			&cli.StringFlag{Name: "data", Required: true, Usage: "the folder of photos, DIR/<identity>/<photo>"},
			galleryFlag(),
			alignedFlag(),
			deviceFlag(),
			forceFlag(),
		}, cacheFlags()...),
		Action: func(c *cli.Context) error {
			out, err := galleryPath(c)
			if err != nil {
				return fmt.Errorf("index: %w", err)
			}
			ctx, stop := interruptible(c.Context)
			defer stop()
			return indexCollection(ctx, c.App.Writer, c.App.ErrWriter, indexJob{
				model: c.String("model"), gallery: out, data: c.String("data"),
				device: c.String("device"), aligned: photosAligned(c), force: c.Bool("force"), cache: frameCache(c, safefile.Input{Path: c.String("data"), Flag: "--data"})})
		},
	})
}

func modelFlag() cli.Flag {
	return &cli.StringFlag{Name: "model", Required: true, Usage: "the model file 'vgg train' wrote"}
}

func galleryFlag() cli.Flag {
	return &cli.StringFlag{Name: "gallery", Usage: "the gallery file (default: beside the model, MODEL.gallery)"}
}

// galleryPath is --gallery, else the gallery beside --model, taken from the command's flags or,
// for a subcommand, its parent's: 'vgg gallery --model M remove NAME' and
// 'vgg gallery remove --model M NAME' both work.
func galleryPath(c *cli.Context) (string, error) {
	for _, ctx := range c.Lineage() {
		if p := ctx.String("gallery"); p != "" {
			return p, nil
		}
		if m := ctx.String("model"); m != "" {
			return gallery.PathFor(m), nil
		}
	}
	return "", fmt.Errorf("--model (or --gallery) is required")
}

// photosAligned says whether the photos are face crops already, as 'vgg match' decides it: as
// --aligned says when it is given, else as the model's training run framed its photos (its
// report beside the model says how), else not (find and align the face). The gallery and the
// faces matched against it must be framed alike.
func photosAligned(c *cli.Context) bool {
	if c.IsSet("aligned") {
		return c.Bool("aligned")
	}
	return lookalike.TrainedOnCrops(c.String("model"))
}

// indexJob says which model's gallery to build from which photos; force lets it replace a
// file at the gallery's path that is not a gallery.
type indexJob struct {
	model, gallery, data, device string
	aligned, force               bool
	// cache keeps the framed photos (nil: none).
	cache *framecache.Cache
}

// indexCollection builds the gallery of a model from the photos of a collection and saves it
// atomically, replacing the gallery there. It is 'vgg index', and what 'vgg train' runs at the
// end so that a trained model comes with its gallery. Progress and skipped photos go to errOut,
// the summary to out.
func indexCollection(ctx context.Context, out, errOut io.Writer, job indexJob) error {
	if err := safefile.CheckOutput(job.gallery, galleryKind, job.force,
		safefile.Input{Path: job.data, Flag: "--data"}, safefile.Input{Path: job.model, Flag: "--model"}); err != nil {
		return fmt.Errorf("index: %w", err)
	}
	set, err := dataset.Scan(job.data, vision.Decoder{})
	if err != nil {
		return fmt.Errorf("index: %w", err)
	}
	if err := report.PrepareDir(filepath.Dir(job.gallery)); err != nil {
		return fmt.Errorf("index: gallery %s: %w", job.gallery, err)
	}
	em, err := lookalike.Open(job.device, job.model, job.aligned)
	if err != nil {
		return fmt.Errorf("index: %w", err)
	}
	defer em.Close()

	bar := train.NewPhotoBar(errOut, len(set.Samples), "indexing")
	g, err := em.GalleryOf(ctx, set, lookalike.CollectionOptions{Cache: job.cache, Progress: func(done int) { bar.Set(done) }})
	bar.Finish()
	if err != nil {
		return fmt.Errorf("index: %w", err)
	}
	printFramingSummary(errOut, "index", g.Framing)
	for _, err := range g.Skipped {
		fmt.Fprintf(errOut, "vgg: index: skipped: %s\n", safefile.Printable(err.Error()))
	}
	if g.Len() == 0 {
		return fmt.Errorf("index: no usable photo in %s", job.data)
	}
	if err := g.Save(job.gallery); err != nil {
		return fmt.Errorf("index: %w", err)
	}
	return printGallerySummary(out, job.gallery, g.Gallery, len(g.Skipped), em.FramingName)
}

func printGallerySummary(w io.Writer, path string, g *gallery.Gallery, skipped int, framingName string) error {
	whitened := ""
	if g.Whitening != nil {
		whitened = ", whitened by the spread within each identity"
	}
	_, err := fmt.Fprintf(w, "gallery %s: %d photos of %d identities, %d-wide embeddings%s (photos framed by %s; %d skipped)\n",
		path, g.Len(), len(g.Identities()), g.Dim, whitened, framingName, skipped)
	return err
}
