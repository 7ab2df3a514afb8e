// Package synth draws synthetic face photos of made-up people, so that `vgg demo` can train
// and match without downloading anything.
//
// Each identity is a fixed set of face parameters (face shape, skin tone, eyes, brows, nose,
// mouth, hair); each photo of it a new pose, light, expression, background and sensor noise.
// Everything is a pure function of (seed, identity, photo): the same numbers draw the same
// picture on every machine. The variation within an identity is deliberately large against
// the differences between identities, so a small network reaches high accuracy only after
// some learning, not on the first epoch.
package synth

import (
	"math"
	"math/rand/v2"

	"github.com/vgglab/vgg/kernels"
)

// rgb is a linear colour with channels in [0, 1].
type rgb [3]float64

func (c rgb) scale(k float64) rgb { return rgb{c[0] * k, c[1] * k, c[2] * k} }

// mix returns c covered by top with opacity alpha.
func (c rgb) mix(top rgb, alpha float64) rgb {
	return rgb{c[0] + (top[0]-c[0])*alpha, c[1] + (top[1]-c[1])*alpha, c[2] + (top[2]-c[2])*alpha}
}

// Hair styles.
const (
	hairShort    = iota // a cap of hair with a straight hairline
	hairSidePart        // a hairline sloping to one side
	hairFringe          // a low, wavy fringe over the forehead
	hairReceding        // a high M-shaped hairline
	hairLong            // any of the above plus hair falling to the shoulders
	hairStyles
)

// Identity is the fixed look of one person. Lengths are fractions of the picture's side,
// measured on an upright, centred face; positions are relative to the face centre with y
// pointing down.
type Identity struct {
	FaceWidth  float64 // half-width of the face ellipse
	FaceAspect float64 // half-height over half-width
	Jaw        float64 // 0 a round chin .. 1 a narrow, pointed one
	Skin       rgb

	EyeY       float64 // height of the eyes (negative: above the centre)
	EyeSpacing float64 // half the distance between the eye centres
	EyeSize    float64 // half-width of an eye
	Iris       rgb

	BrowGap   float64 // how far the brows sit above the eyes
	BrowTilt  float64 // radians; positive raises the outer ends
	BrowThick float64

	NoseLength float64
	NoseWidth  float64

	MouthY     float64
	MouthWidth float64 // half-width
	MouthCurve float64 // resting smile (positive) or frown
	Lips       rgb

	Hair      rgb
	HairStyle int
	LongHair  bool
	Hairline  float64 // height of the hairline above the face centre
}

// Shot is one photo's circumstances.
type Shot struct {
	Rotate         float64 // head tilt, radians
	ShiftX, ShiftY float64 // face centre offset, fractions of the side
	Scale          float64 // face size factor

	Brightness float64 // overall gain
	Contrast   float64 // spread about mid-grey
	LightAngle float64 // direction the light comes from, radians
	LightSlope float64 // how strongly brightness changes across the face
	Cast       rgb     // white-balance gain per channel

	Smile   float64 // added to the identity's mouth curve
	EyeOpen float64 // 1 wide open .. 0.3 squinting

	BackgroundTop, BackgroundBottom rgb
	Noise                           float64 // standard deviation of per-pixel sensor noise
}

// Purposes of the random streams, kept apart under one seed.
const (
	purposeIdentity uint32 = iota + 1
	purposeShot
	purposeNoise
)

func between(rng *rand.Rand, lo, hi float64) float64 { return lo + (hi-lo)*rng.Float64() }

// pick returns one of the colours, varied a little so no two people share one exactly.
func pick(rng *rand.Rand, palette []rgb, vary float64) rgb {
	c := palette[rng.IntN(len(palette))]
	for i := range c {
		c[i] = math.Max(0, math.Min(1, c[i]*(1+vary*(2*rng.Float64()-1))))
	}
	return c
}

var (
	skinTones = []rgb{{0.98, 0.84, 0.74}, {0.93, 0.76, 0.62}, {0.84, 0.64, 0.49}, {0.71, 0.51, 0.37}, {0.55, 0.37, 0.25}, {0.40, 0.26, 0.18}}
	irisTones = []rgb{{0.30, 0.18, 0.10}, {0.18, 0.11, 0.07}, {0.25, 0.45, 0.65}, {0.35, 0.50, 0.30}, {0.45, 0.40, 0.25}}
	hairTones = []rgb{{0.08, 0.06, 0.05}, {0.25, 0.15, 0.08}, {0.45, 0.30, 0.15}, {0.80, 0.65, 0.35}, {0.60, 0.22, 0.08}, {0.55, 0.55, 0.55}, {0.90, 0.88, 0.85}}
	lipTones  = []rgb{{0.75, 0.35, 0.35}, {0.62, 0.30, 0.30}, {0.80, 0.45, 0.45}, {0.50, 0.25, 0.22}}
)

// NewIdentity draws the look of identity number id under seed.
func NewIdentity(seed uint64, id int) Identity {
	rng := kernels.NewStreamRand(seed, purposeIdentity, id, 0)
	style := rng.IntN(hairStyles)
	return Identity{
		FaceWidth:  between(rng, 0.22, 0.30),
		FaceAspect: between(rng, 1.15, 1.50),
		Jaw:        between(rng, 0, 1),
		Skin:       pick(rng, skinTones, 0.06),
		EyeY:       between(rng, -0.10, -0.04),
		EyeSpacing: between(rng, 0.085, 0.125),
		EyeSize:    between(rng, 0.038, 0.058),
		Iris:       pick(rng, irisTones, 0.15),
		BrowGap:    between(rng, 0.040, 0.070),
		BrowTilt:   between(rng, -0.30, 0.30),
		BrowThick:  between(rng, 0.008, 0.020),
		NoseLength: between(rng, 0.08, 0.14),
		NoseWidth:  between(rng, 0.025, 0.045),
		MouthY:     between(rng, 0.13, 0.20),
		MouthWidth: between(rng, 0.055, 0.095),
		MouthCurve: between(rng, -0.010, 0.025),
		Lips:       pick(rng, lipTones, 0.10),
		Hair:       pick(rng, hairTones, 0.10),
		HairStyle:  min(style, hairLong-1),
		LongHair:   style == hairLong || rng.IntN(4) == 0,
		Hairline:   between(rng, 0.13, 0.22),
	}
}

// NewShot draws the circumstances of photo number photo of identity id under seed.
func NewShot(seed uint64, id, photo int) Shot {
	rng := kernels.NewStreamRand(seed, purposeShot, id, photo)
	background := func() rgb { return rgb{rng.Float64(), rng.Float64(), rng.Float64()}.scale(between(rng, 0.3, 1)) }
	return Shot{
		Rotate:           between(rng, -0.22, 0.22),
		ShiftX:           between(rng, -0.06, 0.06),
		ShiftY:           between(rng, -0.05, 0.05),
		Scale:            between(rng, 0.85, 1.12),
		Brightness:       between(rng, 0.70, 1.20),
		Contrast:         between(rng, 0.75, 1.20),
		LightAngle:       between(rng, 0, 2*math.Pi),
		LightSlope:       between(rng, 0, 1.4),
		Cast:             rgb{between(rng, 0.88, 1.12), between(rng, 0.92, 1.08), between(rng, 0.88, 1.12)},
		Smile:            between(rng, -0.015, 0.03),
		EyeOpen:          between(rng, 0.35, 1),
		BackgroundTop:    background(),
		BackgroundBottom: background(),
		Noise:            between(rng, 0.005, 0.045),
	}
}
