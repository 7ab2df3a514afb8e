// Package align turns photos into the network's input: for every face a Haar cascade finds, it
// locates both eyes (with a small learned network, vision/eyeloc, or with a second cascade) and
// warps the face with a similarity transform (rotation, scale, shift) that puts the eye centres
// at fixed positions of a 128x128 image.
// The geometry matches the ArcFace-style 112x112 crops scaled to 128, so photos that arrive
// already aligned and photos aligned here look alike to the network.
package align

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"image"
	"math"
	"slices"
	"sort"

	"github.com/vgglab/vgg/vision"
	"github.com/vgglab/vgg/vision/eyeloc"
	"github.com/vgglab/vgg/vision/facecheck"
	"github.com/vgglab/vgg/vision/haar"
)

// Size is the side of an aligned face.
const Size = 128

// EyeTargets are where the eye centres land in the aligned 128x128 face: the ArcFace template
// eyes (38.29, 51.70) and (73.53, 51.50) of a 112x112 crop, scaled to 128. The first is the
// eye on the image's left (the subject's right eye). Like all Points they are continuous
// coordinates, so the template's pixel indices gain half a pixel before scaling: a 112x112
// ArcFace crop simply resized to 128x128 has its eyes exactly here.
var EyeTargets = [2]Point{{(38.29 + 0.5) * 128 / 112, (51.70 + 0.5) * 128 / 112}, {(73.53 + 0.5) * 128 / 112, (51.50 + 0.5) * 128 / 112}}

// Version is the version of the framing this package does, together with vision/haar's
// detector: raise it with every change of either that can change a face's box, its eyes or its
// aligned pixels, so that framed photos cached under the old version are framed again.
const Version = 3

// Face is one aligned face.
type Face struct {
	Box       image.Rectangle // the face in the photo (may extend past its border after padding)
	Neighbors int             // detector confidence: merged window hits (0 for a whole-image fallback)
	Eyes      [2]Point        // eye centres in the photo, image-left first (estimated when Fallback)
	Aligned   *image.RGBA     // Size x Size
	// Fallback is set when the eyes were not found: Eyes are then the usual eye positions of
	// a face box, or, when no face was found at all, of a tightly cropped face filling the
	// photo (as the eye locator reads the whole photo, when there is one), and the alignment
	// is only as good as that guess.
	Fallback bool
	// WholeImage is set when no face was detected even after padding, so the whole photo was
	// treated as a tight face crop.
	WholeImage bool
	// Tilt is the turn, in degrees, of the search that found the face (0: upright; see
	// Aligner.Tilts). A tilted face's Box is the upright square of the detector's box size
	// about the face's centre.
	Tilt float64
	// Score is the face checker's probability that the box holds a face (0 without a checker
	// or for a whole-image fallback).
	Score float64
	// EyeSpread is the eye locator's uncertainty (eyeloc.Eyes.Spread: 0.03 to 0.06 on a clear
	// face, as a share of the distance between the eyes), or 0 when the eye cascade found them.
	EyeSpread float64
}

// Aligner finds and aligns faces. Change the exported fields before use to tune it.
type Aligner struct {
	faces, eyes *haar.Cascade
	FaceParams  haar.Params
	// Locator, when set, finds the eyes of every face: a network that always answers, from
	// the whole box, where the eye cascade (used when Locator is nil) looks for each eye on
	// its own and misses eyes of small, turned or tilted faces. New sets the built-in one.
	Locator *eyeloc.Locator
	// BoxEyes are the eye centres, as fractions of the face box, that the face cascade's boxes
	// usually have: the fallback when the eyes cannot be found.
	BoxEyes [2]Point
	// CropEyes are the eye positions, as fractions of the photo, assumed when no face is found
	// at all (a tight face crop such as the 112x112 ArcFace photos).
	CropEyes [2]Point
	// Check, when set, looks at every box the face cascade returns and drops those it does not
	// take for a face: the cascade's false boxes. New sets the built-in checker.
	Check *facecheck.Checker
	// Tilts are the turns, in degrees, at which the photo is searched again for faces that
	// lean to one side: the upright cascade finds faces leaning up to about 10 degrees, so New's
	// -20 and +20 cover about 30 degrees either way. Each turn searches a turned copy (about 1.6
	// times the pixels): New's two turns make the search about 2.3 times as long. The boxes
	// found on the turns go through Check like the others, and a face found at several turns
	// is kept once (see onceEach). Empty searches upright only.
	Tilts []float64
	// TiltsAsFallback searches the turns only when the upright search finds no face: for
	// framing one face a photo (training, indexing), where most photos hold an upright face
	// and the turned searches would multiply the time for nothing.
	TiltsAsFallback bool
	// DetectPixels bounds the picture the face cascade searches. A larger photo is searched on
	// a copy shrunk by a whole factor to fit (FaceParams' sizes are then in the copy's pixels),
	// and only each face's region is read at full size, for its eyes and its warp. The
	// detector's memory (a pyramid of images and integral tables) and time then stay those of
	// a DetectPixels photo, where a 49 MP photo took gigabytes. 0 searches every photo whole.
	DetectPixels int
}

// DefaultDetectPixels is New's DetectPixels: 2 MP, a 1600x1200 photo, where a face of 20
// pixels (the detector's smallest) is still a small part of a group photo.
const DefaultDetectPixels = 2_000_000

// New makes an aligner from a face cascade and an eye cascade (haar.FrontalFace and haar.Eye
// are the embedded defaults), with the built-in eye locator, face checker and turns; set
// Locator to nil to find the eyes with the cascade.
func New(faces, eyes *haar.Cascade) *Aligner {
	return &Aligner{
		faces: faces, eyes: eyes,
		FaceParams: haar.DefaultParams(),
		// The embedded face cascade learnt the box (13,25)-(99,111) of ArcFace 112x112 crops.
		BoxEyes:      [2]Point{{0.300, 0.316}, {0.710, 0.314}},
		CropEyes:     [2]Point{{0.346, 0.466}, {0.661, 0.464}},
		DetectPixels: DefaultDetectPixels,
		Check:        facecheck.Default(),
		Locator:      eyeloc.Default(),
		Tilts:        []float64{-20, 20},
	}
}

// UseEyeCascade finds the eyes with the eye cascade eyes instead of the eye locator.
func (a *Aligner) UseEyeCascade(eyes *haar.Cascade) {
	a.eyes, a.Locator = eyes, nil
}

// Fingerprint names everything that shapes the aligner's output, as a SHA-256 in hex: the
// framing Version, both cascades' fingerprints, the search settings and the eye geometry. Two
// aligners with the same fingerprint frame every photo alike; it keys cached framed photos.
func (a *Aligner) Fingerprint() string {
	params := a.FaceParams
	params.Workers = 0 // how many goroutines scan changes no result
	h := sha256.New()
	fmt.Fprintf(h, "align %d; size %d; targets %v; faces %s; eyes %s; params %+v; box eyes %v; crop eyes %v; tilts %v (fallback %v)",
		Version, Size, EyeTargets, a.faces.Fingerprint(), a.eyes.Fingerprint(), params, a.BoxEyes, a.CropEyes, a.Tilts, a.TiltsAsFallback)
	if a.Check != nil {
		fmt.Fprintf(h, "; check %s at %v", a.Check.Fingerprint(), a.Check.Threshold)
	}
	if a.Locator != nil {
		fmt.Fprintf(h, "; eye locator %s", a.Locator.Fingerprint())
	}
	return hex.EncodeToString(h.Sum(nil))
}

// Align finds every face in img, most confident first, and aligns each (see Detect). When no face is
// found even after padding, the whole photo is taken as one tightly cropped face (Fallback and
// WholeImage set), so every photo yields at least one aligned face. It fails only on an image
// too small to hold a face (under 8 pixels a side).
func (a *Aligner) Align(img image.Image) ([]Face, error) {
	rgba := vision.ToRGBA(img)
	faces, err := a.detect(rgba)
	if err != nil {
		return nil, err
	}
	if len(faces) == 0 {
		whole := rgba.Rect
		if whole.Dx() < 8 || whole.Dy() < 8 {
			return nil, fmt.Errorf("image of %dx%d pixels is too small to hold a face", whole.Dx(), whole.Dy())
		}
		f := Face{Box: whole, Eyes: boxPoints(whole, a.CropEyes), Fallback: true, WholeImage: true}
		if a.Locator != nil {
			// The locator reads the photo as a face box, from a copy shrunk to a few times
			// its crop.
			k := vision.ShrinkFactor(whole.Dx(), whole.Dy(), 16*eyeloc.Side*eyeloc.Side)
			grey := haar.Grey(vision.Shrink(rgba, k))
			eyes, spread, err := a.locatedEyes(grey, grey.Rect)
			if err != nil {
				return nil, err
			}
			for i, e := range eyes {
				f.Eyes[i] = Point{float64(whole.Min.X) + e.X*float64(k), float64(whole.Min.Y) + e.Y*float64(k)}
			}
			f.EyeSpread = spread
		}
		faces = append(faces, f)
	}
	large := a.shrinkFactor(rgba) > 1
	for i := range faces {
		s := eyeSimilarity(faces[i].Eyes, EyeTargets)
		if large {
			faces[i].Aligned = warpCropped(rgba, s, Size)
		} else {
			faces[i].Aligned = warp(rgba, s, Size)
		}
	}
	return faces, nil
}

// Detect finds every face in img, most confident first, with its eyes, without warping (Aligned is
// nil). A photo with no detectable face is padded (replicated border, a quarter of its size on
// each side) and searched again, which rescues tight crops where the face touches the border.
// A face whose eyes are not found gets the usual eye positions of its box, marked Fallback.
func (a *Aligner) Detect(img image.Image) ([]Face, error) { return a.detect(vision.ToRGBA(img)) }

func (a *Aligner) detect(rgba *image.RGBA) ([]Face, error) {
	k := a.shrinkFactor(rgba)
	// A large photo is searched on a shrunk grey copy, and each face's eye region read at
	// full size.
	var full, search *image.Gray
	if k == 1 {
		full = haar.Grey(rgba)
		search = full
	} else {
		search = haar.Grey(vision.Shrink(rgba, k))
	}
	found, err := a.findFaces(search)
	if err != nil {
		return nil, err
	}
	var faces []Face
	for _, c := range found {
		var f Face
		switch {
		case c.tilt != 0:
			f, err = a.tiltedFace(rgba, full, c, k)
		case k == 1:
			f, err = a.withEyes(full, c.box, c.neighbors)
		default:
			box := image.Rect(c.box.Min.X*k, c.box.Min.Y*k, c.box.Max.X*k, c.box.Max.Y*k)
			region := a.eyeRegion(box).Intersect(rgba.Rect)
			f, err = a.withEyes(haar.Grey(rgba.SubImage(region)), box.Sub(region.Min), c.neighbors)
			f.Box = box
			f.Eyes[0], f.Eyes[1] = f.Eyes[0].add(region.Min), f.Eyes[1].add(region.Min)
		}
		if err != nil {
			return nil, err
		}
		f.Tilt, f.Score = c.tilt, c.score
		faces = append(faces, f)
	}
	return faces, nil
}

// candidate is a face found on the search picture: its box there (for a tilted face, the
// upright square of the detector's box size about its centre), the centre and side exactly,
// the turn it was found at, the detector's hits and the checker's score.
type candidate struct {
	box       image.Rectangle
	centre    Point
	side      float64
	tilt      float64
	neighbors int
	score     float64
}

// tiltedFace finds the eyes of a face found on a turned search: it turns the face's
// neighbourhood of the full-size photo upright, looks for the eyes there as for an upright
// face, and maps them back. full is the photo in grey when it was searched at full size (k is
// 1), else nil.
func (a *Aligner) tiltedFace(rgba *image.RGBA, full *image.Gray, c candidate, k int) (Face, error) {
	kf := float64(k)
	centre := Point{c.centre.X * kf, c.centre.Y * kf}
	side := c.side * kf
	box := squareAbout(centre, side)
	// The neighbourhood holds the box, and the eye locator's margin about it, at any turn
	// (their half-diagonal is 0.71 and 0.88 sides).
	region := squareAbout(centre, 1.8*side).Intersect(rgba.Rect)
	if region.Dx() < 8 || region.Dy() < 8 {
		return Face{Box: box, Neighbors: c.neighbors, Eyes: boxPoints(box, a.BoxEyes), Fallback: true}, nil
	}
	var grey *image.Gray
	if full != nil {
		grey = full.SubImage(region).(*image.Gray)
	} else {
		grey = haar.Grey(rgba.SubImage(region))
	}
	rot := haar.NewRotation(region.Dx(), region.Dy(), c.tilt)
	upright := rot.Apply(grey)
	x, y := rot.ToCanvas(centre.X-float64(region.Min.X), centre.Y-float64(region.Min.Y))
	f, err := a.withEyes(upright, squareAbout(Point{x, y}, side), c.neighbors)
	for i, e := range f.Eyes {
		ex, ey := rot.ToPicture(e.X, e.Y)
		f.Eyes[i] = Point{ex + float64(region.Min.X), ey + float64(region.Min.Y)}
	}
	f.Box = box
	return f, err
}

// inside says whether p lies in box.
func inside(p Point, box image.Rectangle) bool {
	return p.X >= float64(box.Min.X) && p.X < float64(box.Max.X) && p.Y >= float64(box.Min.Y) && p.Y < float64(box.Max.Y)
}

// squareAbout is the square of the given side about centre, in whole pixels.
func squareAbout(centre Point, side float64) image.Rectangle {
	x0 := int(math.Round(centre.X - side/2))
	y0 := int(math.Round(centre.Y - side/2))
	s := int(math.Round(side))
	return image.Rect(x0, y0, x0+s, y0+s)
}

// shrinkFactor is the whole factor by which rgba is shrunk for the face search (1: not at all).
func (a *Aligner) shrinkFactor(rgba *image.RGBA) int {
	return vision.ShrinkFactor(rgba.Rect.Dx(), rgba.Rect.Dy(), a.DetectPixels)
}

// withEyes is the face in box of grey with its eyes: the locator's, or the eye cascade's, or,
// when the cascade does not find them, the usual eye positions of its box (Fallback).
func (a *Aligner) withEyes(grey *image.Gray, box image.Rectangle, neighbors int) (Face, error) {
	f := Face{Box: box, Neighbors: neighbors}
	if a.Locator != nil {
		var err error
		f.Eyes, f.EyeSpread, err = a.locatedEyes(grey, box)
		return f, err
	}
	if eyes, ok := a.findEyes(grey, box); ok {
		f.Eyes = eyes
	} else {
		f.Eyes, f.Fallback = boxPoints(box, a.BoxEyes), true
	}
	return f, nil
}

// locatedEyes are the eye locator's eyes for box of grey, and their spread.
func (a *Aligner) locatedEyes(grey *image.Gray, box image.Rectangle) ([2]Point, float64, error) {
	found, err := a.Locator.Locate(grey, []image.Rectangle{box})
	if err != nil {
		return [2]Point{}, 0, err
	}
	var eyes [2]Point
	for i, c := range found[0].Centres {
		eyes[i] = Point{c[0], c[1]}
	}
	return eyes, found[0].Spread, nil
}

// eyeRegion is the part of a face box the eyes are looked for in: the box and the locator's
// margin about it, or, for the eye cascade, the box's upper 60%.
func (a *Aligner) eyeRegion(box image.Rectangle) image.Rectangle {
	if a.Locator != nil {
		// The crop's margin, and a little more for the interpolation at its edge.
		grow := int(math.Ceil(float64(max(box.Dx(), box.Dy())) * (eyeloc.Margin + 0.05)))
		return box.Inset(-grow)
	}
	return cascadeEyeRegion(box)
}

// cascadeEyeRegion is the part of a face box where the eye cascade looks: its upper 60%.
func cascadeEyeRegion(box image.Rectangle) image.Rectangle {
	return image.Rect(box.Min.X, box.Min.Y, box.Max.X, box.Min.Y+box.Dy()*6/10)
}

// findFaces searches grey upright and at every turn of a.Tilts (with TiltsAsFallback, the
// turns only when the upright search, padded too, finds nothing), keeps the boxes the checker
// takes for faces, and returns each face once, most confident first. When nothing is found, a
// padded copy (a replicated border a quarter of the picture's size on each side) is searched
// the same way, which rescues tight crops where the face touches the border.
func (a *Aligner) findFaces(grey *image.Gray) ([]candidate, error) {
	turns := append([]float64{0}, a.Tilts...)
	rounds := [][]float64{turns}
	if a.TiltsAsFallback && len(turns) > 1 {
		rounds = [][]float64{turns[:1], turns[1:]}
	}
	pad := max(grey.Rect.Dx(), grey.Rect.Dy()) / 4
	var padded *image.Gray
	for _, round := range rounds {
		found, err := a.searchTurns(grey, 0, round)
		if err == nil && len(found) == 0 {
			if padded == nil {
				padded = padGrey(grey, pad)
			}
			found, err = a.searchTurns(padded, pad, round)
		}
		if err != nil {
			return nil, err
		}
		if len(found) > 0 {
			rankByConfidence(found)
			return onceEach(found), nil
		}
	}
	return nil, nil
}

// searchTurns runs the face cascade on grey turned by each of turns (0: upright), and the
// checker on every box it returns. grey is the picture with a border of pad pixels: boxes are
// given without it.
func (a *Aligner) searchTurns(grey *image.Gray, pad int, turns []float64) ([]candidate, error) {
	var found []candidate
	for _, tilt := range turns {
		canvas, rot := grey, haar.NewRotation(grey.Rect.Dx(), grey.Rect.Dy(), tilt)
		if tilt != 0 {
			canvas = rot.Apply(grey)
		}
		dets, err := a.faces.Detect(canvas, a.FaceParams)
		if err != nil {
			return nil, err
		}
		scores := make([]float64, len(dets))
		if a.Check != nil && len(dets) > 0 {
			boxes := make([]image.Rectangle, len(dets))
			for i, d := range dets {
				boxes[i] = d.Box
			}
			if scores, err = a.Check.Scores(canvas, boxes); err != nil {
				return nil, err
			}
		}
		for i, d := range dets {
			if a.Check != nil && scores[i] < a.Check.Threshold {
				continue
			}
			c := candidate{box: d.Box.Sub(image.Pt(pad, pad)), tilt: tilt, neighbors: d.Neighbors, score: scores[i],
				side: float64(d.Box.Dx())}
			if tilt == 0 {
				c.centre = Point{float64(c.box.Min.X+c.box.Max.X) / 2, float64(c.box.Min.Y+c.box.Max.Y) / 2}
			} else {
				x, y := rot.ToPicture(float64(d.Box.Min.X+d.Box.Max.X)/2, float64(d.Box.Min.Y+d.Box.Max.Y)/2)
				c.centre = Point{x - float64(pad), y - float64(pad)}
				c.box = squareAbout(c.centre, c.side)
			}
			found = append(found, c)
		}
	}
	return found, nil
}

// onceEach drops every face found at one turn that overlaps a face kept from another turn
// (IoU at least 0.3, or either's centre inside the other's box: a turned search also frames a
// face it leans away from, shifted or too large): the same face seen twice. Of two such, the
// one the checker takes more surely for a face is kept, then the one ranked first (ranked is
// most confident first). Faces of one turn were already merged by the detector. The faces
// kept are returned most confident first.
func onceEach(ranked []candidate) []candidate {
	byScore := slices.Clone(ranked)
	sort.SliceStable(byScore, func(i, j int) bool { return byScore[i].score > byScore[j].score })
	var kept []candidate
	for _, c := range byScore {
		dup := false
		for _, k := range kept {
			if k.tilt != c.tilt && (haar.IoU(k.box, c.box) >= 0.3 || inside(c.centre, k.box) || inside(k.centre, c.box)) {
				dup = true
				break
			}
		}
		if !dup {
			kept = append(kept, c)
		}
	}
	rankByConfidence(kept)
	return kept
}

// rankByConfidence orders faces most confident first (the most overlapping hits): in a
// group photo a false box that spans two people can be the largest, with a fraction of a real
// face's hits. Ties go to the less tilted, then the larger box.
func rankByConfidence(faces []candidate) {
	sort.SliceStable(faces, func(i, j int) bool {
		a, b := faces[i], faces[j]
		if a.neighbors != b.neighbors {
			return a.neighbors > b.neighbors
		}
		if math.Abs(a.tilt) != math.Abs(b.tilt) {
			return math.Abs(a.tilt) < math.Abs(b.tilt)
		}
		return a.box.Dx()*a.box.Dy() > b.box.Dx()*b.box.Dy()
	})
}

// eyeSearchWidth is the width the upper face is scaled to before the eye search, so that eyes
// are found the same way in a 40-pixel face and a 400-pixel one.
const eyeSearchWidth = 160

// findEyes looks for one eye in each half of the upper 60% of the face box and returns their
// centres, image-left first. It accepts only a plausible pair: roughly level (less than 30°),
// 25% to 65% of the box width apart.
func (a *Aligner) findEyes(grey *image.Gray, box image.Rectangle) ([2]Point, bool) {
	region := cascadeEyeRegion(box).Intersect(grey.Rect)
	if region.Dx() < 8 || region.Dy() < 5 {
		return [2]Point{}, false
	}
	scale := float64(eyeSearchWidth) / float64(box.Dx())
	sw := int(math.Round(float64(region.Dx()) * scale))
	sh := int(math.Round(float64(region.Dy()) * scale))
	patch := haar.Patch(grey, region, sw, sh)
	p := haar.Params{ScaleFactor: 1.05, MinNeighbors: 1, MinSize: eyeSearchWidth / 8, MaxSize: eyeSearchWidth / 2}
	dets, err := a.eyes.Detect(patch, p)
	if err != nil || len(dets) < 2 {
		return [2]Point{}, false
	}
	// Map eye-box centres back to the photo.
	centre := func(d haar.Detection) Point {
		return Point{
			X: float64(region.Min.X) + (float64(d.Box.Min.X+d.Box.Max.X)/2)*float64(region.Dx())/float64(sw),
			Y: float64(region.Min.Y) + (float64(d.Box.Min.Y+d.Box.Max.Y)/2)*float64(region.Dy())/float64(sh),
		}
	}
	midX := float64(box.Min.X+box.Max.X) / 2
	w := float64(box.Dx())
	best, bestScore := [2]Point{}, -1
	for _, l := range dets {
		for _, r := range dets {
			pl, pr := centre(l), centre(r)
			if pl.X >= midX || pr.X < midX {
				continue
			}
			dx, dy := pr.X-pl.X, pr.Y-pl.Y
			if dx < 0.25*w || dx > 0.65*w || math.Abs(dy) > 0.58*dx { // tan 30° = 0.58
				continue
			}
			if score := min(l.Neighbors, r.Neighbors); score > bestScore {
				best, bestScore = [2]Point{pl, pr}, score
			}
		}
	}
	return best, bestScore >= 0
}

// boxPoints places fractional positions inside box.
func boxPoints(box image.Rectangle, frac [2]Point) [2]Point {
	var out [2]Point
	for i, f := range frac {
		out[i] = Point{float64(box.Min.X) + f.X*float64(box.Dx()), float64(box.Min.Y) + f.Y*float64(box.Dy())}
	}
	return out
}

// padGrey copies g into the middle of a bigger image whose border replicates g's edge pixels.
func padGrey(g *image.Gray, pad int) *image.Gray {
	w, h := g.Rect.Dx(), g.Rect.Dy()
	out := image.NewGray(image.Rect(0, 0, w+2*pad, h+2*pad))
	for y := 0; y < h+2*pad; y++ {
		sy := min(max(y-pad, 0), h-1)
		for x := 0; x < w+2*pad; x++ {
			sx := min(max(x-pad, 0), w-1)
			out.Pix[y*out.Stride+x] = g.Pix[sy*g.Stride+sx]
		}
	}
	return out
}
