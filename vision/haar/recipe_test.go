package haar

import (
	"image"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"
)

// This file is the recipe for the cascades embedded under data/: it trains them from the
// shared face data when asked (VGG_TRAIN_CASCADES=face, eye or both, with VGG_FACES set) and
// writes data/frontalface.xml and data/eye.xml. A face cascade takes a few minutes on 2 cores.
//
// Faces come from celebs60's 112x112 ArcFace-aligned photos, whose eyes sit near (38,52) and
// (74,52): the face box (13,25)-(99,111) has the eyes about a third of the way down, like the
// dlib_train boxes, and each face is also used mirrored. Negatives are cbcl24's non-face
// patches plus windows mined from celebs60's LFW photos (250x250, face centred): turned by
// 90, 180 and 270 degrees (so they hold no upright face) and upright near the central face but
// not on it (parts of faces, hair, collars: the hard cases). The eye cascade takes its eyes from
// the same aligned photos and its negatives from the rest of those faces.

// arcFaceEyes are the eye centres of a 112x112 ArcFace-aligned photo (the subject's right eye
// first, on the image's left).
var arcFaceEyes = [2][2]float64{{38.29, 51.70}, {73.53, 51.50}}

// arcFaceBox is the face box used for positives in a 112x112 aligned photo.
var arcFaceBox = image.Rect(13, 25, 99, 111)

func TestTrainEmbeddedCascades(t *testing.T) {
	which := os.Getenv("VGG_TRAIN_CASCADES")
	if which == "" {
		t.Skip("set VGG_TRAIN_CASCADES=face|eye|both (and VGG_FACES) to retrain the embedded cascades")
	}
	dir := facesDir(t)
	aligned, lfw := loadCelebs(t, filepath.Join(dir, "celebs60"))
	t.Logf("%d aligned photos, %d LFW photos", len(aligned), len(lfw))
	rng := rand.New(rand.NewPCG(7, 7))
	progress := func(format string, args ...any) { t.Logf(time.Now().Format("15:04:05 ")+format, args...) }
	if which == "face" || which == "both" {
		// Every face is jittered (shift, scale, roll) so the cascade accepts the nearby
		// windows a sliding search meets, not only the exact ArcFace framing.
		var faces []*image.Gray
		for _, g := range aligned {
			faces = append(faces, jittered(g, arcFaceBox, 24, rng), jittered(Mirror(g), arcFaceBox, 24, rng))
		}
		var negPatches []*image.Gray
		for _, path := range globOrFail(t, filepath.Join(dir, "cbcl24", "nonface", "*.png")) {
			negPatches = append(negPatches, Grey(decodeFile(t, path)))
		}
		var bgs []Background
		lfwFace := []image.Rectangle{image.Rect(68, 67, 183, 182), image.Rect(80, 84, 172, 176)}
		for _, g := range lfw {
			bgs = append(bgs, Background{Img: g, Avoid: lfwFace, Within: image.Rect(40, 40, 210, 210)})
			for r := 1; r <= 3; r++ {
				bgs = append(bgs, Background{Img: rotate90(g, r)})
			}
		}
		for _, g := range aligned[:len(aligned)/2] {
			bgs = append(bgs, Background{Img: g, Avoid: []image.Rectangle{arcFaceBox}})
		}
		// Busy textures (foliage, printed shirts) are where a cascade trained on portrait
		// backgrounds fires; synthetic dead-leaves and stripe pictures stand in for them.
		for i := range 800 {
			bgs = append(bgs, Background{Img: syntheticTexture(rng, 200, 200, i%4 == 0)})
		}
		cfg := TrainConfig{Stages: envInt("VGG_TRAIN_STAGES", 20), FeatureSample: envInt("VGG_TRAIN_FEATURES", 4000),
			Negatives: len(faces), Seed: 1, Progress: progress}
		// VGG_TRAIN_RESUME=cascade.xml continues a finished run with more stages, towards
		// VGG_TRAIN_TARGET (a lower false-alarm target than the default 1e-5).
		if path := os.Getenv("VGG_TRAIN_RESUME"); path != "" {
			var err error
			if cfg.Resume, err = LoadFile(path); err != nil {
				t.Fatal(err)
			}
			cfg.Seed = uint64(len(cfg.Resume.Stages))
		}
		if v, err := strconv.ParseFloat(os.Getenv("VGG_TRAIN_TARGET"), 64); err == nil {
			cfg.TargetFalseAlarm = v
		}
		trainAndSave(t, faces, negPatches, bgs, cfg, "data/frontalface.xml")
	}
	if which == "eye" || which == "both" {
		var eyes []*image.Gray
		var bgs []Background
		for i, g := range aligned {
			var boxes []image.Rectangle
			for _, e := range arcFaceEyes {
				b := eyeBox(e[0], e[1], arcFaceEyes[1][0]-arcFaceEyes[0][0])
				boxes = append(boxes, b)
				p := Patch(g, b, 20, 20)
				eyes = append(eyes, p, Mirror(p))
			}
			if i%2 == 0 {
				bgs = append(bgs, Background{Img: g, Avoid: boxes})
			}
		}
		for _, g := range lfw[:len(lfw)/2] {
			bgs = append(bgs, Background{Img: rotate90(g, 2)})
		}
		rng.Shuffle(len(eyes), func(i, j int) { eyes[i], eyes[j] = eyes[j], eyes[i] })
		eyes = eyes[:min(len(eyes), 4000)]
		cfg := TrainConfig{Width: 20, Height: 20, Stages: envInt("VGG_TRAIN_STAGES", 12), FeatureSample: envInt("VGG_TRAIN_FEATURES", 3000),
			Negatives: len(eyes), Seed: 2, Progress: progress}
		trainAndSave(t, eyes, nil, bgs, cfg, "data/eye.xml")
	}
}

// eyeBox is the box the eye cascade learns: 0.7 inter-ocular distances wide, centred on the eye.
func eyeBox(x, y, iod float64) image.Rectangle {
	half := 0.35 * iod
	return image.Rect(int(x-half+0.5), int(y-half+0.5), int(x+half+0.5), int(y+half+0.5))
}

func trainAndSave(t *testing.T, pos, neg []*image.Gray, bgs []Background, cfg TrainConfig, path string) {
	start := time.Now()
	cfg.StageDone = func(c *Cascade) error { return c.SaveFile(path) }
	c, reps, err := Train(pos, neg, bgs, cfg)
	if err != nil {
		t.Fatal(err)
	}
	weak := 0
	for _, r := range reps {
		weak += r.Weak
	}
	t.Logf("%s: %d stages, %d weak classifiers, %d positives, %.0fs", path, len(c.Stages), weak, len(pos), time.Since(start).Seconds())
	if err := c.SaveFile(path); err != nil {
		t.Fatal(err)
	}
}

// loadCelebs reads celebs60 as grey images: the 112x112 aligned photos and the 250x250 LFW ones.
func loadCelebs(t *testing.T, dir string) (aligned, lfw []*image.Gray) {
	for _, path := range globOrFail(t, filepath.Join(dir, "*", "*.jpg")) {
		g := Grey(decodeFile(t, path))
		switch g.Rect.Dx() {
		case 112:
			aligned = append(aligned, g)
		case 250:
			lfw = append(lfw, g)
		}
	}
	return aligned, lfw
}

func globOrFail(t *testing.T, pattern string) []string {
	paths, err := filepath.Glob(pattern)
	if err != nil || len(paths) == 0 {
		t.Fatalf("no files match %s", pattern)
	}
	return paths
}

func envInt(name string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(name)); err == nil {
		return v
	}
	return def
}

// jittered samples a size x size patch of box from g the way the detector would see that
// face at a random size between size+2 and the box's own size: the photo is first shrunk with
// area averaging (a smaller face is a smoother face, not an aliased one), then the box, moved
// by up to 6% of its side, scaled by 0.92 to 1.08 and turned by up to 10 degrees, is sampled
// bilinearly (as the detector's pyramid samples) with the border clamped.
func jittered(g *image.Gray, box image.Rectangle, size int, rng *rand.Rand) *image.Gray {
	faceSize := float64(size+2) + rng.Float64()*float64(box.Dx()-size-2)
	k := faceSize / float64(box.Dx())
	small := shrinkArea(g, k)
	side := faceSize * (0.92 + 0.16*rng.Float64())
	cx := k*float64(box.Min.X+box.Max.X)/2 + (rng.Float64()*2-1)*0.06*faceSize
	cy := k*float64(box.Min.Y+box.Max.Y)/2 + (rng.Float64()*2-1)*0.06*faceSize
	angle := (rng.Float64()*2 - 1) * 10 * math.Pi / 180
	cos, sin := math.Cos(angle), math.Sin(angle)
	out := image.NewGray(image.Rect(0, 0, size, size))
	w, h := small.Rect.Dx(), small.Rect.Dy()
	at := func(x, y int) float64 {
		return float64(small.Pix[min(max(y, 0), h-1)*small.Stride+min(max(x, 0), w-1)])
	}
	for v := 0; v < size; v++ {
		for u := 0; u < size; u++ {
			du := ((float64(u)+0.5)/float64(size) - 0.5) * side
			dv := ((float64(v)+0.5)/float64(size) - 0.5) * side
			x, y := cx+cos*du-sin*dv-0.5, cy+sin*du+cos*dv-0.5
			x0, y0 := int(math.Floor(x)), int(math.Floor(y))
			fx, fy := x-float64(x0), y-float64(y0)
			top := at(x0, y0)*(1-fx) + at(x0+1, y0)*fx
			bottom := at(x0, y0+1)*(1-fx) + at(x0+1, y0+1)*fx
			out.Pix[v*size+u] = uint8(math.Round(top*(1-fy) + bottom*fy))
		}
	}
	return out
}

// shrinkArea scales g by k <= 1, each output pixel the area-weighted mean of the source
// pixels it covers.
func shrinkArea(g *image.Gray, k float64) *image.Gray {
	w, h := g.Rect.Dx(), g.Rect.Dy()
	ow, oh := max(1, int(math.Round(float64(w)*k))), max(1, int(math.Round(float64(h)*k)))
	// weights[o] lists (source index, weight) pairs for output index o along one axis.
	type tap struct {
		i int
		w float64
	}
	taps := func(n, on int) [][]tap {
		out := make([][]tap, on)
		scale := float64(n) / float64(on)
		for o := range out {
			lo, hi := float64(o)*scale, float64(o+1)*scale
			for i := int(lo); i < n && float64(i) < hi; i++ {
				cover := math.Min(hi, float64(i+1)) - math.Max(lo, float64(i))
				out[o] = append(out[o], tap{i, cover / scale})
			}
		}
		return out
	}
	tx, ty := taps(w, ow), taps(h, oh)
	rows := make([]float64, h*ow)
	for y := 0; y < h; y++ {
		for x, ts := range tx {
			var s float64
			for _, t := range ts {
				s += t.w * float64(g.Pix[y*g.Stride+t.i])
			}
			rows[y*ow+x] = s
		}
	}
	out := image.NewGray(image.Rect(0, 0, ow, oh))
	for y, ts := range ty {
		for x := 0; x < ow; x++ {
			var s float64
			for _, t := range ts {
				s += t.w * rows[t.i*ow+x]
			}
			out.Pix[y*ow+x] = uint8(math.Round(math.Min(s, 255)))
		}
	}
	return out
}

// syntheticTexture draws a face-free picture: a "dead leaves" pile of grey discs and
// rectangles of many sizes, most of them small (a crude model of natural scenes),
// or, with stripes, patches of sinusoidal gratings at random angles and periods.
func syntheticTexture(rng *rand.Rand, w, h int, stripes bool) *image.Gray {
	g := image.NewGray(image.Rect(0, 0, w, h))
	for i := range g.Pix {
		g.Pix[i] = uint8(rng.IntN(256))
	}
	for range 4000 {
		r := 1.5 * math.Pow(30, rng.Float64()*rng.Float64()) // radius 1.5 to 45, mostly small
		cx, cy := rng.Float64()*float64(w), rng.Float64()*float64(h)
		v := rng.Float64() * 255
		disc := rng.IntN(2) == 0
		angle, period, contrast := rng.Float64()*math.Pi, 3+rng.Float64()*20, rng.Float64()*120
		for y := max(0, int(cy-r)); y < min(h, int(cy+r)+1); y++ {
			for x := max(0, int(cx-r)); x < min(w, int(cx+r)+1); x++ {
				dx, dy := float64(x)-cx, float64(y)-cy
				if disc && dx*dx+dy*dy > r*r {
					continue
				}
				p := v
				if stripes {
					p += contrast * math.Sin(2*math.Pi*(dx*math.Cos(angle)+dy*math.Sin(angle))/period)
				}
				g.Pix[y*w+x] = uint8(math.Max(0, math.Min(255, p+rng.Float64()*16-8)))
			}
		}
	}
	return g
}

// rotate90 turns g by quarter turns clockwise.
func rotate90(g *image.Gray, quarters int) *image.Gray {
	for ; quarters > 0; quarters-- {
		w, h := g.Rect.Dx(), g.Rect.Dy()
		out := image.NewGray(image.Rect(0, 0, h, w))
		for y := 0; y < h; y++ {
			for x := 0; x < w; x++ {
				out.Pix[x*out.Stride+(h-1-y)] = g.Pix[y*g.Stride+x]
			}
		}
		g = out
	}
	return g
}
