package nn

import (
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/vgglab/vgg/tensor"
)

// LayerSummary is one row of the network's description.
type LayerSummary struct {
	Name, What string
	// Out is the output shape of one image, without the batch axis.
	Out    tensor.Shape
	Params int64
	FLOPs  int64
	// Note marks the layers whose outputs the model exposes (Features, Embedding).
	Note string
}

// Summary describes the network layer by layer for one image.
func (m *Model) Summary() []LayerSummary {
	var rows []LayerSummary
	shape := m.InputShape(1)
	for _, l := range m.Layers() {
		out, _ := l.OutShape(shape) // VGGD built the layers to fit; the error cannot happen
		var params int64
		for _, p := range l.Params() {
			params += int64(p.Shape.Numel())
		}
		var note string
		switch {
		case l == m.lastConvReLU:
			note = "<- feature maps (Grad-CAM)"
		case l == m.Flatten && m.EmbeddingLayer == EmbeddingFeatures,
			l == m.embeddingReLU && m.EmbeddingLayer != EmbeddingFeatures:
			note = "<- embedding"
		}
		rows = append(rows, LayerSummary{Name: l.Name(), What: l.Describe(), Out: out[1:], Params: params, FLOPs: l.FLOPs(shape), Note: note})
		shape = out
	}
	return rows
}

// WriteSummary prints the network as a table, the way the seed's comments annotate it
// ("64 x 128 x 128"), with each layer's parameters and forward FLOPs and the totals.
func (m *Model) WriteSummary(w io.Writer) error {
	c := m.Config
	width := "full width"
	if c.WidthDivisor > 1 {
		width = fmt.Sprintf("1/%d width", c.WidthDivisor)
	}
	table := [][]string{
		{"layer", "what", "output", "parameters", "forward FLOPs", ""},
		{"input", "RGB image", shapeText(m.InputShape(1)[1:]), "", "", ""},
	}
	for _, r := range m.Summary() {
		table = append(table, []string{r.Name, r.What, shapeText(r.Out), blankIfZero(r.Params, thousands), blankIfZero(r.FLOPs, siFLOPs), r.Note})
	}
	table = append(table, []string{"total", "", "", thousands(m.NumParams()), siFLOPs(m.FLOPs()), ""})

	// Names, descriptions and shapes read best left-aligned, numbers right-aligned.
	rightAligned := []bool{false, false, false, true, true, false}
	widths := make([]int, len(rightAligned))
	for _, row := range table {
		for i, cell := range row {
			widths[i] = max(widths[i], len([]rune(cell)))
		}
	}
	var out strings.Builder
	arch := ""
	if c.Arch == ArchVGGDBN {
		arch = " with a batch norm after every convolution (torchvision's vgg16_bn)"
	}
	fmt.Fprintf(&out, "%s: VGG-16 configuration D (Simonyan & Zisserman 2015)%s, %s, for %d classes\n\n", c.Arch, arch, width, c.Classes)
	for _, row := range table {
		var line strings.Builder
		for i, cell := range row {
			pad := strings.Repeat(" ", widths[i]-len([]rune(cell)))
			if rightAligned[i] {
				line.WriteString(pad + cell + "  ")
			} else {
				line.WriteString(cell + pad + "  ")
			}
		}
		out.WriteString(strings.TrimRight(line.String(), " ") + "\n")
	}
	fmt.Fprintf(&out, `
FLOPs count a multiply and an add as two, for the products of the convolutions and
linear layers (bias, batch norm, ReLU and pooling add well under 1%%). A training step costs about
three times the forward pass: the backward pass computes two products per layer, one
for the input gradient and one for the weight gradient.
Parameters take %.1f MB as float32; training keeps as much again for the gradients and
one (SGD) or two (Adam) more copies for the optimiser.
`, float64(m.NumParams())*4/1e6)
	_, err := io.WriteString(w, out.String())
	return err
}

// shapeText writes a per-image shape the way the seed's comments do: "64 x 128 x 128".
func shapeText(s tensor.Shape) string {
	parts := make([]string, len(s))
	for i, d := range s {
		parts[i] = strconv.Itoa(d)
	}
	return strings.Join(parts, " x ")
}

func blankIfZero(v int64, format func(int64) string) string {
	if v == 0 {
		return ""
	}
	return format(v)
}

// thousands writes 56725342 as "56,725,342".
func thousands(v int64) string {
	s := strconv.FormatInt(v, 10)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

// siFLOPs writes a FLOP count with an SI prefix: "10.106 G", "56.6 M".
func siFLOPs(v int64) string {
	f := float64(v)
	switch {
	case f >= 1e9:
		return fmt.Sprintf("%.3f G", f/1e9)
	case f >= 1e6:
		return fmt.Sprintf("%.1f M", f/1e6)
	case f >= 1e3:
		return fmt.Sprintf("%.1f k", f/1e3)
	}
	return strconv.FormatInt(v, 10)
}
