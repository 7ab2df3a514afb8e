package cli

import (
	"fmt"
	"path/filepath"

	"github.com/urfave/cli/v2"

	"github.com/vgglab/vgg/explain"
	"github.com/vgglab/vgg/lookalike"
	"github.com/vgglab/vgg/report"
	"github.com/vgglab/vgg/safefile"
	"github.com/vgglab/vgg/tensor"
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
					&cli.IntFlag{Name: "cell", Value: 24, Usage: "pixels per filter, 1 to 128"},
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
					&cli.IntFlag{Name: "cell", Value: 32, Usage: "smallest size of a feature map in pixels, 1 to 128 (small maps are enlarged)"},
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
	if err := explain.CheckCell(c.Int("cell")); err != nil {
		return fmt.Errorf("viz filters: --cell: %w", err)
	}
	out := c.String("out")
	if err := safefile.CheckOutput(out, pngKind, c.Bool("force"), safefile.Input{Path: c.String("model"), Flag: "--model"}); err != nil {
		return fmt.Errorf("viz filters: --out: %w", err)
	}
	if err := report.PrepareDir(filepath.Dir(out)); err != nil {
		return fmt.Errorf("viz filters: %w", err)
	}
	m, err := lookalike.Open(c.String("device"), c.String("model"), true)
	if err != nil {
		return fmt.Errorf("viz filters: %w", err)
	}
	defer m.Close()
	grid, err := explain.FilterGrid(m.Net, c.Int("cell"))
	if err != nil {
		return fmt.Errorf("viz filters: %w", err)
	}
	if err := vision.WritePNG(out, grid); err != nil {
		return fmt.Errorf("viz filters: %w", err)
	}
	_, err = fmt.Fprintf(c.App.Writer, "wrote %d first-layer filters to %s\n", m.Net.Params()[0].Shape[0], out)
	return err
}

func runVizActivations(c *cli.Context) error {
	if c.NArg() != 1 {
		return fmt.Errorf("viz activations: give one photo: vgg viz activations --model MODEL PHOTO")
	}
	if err := explain.CheckCell(c.Int("cell")); err != nil {
		return fmt.Errorf("viz activations: --cell: %w", err)
	}
	dir := c.String("out")
	if err := checkActivationOutputs(dir, c.Bool("force"), c.String("model"), c.Args().First()); err != nil {
		return fmt.Errorf("viz activations: --out: %w", err)
	}
	// The folder itself is made only once every picture is drawn (see vision.WritePNGFolder);
	// where it would go must be writable before any work.
	if err := report.PrepareDir(filepath.Dir(filepath.Clean(dir))); err != nil {
		return fmt.Errorf("viz activations: %w", err)
	}
	m, err := lookalike.Open(c.String("device"), c.String("model"), photosAligned(c))
	if err != nil {
		return fmt.Errorf("viz activations: %w", err)
	}
	defer m.Close()
	photo, err := m.Finder().Load(c.Args().First())
	if err != nil {
		return fmt.Errorf("viz activations: %w", err)
	}
	if note := photo.Remark(lookalike.BestFace); note != "" {
		fmt.Fprintf(c.App.ErrWriter, "vgg: viz activations: %s: %s\n", c.Args().First(), note)
	}
	picture := photo.Faces[0].Picture
	x := tensor.Zeros(m.Net.InputShape(1)...)
	vision.ToCHW(picture, m.Norm(), x.Float32s())
	blocks, err := explain.Activations(m.Net, x)
	if err != nil {
		return fmt.Errorf("viz activations: %w", err)
	}
	files := []vision.NamedImage{{Name: "face.png", Image: picture}}
	var lines []string
	for _, b := range blocks {
		grid, err := b.Grid(c.Int("cell"))
		if err != nil {
			return fmt.Errorf("viz activations: block %d: %w", b.Block, err)
		}
		name := fmt.Sprintf("block%d.png", b.Block)
		files = append(files, vision.NamedImage{Name: name, Image: grid})
		lines = append(lines, fmt.Sprintf("block %d (%s): %d maps of %dx%d -> %s", b.Block, b.Layer, b.C, b.H, b.W, filepath.Join(dir, name)))
	}
	if err := vision.WritePNGFolder(dir, files); err != nil {
		return fmt.Errorf("viz activations: %w", err)
	}
	for _, line := range lines {
		if _, err := fmt.Fprintln(c.App.Writer, line); err != nil {
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
