package synth

import (
	"image"
	"math"
	"math/rand/v2"

	"github.com/vgglab/vgg/kernels"
)

// The renderer works like a fragment shader: for every pixel it asks each part of the face,
// back to front, "how much of this pixel do you cover?" and blends the part's colour by that
// coverage. Coverage comes from an approximate signed distance to the part's edge, ramped
// over one pixel width, which anti-aliases every edge at any picture size without drawing
// at a higher resolution first.

// Render draws photo number photo of identity id under seed as a size x size picture.
func Render(seed uint64, id, photo, size int) *image.RGBA {
	return Draw(NewIdentity(seed, id), NewShot(seed, id, photo), size, kernels.NewStreamRand(seed, purposeNoise, id, photo))
}

// Draw paints identity in the circumstances of shot; noise supplies the sensor noise.
func Draw(identity Identity, shot Shot, size int, noise *rand.Rand) *image.RGBA {
	img := image.NewRGBA(image.Rect(0, 0, size, size))
	p := newPainter(identity, shot, size)
	sin, cos := math.Sincos(-shot.Rotate)
	lightX, lightY := math.Cos(shot.LightAngle), math.Sin(shot.LightAngle)
	for py := 0; py < size; py++ {
		for px := 0; px < size; px++ {
			// Picture coordinates in [-0.5, 0.5], then into the face's own frame: undo the
			// shift, the zoom and the head tilt. The face centre sits a little below the
			// picture centre so that the hair fits above it.
			u := (float64(px)+0.5)/float64(size) - 0.5
			v := (float64(py)+0.5)/float64(size) - 0.5
			x := (u - shot.ShiftX) / shot.Scale
			y := (v - shot.ShiftY - 0.04) / shot.Scale
			x, y = cos*x-sin*y, sin*x+cos*y
			c := p.colour(x, y, v)
			gain := shot.Brightness * (1 + 0.5*shot.LightSlope*(lightX*u+lightY*v))
			i := img.PixOffset(px, py)
			for ch := range 3 {
				value := (0.5+(c[ch]*gain-0.5)*shot.Contrast)*shot.Cast[ch] + shot.Noise*noise.NormFloat64()
				img.Pix[i+ch] = uint8(math.Round(255 * math.Max(0, math.Min(1, value))))
			}
			img.Pix[i+3] = 0xff
		}
	}
	return img
}

// painter holds the parts of one face in its own frame (units: fractions of the picture side).
type painter struct {
	id       Identity
	shot     Shot
	aa       float64 // one pixel, in face units: the width of every edge ramp
	faceH    float64 // half-height of the face ellipse
	noseTipY float64
	mouthY   float64
	clothes  rgb
	browSin  float64 // sine and cosine of the brow tilt
	browCos  float64
}

func newPainter(id Identity, shot Shot, size int) *painter {
	p := &painter{id: id, shot: shot, aa: 1 / (float64(size) * shot.Scale)}
	p.faceH = id.FaceWidth * id.FaceAspect
	p.noseTipY = id.EyeY + 0.03 + id.NoseLength
	p.mouthY = math.Max(id.MouthY, p.noseTipY+0.05)
	p.browSin, p.browCos = math.Sincos(id.BrowTilt)
	// Clothes change from photo to photo: derive their colour from the background so they
	// carry no identity.
	p.clothes = shot.BackgroundBottom.mix(rgb{0.2, 0.2, 0.25}, 0.6)
	return p
}

// cover turns a signed distance (negative inside) into a coverage in [0, 1].
func (p *painter) cover(d float64) float64 { return math.Max(0, math.Min(1, 0.5-d/p.aa)) }

// ellipseDist approximates the signed distance from (x, y) to the ellipse centred at
// (cx, cy) with radii rx, ry: the implicit function divided by its gradient's length,
// accurate near the edge, which is all the coverage ramp needs.
func ellipseDist(x, y, cx, cy, rx, ry float64) float64 {
	dx, dy := (x-cx)/rx, (y-cy)/ry
	f := dx*dx + dy*dy - 1
	gx, gy := dx/rx, dy/ry
	return f / math.Max(2*math.Sqrt(gx*gx+gy*gy), 1e-9)
}

// boxDist is the signed distance to the axis-aligned box |x-cx| < hw, |y-cy| < hh
// (exact inside and along the sides, which is where it is used).
func boxDist(x, y, cx, cy, hw, hh float64) float64 {
	return math.Max(math.Abs(x-cx)-hw, math.Abs(y-cy)-hh)
}

// colour is the unlit colour at face coordinates (x, y); v is the picture row coordinate
// for the background gradient.
func (p *painter) colour(x, y, v float64) rgb {
	id := p.id
	w, h := id.FaceWidth, p.faceH
	c := p.shot.BackgroundTop.mix(p.shot.BackgroundBottom, v+0.5)

	// Behind the head: long hair, shoulders, neck, ears.
	if id.LongHair {
		back := math.Min(ellipseDist(x, y, 0, -0.02, w*1.35, h*1.05), boxDist(x, y, 0, 0.28, w*1.3, 0.28))
		c = c.mix(id.Hair.scale(0.85), p.cover(back))
	}
	c = c.mix(p.clothes, p.cover(ellipseDist(x, y, 0, h+0.2, 0.5, 0.2)))
	c = c.mix(id.Skin.scale(0.78), p.cover(boxDist(x, y, 0, h*0.9, w*0.42, h*0.5)))
	for _, side := range []float64{-1, 1} {
		c = c.mix(id.Skin.scale(0.9), p.cover(ellipseDist(x, y, side*w*0.97, id.EyeY+0.035, w*0.14, h*0.17)))
	}

	// The face: an ellipse narrowed towards the chin by the jaw, shaded darker towards its
	// rim as a rounded surface would be.
	t := math.Max(0, math.Min(1, y/h))
	squeeze := 1 - 0.45*id.Jaw*t*t
	faceD := ellipseDist(x/squeeze, y, 0, 0, w, h)
	r2 := (x/squeeze/w)*(x/squeeze/w) + (y/h)*(y/h)
	c = c.mix(id.Skin.scale(1-0.22*r2*r2), p.cover(faceD))

	// Brows: thin arched ellipses, tilted, mirrored for the two sides.
	for _, side := range []float64{-1, 1} {
		bx, by := x-side*id.EyeSpacing, y-(id.EyeY-id.BrowGap)
		s := side * p.browSin // mirrored: the tilt turns the other way on the other side
		lx, ly := p.browCos*bx-s*by, s*bx+p.browCos*by
		rx := id.EyeSize * 1.3
		ly += 0.012 * (lx / rx) * (lx / rx) // the arch
		c = c.mix(id.Hair.scale(0.7), p.cover(ellipseDist(lx, ly, 0, 0, rx, id.BrowThick)))
	}

	// Hair on top of the head, above a hairline whose shape is the style.
	hairline := p.hairline(x)
	top := math.Max(ellipseDist(x, y, 0, -0.02, w*1.12, h*1.08), y-hairline)
	c = c.mix(id.Hair, p.cover(top))

	// Eyes: a dark lash line, the white (its height is how open the eye is), the iris
	// clipped by the white, the pupil.
	for _, side := range []float64{-1, 1} {
		ex, ey := side*id.EyeSpacing, id.EyeY
		ry := id.EyeSize * 0.5 * p.shot.EyeOpen
		c = c.mix(id.Skin.scale(0.35), p.cover(ellipseDist(x, y, ex, ey, id.EyeSize*1.08, ry*1.25+0.004)))
		white := p.cover(ellipseDist(x, y, ex, ey, id.EyeSize, ry))
		c = c.mix(rgb{0.93, 0.92, 0.9}, white)
		irisR := id.EyeSize * 0.5
		c = c.mix(id.Iris, white*p.cover(ellipseDist(x, y, ex, ey, irisR, irisR)))
		c = c.mix(rgb{0.03, 0.03, 0.03}, white*p.cover(ellipseDist(x, y, ex, ey, irisR*0.45, irisR*0.45)))
	}

	// Nose: a shadow along the bridge, a shaded tip, two nostrils.
	bridgeLen := (p.noseTipY - id.EyeY) / 2
	c = c.mix(id.Skin.scale(0.8), 0.5*p.cover(ellipseDist(x, y, id.NoseWidth*0.55, id.EyeY+bridgeLen, id.NoseWidth*0.18, bridgeLen)))
	c = c.mix(id.Skin.scale(0.85), 0.6*p.cover(ellipseDist(x, y, 0, p.noseTipY-0.01, id.NoseWidth, id.NoseWidth*0.6)))
	for _, side := range []float64{-1, 1} {
		c = c.mix(id.Skin.scale(0.45), p.cover(ellipseDist(x, y, side*id.NoseWidth*0.45, p.noseTipY, id.NoseWidth*0.28, id.NoseWidth*0.16)))
	}

	// Mouth: a band along a parabola whose bend is the smile, thinning towards the corners,
	// with a dark line between the lips.
	mw := id.MouthWidth
	curve := id.MouthCurve + p.shot.Smile
	xs := x / mw
	centre := p.mouthY - curve*xs*xs
	thick := 0.013 * (1 - 0.6*xs*xs)
	lips := math.Max(math.Abs(y-centre)-thick, math.Abs(x)-mw)
	c = c.mix(id.Lips, p.cover(lips))
	c = c.mix(id.Lips.scale(0.35), p.cover(math.Max(math.Abs(y-centre)-0.0025, math.Abs(x)-mw*0.95)))
	return c
}

// hairline is the height (y, pointing down) of the hair's lower edge across the forehead.
func (p *painter) hairline(x float64) float64 {
	id := p.id
	xw := x / id.FaceWidth
	base := -id.Hairline
	switch id.HairStyle {
	case hairSidePart:
		return base + 0.05*xw + 0.06*xw*xw
	case hairFringe:
		return base + 0.07 + 0.01*math.Sin(x*70)
	case hairReceding:
		return base - 0.05*math.Sin(math.Pi*math.Min(math.Abs(xw), 1)) + 0.08*xw*xw
	default: // hairShort
		return base + 0.08*xw*xw
	}
}

// EyeCentres are the centres of the pupils that Draw paints for identity in shot on a size x
// size picture, in continuous picture coordinates (pixel (x, y) covers [x, x+1) x [y, y+1)),
// the eye on the picture's left first: exact eye positions for training and checking an eye
// locator.
func EyeCentres(identity Identity, shot Shot, size int) [2][2]float64 {
	// Draw's map from a picture point to the face's frame, inverted: turn by the head's tilt,
	// zoom, shift, then from [-0.5, 0.5] to pixels.
	sin, cos := math.Sincos(shot.Rotate)
	var out [2][2]float64
	for i, side := range []float64{-1, 1} {
		x, y := side*identity.EyeSpacing, identity.EyeY
		u := (cos*x-sin*y)*shot.Scale + shot.ShiftX
		v := (sin*x+cos*y)*shot.Scale + shot.ShiftY + 0.04
		out[i] = [2]float64{(u + 0.5) * float64(size), (v + 0.5) * float64(size)}
	}
	return out
}
