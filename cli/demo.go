package cli

import (
	"fmt"
	"path/filepath"

	"github.com/urfave/cli/v2"

	"github.com/vgglab/vgg/lookalike"
	"github.com/vgglab/vgg/nn"
	"github.com/vgglab/vgg/safefile"
	"github.com/vgglab/vgg/vision"
)

func init() {
	d := lookalike.DefaultDemo()
	addCommand(&cli.Command{
		Name:  "demo",
		Usage: "draw synthetic people, train a small VGG-D on them and match photos it has never seen",
		Description: "demo runs the whole job with nothing to download and no GPU, in under half a minute on two " +
			"idle CPU cores with AVX-512 (longer on busy, older or slower ones): it draws made-up people (see identities.png), trains a narrow VGG-D on " +
			"their photos, then matches held-out photos and prints the accuracy. Everything it makes " +
			"(photos, model, report, curves, match table) goes into --out.",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "out", Value: d.Dir, Usage: "folder for the photos, the model and the results"},
			&cli.IntFlag{Name: "identities", Value: d.Identities, Usage: "number of made-up people"},
			&cli.IntFlag{Name: "photos", Value: d.Photos, Usage: "photos of each person to learn from"},
			&cli.IntFlag{Name: "held-out", Value: d.HeldOut, Usage: "photos of each person to test on"},
			&cli.IntFlag{Name: "epochs", Value: d.Settings.Epochs, Usage: "passes over the training photos"},
			&cli.IntFlag{Name: "input", Value: d.Settings.InputSize, Usage: "side of the pictures, 32 or 64"},
			&cli.IntFlag{Name: "width", Value: d.Settings.WidthDivisor, Usage: "divide every layer's width by this"},
			&cli.Uint64Flag{Name: "seed", Value: d.Settings.Seed, Usage: "draws other people and another training run"},
			deviceFlag(),
			forceFlag(),
		},
		Action: func(c *cli.Context) error {
			if err := checkAtLeast(c, map[string]int{"identities": 2, "photos": 1, "held-out": 1, "epochs": 1, "input": 32, "width": 1}); err != nil {
				return fmt.Errorf("demo: %w", err)
			}
			d.Dir = c.String("out")
			// The demo empties its photo folders in --out: only a folder of its own, or a new
			// or empty one, is used: an earlier demo's folder has its contact sheet (with vgg's
			// PNG mark) or its model.
			if err := safefile.CheckOutputDir(d.Dir, "demo folder", func(dir string) bool {
				return vision.MadePNG(filepath.Join(dir, "identities.png")) || nn.IsCheckpoint(filepath.Join(dir, "model.safetensors"))
			}, c.Bool("force")); err != nil {
				return fmt.Errorf("demo: --out: %w", err)
			}
			d.Identities, d.Photos, d.HeldOut = c.Int("identities"), c.Int("photos"), c.Int("held-out")
			d.Settings.Epochs, d.Settings.InputSize, d.Settings.WidthDivisor = c.Int("epochs"), c.Int("input"), c.Int("width")
			d.Settings.Seed = c.Uint64("seed")
			d.Device = c.String("device")
			d.Log, d.Progress = c.App.Writer, c.App.ErrWriter
			ctx, stop := interruptible(c.Context)
			defer stop()
			if _, err := lookalike.Demo(ctx, d); err != nil {
				return fmt.Errorf("demo: %w", err)
			}
			return nil
		},
	})
}
