// Package align turns photos into the network's input: for every face a Haar cascade finds, it
// locates both eyes with a second cascade and warps the face with a similarity transform
// (rotation, scale, shift) that puts the eye centres at fixed positions of a 128x128 image.
// The geometry matches the ArcFace-style 112x112 crops scaled to 128, so photos that arrive
// already aligned and photos aligned here look alike to the network.
package align

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"image"
	"math"
	"sort"

	"github.com/vgglab/vgg/vision"
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
const Version = 1

// Face is one aligned face.
type Face struct {
	Box       image.Rectangle // the face in the photo (may extend past its border after padding)
	Neighbors int             // detector confidence: merged window hits (0 for a whole-image fallback)
	Eyes      [2]Point        // eye centres in the photo, image-left first (estimated when Fallback)
	Aligned   *image.RGBA     // Size x Size
	// Fallback is set when the eyes were not found: Eyes are then the usual eye positions of
	// a face box (or, when no face was found at all, of a tightly cropped face filling the
	// photo) and the alignment is only as good as that guess.
	Fallback bool
	// WholeImage is set when no face was detected even after padding, so the whole photo was
	// treated as a tight face crop.
	WholeImage bool
}

// Aligner finds and aligns faces. Change the exported fields before use to tune it.
type Aligner struct {
	faces, eyes *haar.Cascade
	FaceParams  haar.Params
	// BoxEyes are the eye centres, as fractions of the face box, that the face cascade's boxes
	// usually have: the fallback when the eyes cannot be found.
	BoxEyes [2]Point
	// CropEyes are the eye positions, as fractions of the photo, assumed when no face is found
	// at all (a tight face crop such as the 112x112 ArcFace photos).
	CropEyes [2]Point
}

// New makes an aligner from a face cascade and an eye cascade (haar.FrontalFace and haar.Eye
// are the embedded defaults).
func New(faces, eyes *haar.Cascade) *Aligner {
	return &Aligner{
		faces: faces, eyes: eyes,
		FaceParams: haar.DefaultParams(),
		// The embedded face cascade learnt the box (13,25)-(99,111) of ArcFace 112x112 crops.
		BoxEyes:  [2]Point{{0.300, 0.316}, {0.710, 0.314}},
		CropEyes: [2]Point{{0.346, 0.466}, {0.661, 0.464}},
	}
}

// Fingerprint names everything that shapes the aligner's output, as a SHA-256 in hex: the
// framing Version, both cascades' fingerprints, the search settings and the eye geometry. Two
// aligners with the same fingerprint frame every photo alike; it keys cached framed photos.
func (a *Aligner) Fingerprint() string {
	params := a.FaceParams
	params.Workers = 0 // how many goroutines scan changes no result
	h := sha256.New()
	fmt.Fprintf(h, "align %d; size %d; targets %v; faces %s; eyes %s; params %+v; box eyes %v; crop eyes %v",
		Version, Size, EyeTargets, a.faces.Fingerprint(), a.eyes.Fingerprint(), params, a.BoxEyes, a.CropEyes)
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
		faces = append(faces, Face{Box: whole, Eyes: boxPoints(whole, a.CropEyes), Fallback: true, WholeImage: true})
	}
	for i := range faces {
		faces[i].Aligned = warp(rgba, eyeSimilarity(faces[i].Eyes, EyeTargets), Size)
	}
	return faces, nil
}

// Detect finds every face in img, most confident first, with its eyes, without warping (Aligned is
// nil). A photo with no detectable face is padded (replicated border, a quarter of its size on
// each side) and searched again, which rescues tight crops where the face touches the border.
// A face whose eyes are not found gets the usual eye positions of its box, marked Fallback.
func (a *Aligner) Detect(img image.Image) ([]Face, error) { return a.detect(vision.ToRGBA(img)) }

func (a *Aligner) detect(rgba *image.RGBA) ([]Face, error) {
	grey := haar.Grey(rgba)
	dets, err := a.detectPadded(grey)
	if err != nil {
		return nil, err
	}
	var faces []Face
	for _, d := range dets {
		f := Face{Box: d.Box, Neighbors: d.Neighbors}
		if eyes, ok := a.findEyes(grey, d.Box); ok {
			f.Eyes = eyes
		} else {
			f.Eyes, f.Fallback = boxPoints(d.Box, a.BoxEyes), true
		}
		faces = append(faces, f)
	}
	return faces, nil
}

// detectPadded runs the face cascade, then again on a padded copy if it found nothing, and
// returns the faces most confident first.
func (a *Aligner) detectPadded(grey *image.Gray) ([]haar.Detection, error) {
	dets, err := a.faces.Detect(grey, a.FaceParams)
	if err != nil {
		return nil, err
	}
	if len(dets) == 0 {
		pad := max(grey.Rect.Dx(), grey.Rect.Dy()) / 4
		dets, err = a.faces.Detect(padGrey(grey, pad), a.FaceParams)
		if err != nil {
			return nil, err
		}
		for i := range dets {
			dets[i].Box = dets[i].Box.Sub(image.Pt(pad, pad))
		}
	}
	rankByConfidence(dets)
	return dets, nil
}

// rankByConfidence orders detections most confident first (the most overlapping hits): in a
// group photo a false box that spans two people can be the largest, with a fraction of a real
// face's hits. Ties go to the larger box.
func rankByConfidence(dets []haar.Detection) {
	sort.SliceStable(dets, func(i, j int) bool {
		if dets[i].Neighbors != dets[j].Neighbors {
			return dets[i].Neighbors > dets[j].Neighbors
		}
		return dets[i].Box.Dx()*dets[i].Box.Dy() > dets[j].Box.Dx()*dets[j].Box.Dy()
	})
}

// eyeSearchWidth is the width the upper face is scaled to before the eye search, so that eyes
// are found the same way in a 40-pixel face and a 400-pixel one.
const eyeSearchWidth = 160

// findEyes looks for one eye in each half of the upper 60% of the face box and returns their
// centres, image-left first. It accepts only a plausible pair: roughly level (less than 30°),
// 25% to 65% of the box width apart.
func (a *Aligner) findEyes(grey *image.Gray, box image.Rectangle) ([2]Point, bool) {
	region := image.Rect(box.Min.X, box.Min.Y, box.Max.X, box.Min.Y+box.Dy()*6/10).Intersect(grey.Rect)
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
