package cli

import (
	"fmt"
	"path/filepath"

	"github.com/urfave/cli/v2"

	"github.com/vgglab/vgg/explain"
	"github.com/vgglab/vgg/report"
	"github.com/vgglab/vgg/safefile"
	"github.com/vgglab/vgg/tensor"
	"github.com/vgglab/vgg/train"
	"github.com/vgglab/vgg/vision"
)

func init() {
	addCommand(&cli.Command{
		Name:  "viz",
		Usage: "draw what the network learned: its first filters, or the feature maps of a photo",
		Description: "viz writes pictures for learning how the network sees: 'vgg viz filters' draws " +
			"the 64 filters of the first convolution (colour blobs and edges in a trained network, " +
			"noise in an untrained one); 'vgg viz activations PHOTO' draws, for one face, the feature " +
			"maps at the end of each of the five convolution blocks, from 64 maps of 128x128 that still " +
			"look like the photo to 512 maps of 8x8 that no longer do but tell people apart.",
		Subcommands: []*cli.Command{
			{
				Name:  "filters",
				Usage: "draw the first convolution's filters as a grid",
				Flags: []cli.Flag{
					modelFlag(),
					&cli.StringFlag{Name: "out", Value: "filters.png", Usage: "the PNG file to write"},
					&cli.IntFlag{Name: "cell", Value: 24, Usage: "pixels per filter"},
					deviceFlag(),
					forceFlag(),
				},
				Action: runVizFilters,
			},
			{
				Name:      "activations",
				Usage:     "draw each block's feature maps for one photo",
				ArgsUsage: "PHOTO",
				Flags: []cli.Flag{
					modelFlag(),
					&cli.StringFlag{Name: "out", Value: "activations", Usage: "the folder for face.png and block1.png ... block5.png"},
					&cli.IntFlag{Name: "cell", Value: 32, Usage: "smallest size of a feature map in pixels (small maps are enlarged)"},
					alignedFlag(),
					deviceFlag(),
					forceFlag(),
				},
				Action: runVizActivations,
			},
		},
	})
}

func runVizFilters(c *cli.Context) error {
	out := c.String("out")
	if err := safefile.CheckOutput(out, pngKind, c.Bool("force"), safefile.Input{Path: c.String("model"), Flag: "--model"}); err != nil {
		return fmt.Errorf("viz filters: --out: %w", err)
	}
	if err := report.PrepareDir(filepath.Dir(out)); err != nil {
		return fmt.Errorf("viz filters: %w", err)
	}
	p, err := train.OpenPredictor(c.String("device"), c.String("model"), nil)
	if err != nil {
		return fmt.Errorf("viz filters: %w", err)
	}
	defer p.Close()
	grid, err := explain.FilterGrid(p.Model, c.Int("cell"))
	if err != nil {
		return fmt.Errorf("viz filters: %w", err)
	}
	if err := vision.WritePNG(out, grid); err != nil {
		return fmt.Errorf("viz filters: %w", err)
	}
	_, err = fmt.Fprintf(c.App.Writer, "wrote %d first-layer filters to %s\n", p.Model.Params()[0].Shape[0], out)
	return err
}

func runVizActivations(c *cli.Context) error {
	if c.NArg() != 1 {
		return fmt.Errorf("viz activations: give one photo: vgg viz activations --model MODEL PHOTO")
	}
	dir := c.String("out")
	if err := checkActivationOutputs(dir, c.Bool("force"), c.String("model"), c.Args().First()); err != nil {
		return fmt.Errorf("viz activations: --out: %w", err)
	}
	if err := report.PrepareDir(dir); err != nil {
		return fmt.Errorf("viz activations: %w", err)
	}
	p, err := train.OpenPredictor(c.String("device"), c.String("model"), nil)
	if err != nil {
		return fmt.Errorf("viz activations: %w", err)
	}
	defer p.Close()
	size := p.Model.Config.InputSize
	face, err := newFaceFinder(photosAligned(c), size).find(c.Args().First())
	if err != nil {
		return fmt.Errorf("viz activations: %w", err)
	}
	if face.wholePhoto {
		fmt.Fprintf(c.App.ErrWriter, "vgg: viz activations: %s: no face found, using the whole photo as a face crop\n", c.Args().First())
	}
	x := tensor.Zeros(p.Model.InputShape(1)...)
	vision.ToCHW(face.picture, vision.Normalization{Mean: p.Info.Mean, Std: p.Info.Std}, x.Float32s())
	blocks, err := explain.Activations(p.Model, x)
	if err != nil {
		return fmt.Errorf("viz activations: %w", err)
	}
	if err := vision.WritePNG(filepath.Join(dir, "face.png"), face.picture); err != nil {
		return fmt.Errorf("viz activations: %w", err)
	}
	for _, b := range blocks {
		path := filepath.Join(dir, fmt.Sprintf("block%d.png", b.Block))
		if err := vision.WritePNG(path, b.Grid(c.Int("cell"))); err != nil {
			return fmt.Errorf("viz activations: %w", err)
		}
		if _, err := fmt.Fprintf(c.App.Writer, "block %d (%s): %d maps of %dx%d -> %s\n", b.Block, b.Layer, b.C, b.H, b.W, path); err != nil {
			return err
		}
	}
	return nil
}

// checkActivationOutputs applies the output rule to the PNGs 'vgg viz activations' writes.
func checkActivationOutputs(dir string, force bool, model, photo string) error {
	inputs := []safefile.Input{{Path: model, Flag: "--model"}, {Path: photo, Flag: "the photo"}}
	files := []string{"face.png"}
	for block := 1; block <= 5; block++ {
		files = append(files, fmt.Sprintf("block%d.png", block))
	}
	for _, f := range files {
		if err := safefile.CheckOutput(filepath.Join(dir, f), pngKind, force, inputs...); err != nil {
			return err
		}
	}
	return nil
}
