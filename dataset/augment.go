package dataset

import (
	"fmt"
	"image"
	"math"

	"github.com/vgglab/vgg/kernels"
	"github.com/vgglab/vgg/vision"
)

// Augment says how much training pictures are randomly varied, so that the network learns
// the face rather than the exact framing of each photo. The zero value varies nothing.
type Augment struct {
	// Flip mirrors half of the pictures left to right (a mirrored face is the same person).
	Flip bool
	// MaxShift moves the picture by up to this fraction of its side along each axis.
	MaxShift float64
	// MaxScale zooms by a factor drawn from [1-MaxScale, 1+MaxScale].
	MaxScale float64
	// MaxRotate turns the picture by up to this many degrees either way.
	MaxRotate float64
	// Erase blanks a random rectangle (2% to 25% of the picture, of aspect 0.3 to 3.3) to the
	// normalised mean in this share of the pictures (Zhong et al.'s random erasing), so that
	// the network cannot lean on any one part of the face. 0: never.
	Erase float64 `json:",omitempty"`
	// Mixup is the share of training batches whose pictures are mixed in pairs (Zhang et
	// al.'s mixup, see MixBatch): each picture becomes lam*itself + (1-lam)*another picture of
	// the batch, and is learnt as lam of its identity and 1-lam of the other's. 0: never.
	Mixup float64 `json:",omitempty"`
}

// DefaultAugment is mild, as suits faces already framed by an aligner: a flip, ±6% shift,
// ±8% zoom and ±8° tilt.
var DefaultAugment = Augment{Flip: true, MaxShift: 0.06, MaxScale: 0.08, MaxRotate: 8}

// Jitter is one drawn variation: mirror, then turn by Rotate radians (positive turns
// clockwise on screen, y pointing down) and zoom by Scale about the centre, then move by
// (ShiftX, ShiftY) pixels.
type Jitter struct {
	Flip           bool
	ShiftX, ShiftY float64
	Scale          float64
	Rotate         float64
	// Erase is the rectangle blanked after the rest (empty: none), in output pixels.
	Erase image.Rectangle
}

// NoJitter leaves a picture as it is.
var NoJitter = Jitter{Scale: 1}

// Draw returns the variation of sample index in epoch under seed for size x size
// pictures. It depends on these numbers alone (not on the order samples are processed, nor
// on earlier epochs), so a run resumed at epoch e sees exactly what an unbroken run saw.
func (a Augment) Draw(seed uint64, epoch, index, size int) Jitter {
	if a == (Augment{}) {
		return NoJitter
	}
	rng := kernels.NewStreamRand(seed, purposeAugment, epoch, index)
	symmetric := func(limit float64) float64 { return limit * (2*rng.Float64() - 1) }
	// Every draw is made whatever the settings, so that changing one setting does not
	// reshuffle the others.
	flip := rng.IntN(2) == 1
	j := Jitter{
		Flip:   a.Flip && flip,
		ShiftX: symmetric(a.MaxShift) * float64(size),
		ShiftY: symmetric(a.MaxShift) * float64(size),
		Scale:  1 + symmetric(a.MaxScale),
		Rotate: symmetric(a.MaxRotate) * math.Pi / 180,
	}
	// Drawn after the others, so that the pictures of a run without erasing are as before.
	erase, area, aspect, at := rng.Float64(), rng.Float64(), rng.Float64(), [2]float64{rng.Float64(), rng.Float64()}
	if erase < a.Erase {
		const minArea, maxArea, minAspect, maxAspect = 0.02, 0.25, 0.3, 1 / 0.3
		pixels := (minArea + area*(maxArea-minArea)) * float64(size*size)
		ratio := math.Exp(math.Log(minAspect) + aspect*(math.Log(maxAspect)-math.Log(minAspect)))
		w := min(max(int(math.Round(math.Sqrt(pixels*ratio))), 1), size)
		h := min(max(int(math.Round(math.Sqrt(pixels/ratio))), 1), size)
		x, y := int(at[0]*float64(size-w+1)), int(at[1]*float64(size-h+1))
		j.Erase = image.Rect(x, y, x+w, y+h)
	}
	return j
}

// Validate reports settings outside sensible ranges.
func (a Augment) Validate() error {
	if a.MaxShift < 0 || a.MaxShift > 0.5 || a.MaxScale < 0 || a.MaxScale >= 1 || a.MaxRotate < 0 || a.MaxRotate > 180 || !(a.Erase >= 0 && a.Erase <= 1) || !(a.Mixup >= 0 && a.Mixup <= 1) {
		return fmt.Errorf("dataset: augmentation %+v out of range (shift 0..0.5, scale 0..<1, rotate 0..180 degrees, erase 0..1, mixup 0..1)", a)
	}
	return nil
}

// Apply writes img, varied by j and normalised by norm, into dst as CHW float32 (3*w*h
// values). Each output pixel is sampled bilinearly from where the inverse transform puts it
// in img; samples falling outside repeat the nearest edge pixel, which looks far more like a
// photo than a black border does.
func (j Jitter) Apply(img *image.RGBA, norm vision.Normalization, dst []float32) {
	j.resample(img, norm, dst)
	// The erased rectangle holds the normalised mean, 0: what the network sees on average.
	b := img.Bounds()
	r := j.Erase.Intersect(image.Rect(0, 0, b.Dx(), b.Dy()))
	plane := b.Dx() * b.Dy()
	for c := range 3 {
		for y := r.Min.Y; y < r.Max.Y; y++ {
			clear(dst[c*plane+y*b.Dx()+r.Min.X : c*plane+y*b.Dx()+r.Max.X])
		}
	}
}

// resample writes img, moved, zoomed, turned and mirrored by j (its Erase aside), into dst.
func (j Jitter) resample(img *image.RGBA, norm vision.Normalization, dst []float32) {
	if j.Erase = (image.Rectangle{}); j == NoJitter {
		vision.ToCHW(img, norm, dst)
		return
	}
	b := img.Bounds()
	w, h := b.Dx(), b.Dy()
	plane := w * h
	if len(dst) != 3*plane {
		panic(fmt.Sprintf("dataset: jitter of a %dx%d image into %d values, want %d", w, h, len(dst), 3*plane))
	}
	var scale, shift [3]float32
	for c := range 3 {
		scale[c] = 1 / (255 * norm.Std[c])
		shift[c] = -norm.Mean[c] / norm.Std[c]
	}
	cx, cy := float64(w)/2, float64(h)/2
	// Inverse map: undo the shift, then the zoom and turn (rotate by -Rotate, divide by
	// Scale), then the mirror.
	cos, sin := math.Cos(j.Rotate)/j.Scale, math.Sin(j.Rotate)/j.Scale
	// offset is where pixel (x, y), moved to the nearest edge when outside, starts in Pix.
	offset := func(x, y int) int {
		return img.PixOffset(b.Min.X+min(max(x, 0), w-1), b.Min.Y+min(max(y, 0), h-1))
	}
	pix, stride := img.Pix, img.Stride
	for y := 0; y < h; y++ {
		// This row of each of the three planes.
		rows := [3][]float32{dst[y*w:][:w], dst[plane+y*w:][:w], dst[2*plane+y*w:][:w]}
		for x := 0; x < w; x++ {
			// Offsets from the centre, measured between pixel centres.
			u := float64(x) + 0.5 - cx - j.ShiftX
			v := float64(y) + 0.5 - cy - j.ShiftY
			su := cos*u + sin*v
			sv := -sin*u + cos*v
			if j.Flip {
				su = -su
			}
			// Back to pixel-index coordinates of the source, where pixel i sits at i.
			sx, sy := su+cx-0.5, sv+cy-0.5
			x0, y0 := int(math.Floor(sx)), int(math.Floor(sy))
			fx, fy := float32(sx-float64(x0)), float32(sy-float64(y0))
			// The four neighbours are found once for the three channels: inside the picture
			// (most pixels) as two runs of 8 bytes, the row and the one below; at the edges
			// each clamped to the nearest pixel.
			var o00, o10, o01, o11 int
			if x0 >= 0 && x0+1 < w && y0 >= 0 && y0+1 < h {
				o00 = offset(x0, y0)
				o10, o01, o11 = o00+4, o00+stride, o00+stride+4
			} else {
				o00, o10 = offset(x0, y0), offset(x0+1, y0)
				o01, o11 = offset(x0, y0+1), offset(x0+1, y0+1)
			}
			p00, p10, p01, p11 := pix[o00:o00+3], pix[o10:o10+3], pix[o01:o01+3], pix[o11:o11+3]
			gx, gy := 1-fx, 1-fy
			for c := range 3 {
				top := float32(p00[c])*gx + float32(p10[c])*fx
				bottom := float32(p01[c])*gx + float32(p11[c])*fx
				rows[c][x] = (top*gy+bottom*fy)*scale[c] + shift[c]
			}
		}
	}
}
