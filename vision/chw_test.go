package vision

import (
	"image"
	"math"
	"testing"
)

func TestToCHW(t *testing.T) {
	img := image.NewRGBA(image.Rect(10, 20, 13, 22)) // 3x2, not at the origin
	for i := range img.Pix {
		img.Pix[i] = uint8(i * 9)
	}
	norm := Normalization{Mean: [3]float32{0.5, 0.25, 0}, Std: [3]float32{0.5, 0.25, 2}}
	dst := make([]float32, 3*6)
	for i := range dst {
		dst[i] = float32(math.NaN())
	}
	ToCHW(img, norm, dst)
	for c := 0; c < 3; c++ {
		for p := 0; p < 6; p++ {
			raw := float64(img.Pix[4*p+c]) / 255
			want := (raw - float64(norm.Mean[c])) / float64(norm.Std[c])
			if got := dst[c*6+p]; math.Abs(float64(got)-want) > 1e-6 {
				t.Errorf("channel %d pixel %d = %v, want %v", c, p, got, want)
			}
		}
	}
	back := FromCHW(dst, 3, 2, norm)
	for p := 0; p < 6; p++ {
		for c := 0; c < 3; c++ {
			if back.Pix[4*p+c] != img.Pix[4*p+c] {
				t.Errorf("round trip pixel %d channel %d = %d, want %d", p, c, back.Pix[4*p+c], img.Pix[4*p+c])
			}
		}
		if back.Pix[4*p+3] != 255 {
			t.Errorf("round trip pixel %d is not opaque", p)
		}
	}
}

func TestNormalizationValidate(t *testing.T) {
	if err := Identity.Validate(); err != nil {
		t.Error(err)
	}
	nan := float32(math.NaN())
	for _, bad := range []Normalization{{}, {Std: [3]float32{1, 0, 1}}, {Std: [3]float32{1, 1, nan}}, {Mean: [3]float32{nan, 0, 0}, Std: [3]float32{1, 1, 1}}} {
		if bad.Validate() == nil {
			t.Errorf("%+v passed validation", bad)
		}
	}
}

// MirrorCHW of a batch of two 5x5 samples is ToCHW of each picture's mirror image.
func TestMirrorCHW(t *testing.T) {
	const side = 5
	norm := Normalization{Mean: [3]float32{0.5, 0.25, 0}, Std: [3]float32{0.5, 0.25, 2}}
	plane := 3 * side * side
	got, want := make([]float32, 2*plane), make([]float32, 2*plane)
	for k := range 2 {
		img := image.NewRGBA(image.Rect(0, 0, side, side))
		mirror := image.NewRGBA(img.Rect)
		for y := range side {
			for x := range side {
				for c := range 4 {
					v := uint8(7*k + 31*y + 11*x + 50*c)
					img.Pix[img.PixOffset(x, y)+c] = v
					mirror.Pix[mirror.PixOffset(side-1-x, y)+c] = v
				}
			}
		}
		ToCHW(img, norm, got[k*plane:(k+1)*plane])
		ToCHW(mirror, norm, want[k*plane:(k+1)*plane])
	}
	MirrorCHW(got, side)
	for i := range got {
		if got[i] != want[i] {
			t.Fatalf("value %d = %v, want %v (the mirror image's)", i, got[i], want[i])
		}
	}
}
