package cli

import (
	"encoding/json"
	"fmt"
	"slices"

	"github.com/urfave/cli/v2"

	"github.com/vgglab/vgg/dataset"
	"github.com/vgglab/vgg/gallery"
	"github.com/vgglab/vgg/lookalike"
	"github.com/vgglab/vgg/safefile"
	"github.com/vgglab/vgg/train"
	"github.com/vgglab/vgg/vision"
)

func init() {
	addCommand(&cli.Command{
		Name:      "evaluate",
		Usage:     "measure how well a model's embeddings recognise people it never trained on",
		ArgsUsage: " ",
		Description: "evaluate enrols every person of DIR/<identity>/<photo> from --shots photos each, as " +
			"'vgg enrol' would, and identifies each of their other photos by its embedding against the " +
			"enrolled photos alone, as 'vgg match --by embedding' does. It prints top-1 and top-5 " +
			"(with chance for comparison) and how similar a photo is to its own person's enrolled " +
			"photos against the others'. Use people the model was not trained on: that is the score " +
			"of enrolment and of 'most similar photo'. The embeddings are centred and whitened as the model's own gallery " +
			"(built by 'vgg train' or 'vgg index') does it, never fitted on the people scored; the gallery is not changed.",
		Flags: append([]cli.Flag{
			modelFlag(),
			&cli.StringFlag{Name: "data", Required: true, Usage: "the folder of people to enrol, DIR/<identity>/<photo>"},
			&cli.IntFlag{Name: "shots", Value: 5, Usage: "photos enrolled per person; the rest are queries"},
			&cli.Uint64Flag{Name: "seed", Value: 1, Usage: "picks which photos are enrolled"},
			&cli.BoolFlag{Name: "json", Usage: "print JSON instead of a sentence"},
			alignedFlag(),
			deviceFlag(),
		}, cacheFlags()...),
		Action: func(c *cli.Context) error {
			if err := checkAtLeast(c, map[string]int{"shots": 1}); err != nil {
				return fmt.Errorf("evaluate: %w", err)
			}
			ctx, stop := interruptible(c.Context)
			defer stop()
			data := c.String("data")
			set, err := dataset.Scan(data, vision.Decoder{})
			if err != nil {
				return fmt.Errorf("evaluate: %w", err)
			}
			em, err := lookalike.Open(c.String("device"), c.String("model"), photosAligned(c))
			if err != nil {
				return fmt.Errorf("evaluate: %w", err)
			}
			defer em.Close()
			var trained []string
			for _, name := range set.Classes {
				if slices.Contains(em.Info.ClassNames, name) {
					trained = append(trained, name)
				}
			}
			bar := train.NewPhotoBar(c.App.ErrWriter, len(set.Samples), "embedding")
			g, err := em.GalleryOf(ctx, set, lookalike.CollectionOptions{
				Cache:     frameCache(c, safefile.Input{Path: data, Flag: "--data"}),
				OwnCentre: true,
				Progress:  func(done int) { bar.Set(done) },
			})
			bar.Finish()
			if err != nil {
				return fmt.Errorf("evaluate: %w", err)
			}
			printFramingSummary(c.App.ErrWriter, "evaluate", g.Framing)
			for _, err := range g.Skipped {
				fmt.Fprintf(c.App.ErrWriter, "vgg: evaluate: skipped: %s\n", safefile.Printable(err.Error()))
			}
			score, err := gallery.EvaluateEnrolment(g.Gallery, c.Int("shots"), c.Uint64("seed"))
			if err != nil {
				return fmt.Errorf("evaluate: %s: %w", data, err)
			}
			if c.Bool("json") {
				out := struct {
					gallery.EnrolmentScore
					Data     string   `json:"data"`
					Trained  []string `json:"trained_on,omitempty"`
					Whitened bool     `json:"whitened"`
				}{score, data, trained, g.Whitening != nil}
				enc := json.NewEncoder(c.App.Writer)
				enc.SetIndent("", "  ")
				return enc.Encode(out)
			}
			fmt.Fprintf(c.App.Writer, "%d people enrolled from %d photos each, %d other photos identified by embedding:\n",
				score.Identities, score.Shots, score.Queries)
			fmt.Fprintf(c.App.Writer, "  top-1 %.1f%% (chance %.1f%%), top-5 %.1f%%\n", 100*score.Top1, 100*score.Chance, 100*score.Top5)
			fmt.Fprintf(c.App.Writer, "  similarity to their own enrolled photos %.3f, to other people's %.3f\n",
				score.SameSimilarity, score.OtherSimilarity)
			if len(trained) > 0 {
				fmt.Fprintf(c.App.Writer, "note: the model was trained on %d of these people (%s first), so this is not a score for unseen people\n",
					len(trained), trained[0])
			}
			if g.Whitening == nil && g.Dim <= gallery.MaxWhitenedWidth {
				fmt.Fprintf(c.App.Writer, "note: these embeddings were not whitened: the model's gallery (%s) is missing or from before whitening; "+
					"'vgg index' of the model's training photos rebuilds it, and enrolment then scores higher\n", gallery.PathFor(c.String("model")))
			}
			return nil
		},
	})
}
