package vision

import (
	"fmt"
	"image"
	"slices"
)

// Normalization is the per-channel standardisation applied to pixels before the network:
// a channel value v in [0, 1] becomes (v - Mean[c]) / Std[c], so every input channel has
// roughly zero mean and unit variance over the training photos, which keeps the first
// layer's activations in a range where the weight initialisation works.
type Normalization struct {
	Mean [3]float32 `json:"mean"`
	Std  [3]float32 `json:"std"`
}

// Identity leaves values in [0, 1].
var Identity = Normalization{Std: [3]float32{1, 1, 1}}

// Validate reports a normalisation that would divide by zero or by NaN.
func (n Normalization) Validate() error {
	for c := range 3 {
		if !(n.Std[c] > 0) || n.Mean[c] != n.Mean[c] {
			return fmt.Errorf("normalisation of channel %d has mean %v, std %v: std must be positive", c, n.Mean[c], n.Std[c])
		}
	}
	return nil
}

// ToCHW writes the pixels of img as normalised float32 channels, channel-major (all red,
// then all green, then all blue: the C,H,W layout of one NCHW sample) into dst, which must
// hold 3*width*height values.
func ToCHW(img *image.RGBA, norm Normalization, dst []float32) {
	b := img.Bounds()
	w, h := b.Dx(), b.Dy()
	plane := w * h
	if len(dst) != 3*plane {
		panic(fmt.Sprintf("vision: ToCHW of a %dx%d image into %d values, want %d", w, h, len(dst), 3*plane))
	}
	var scale, shift [3]float32
	for c := range 3 {
		scale[c] = 1 / (255 * norm.Std[c])
		shift[c] = -norm.Mean[c] / norm.Std[c]
	}
	for y := 0; y < h; y++ {
		row := img.Pix[img.PixOffset(b.Min.X, b.Min.Y+y):]
		for x := 0; x < w; x++ {
			for c := range 3 {
				dst[c*plane+y*w+x] = float32(row[4*x+c])*scale[c] + shift[c]
			}
		}
	}
}

// MirrorCHW turns CHW samples of side x side pictures left for right in place: every row of
// every plane reversed. It is what ToCHW gives for the mirror image of the picture.
func MirrorCHW(chw []float32, side int) {
	if side <= 0 || len(chw)%(side*side) != 0 {
		panic(fmt.Sprintf("vision: MirrorCHW of %d values in rows of %d", len(chw), side))
	}
	for row := 0; row < len(chw); row += side {
		slices.Reverse(chw[row : row+side])
	}
}

// FromCHW turns one normalised CHW sample back into a picture (values clamped to 0..255),
// for looking at what the network is actually fed.
func FromCHW(src []float32, width, height int, norm Normalization) *image.RGBA {
	plane := width * height
	if len(src) != 3*plane {
		panic(fmt.Sprintf("vision: FromCHW of %d values as %dx%d, want %d", len(src), width, height, 3*plane))
	}
	out := image.NewRGBA(image.Rect(0, 0, width, height))
	for i := 0; i < plane; i++ {
		for c := range 3 {
			v := (src[c*plane+i]*norm.Std[c] + norm.Mean[c]) * 255
			out.Pix[4*i+c] = uint8(min(max(v+0.5, 0), 255))
		}
		out.Pix[4*i+3] = 0xff
	}
	return out
}
