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
// are the embedded defaults).
func New(faces, eyes *haar.Cascade) *Aligner {
	return &Aligner{
		faces: faces, eyes: eyes,
		FaceParams: haar.DefaultParams(),
		// The embedded face cascade learnt the box (13,25)-(99,111) of ArcFace 112x112 crops.
		BoxEyes:      [2]Point{{0.300, 0.316}, {0.710, 0.314}},
		CropEyes:     [2]Point{{0.346, 0.466}, {0.661, 0.464}},
		DetectPixels: DefaultDetectPixels,
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
	if k == 1 {
		grey := haar.Grey(rgba)
		dets, err := a.detectPadded(grey)
		if err != nil {
			return nil, err
		}
		var faces []Face
		for _, d := range dets {
			faces = append(faces, a.withEyes(grey, d.Box, d.Neighbors))
		}
		return faces, nil
	}
	// A large photo: search a shrunk grey copy, then read each face's eye region at full size.
	dets, err := a.detectPadded(haar.Grey(vision.Shrink(rgba, k)))
	if err != nil {
		return nil, err
	}
	var faces []Face
	for _, d := range dets {
		box := image.Rect(d.Box.Min.X*k, d.Box.Min.Y*k, d.Box.Max.X*k, d.Box.Max.Y*k)
		region := eyeRegion(box).Intersect(rgba.Rect)
		f := a.withEyes(haar.Grey(rgba.SubImage(region)), box.Sub(region.Min), d.Neighbors)
		f.Box = box
		f.Eyes[0], f.Eyes[1] = f.Eyes[0].add(region.Min), f.Eyes[1].add(region.Min)
		faces = append(faces, f)
	}
	return faces, nil
}

// shrinkFactor is the whole factor by which rgba is shrunk for the face search (1: not at all).
func (a *Aligner) shrinkFactor(rgba *image.RGBA) int {
	return vision.ShrinkFactor(rgba.Rect.Dx(), rgba.Rect.Dy(), a.DetectPixels)
}

// withEyes is the face in box of grey with its eyes, or with the usual eye positions of its box
// (Fallback) when they are not found.
func (a *Aligner) withEyes(grey *image.Gray, box image.Rectangle, neighbors int) Face {
	f := Face{Box: box, Neighbors: neighbors}
	if eyes, ok := a.findEyes(grey, box); ok {
		f.Eyes = eyes
	} else {
		f.Eyes, f.Fallback = boxPoints(box, a.BoxEyes), true
	}
	return f
}

// eyeRegion is the part of a face box where the eyes are looked for: its upper 60%.
func eyeRegion(box image.Rectangle) image.Rectangle {
	return image.Rect(box.Min.X, box.Min.Y, box.Max.X, box.Min.Y+box.Dy()*6/10)
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
	region := eyeRegion(box).Intersect(grey.Rect)
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
