package cli

import (
	"fmt"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/vgglab/vgg/nn"
)

func init() {
	addCommand(&cli.Command{
		Name:  "summary",
		Usage: "print the network layer by layer: output shapes, parameters, FLOPs",
		Description: "summary describes the VGG-16 configuration D network that vgg trains, " +
			"one line per layer, for a given architecture, number of classes, input size and width divisor. " +
			"It needs no data and no GPU.",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "arch", Value: nn.ArchVGGD, Usage: "architecture: " + strings.Join(nn.Archs, " or ") + " (with batch norm)"},
			&cli.IntFlag{Name: "classes", Value: 60, Usage: "number of identities the classifier tells apart"},
			&cli.IntFlag{Name: "input", Value: nn.DefaultInputSize, Usage: "side of the square input image, a multiple of 32"},
			&cli.IntFlag{Name: "width", Value: 1, Usage: "divide every layer's width by this (1, 2, 4, 8 or 16)"},
		},
		Action: func(c *cli.Context) error {
			if err := checkAtLeast(c, map[string]int{"classes": 2, "input": 32, "width": 1}); err != nil {
				return fmt.Errorf("summary: %w", err)
			}
			m, err := nn.VGGD(nn.Config{Arch: c.String("arch"), Classes: c.Int("classes"), InputSize: c.Int("input"), WidthDivisor: c.Int("width")})
			if err != nil {
				return err
			}
			return m.WriteSummary(c.App.Writer)
		},
	})
}
