package eyeloc

import (
	"bytes"
	"fmt"
	"image"
	"image/jpeg"
	"math"
	"math/rand/v2"

	"github.com/vgglab/vgg/nn"
	"github.com/vgglab/vgg/tensor"
)

// Source is a training photo: a face and its exact eye centres (continuous coordinates, the
// eye on the picture's left first).
type Source struct {
	Grey *image.Gray
	Eyes [2][2]float64
}

// TrainConfig sets how a locator is trained.
type TrainConfig struct {
	Steps int     // optimisation steps (0 means 3000)
	Batch int     // crops per step (0 means 64)
	LR    float64 // AdamW's peak learning rate under a one-cycle schedule (0 means 2e-3)
	Seed  uint64  // draws the initial weights and every crop
	// Progress, when set, is told the mean loss of the last Every steps (0 means 500).
	Progress func(step int, loss float64)
	Every    int
}

// Framing is the range of boxes that training crops are cut as, in units of the distance d
// between the eyes: what a face detector returns. Measured on dlib_train's 18 annotated boxes
// (side 2.3d to 3.7d, the box's centre -0.17d to 0.19d across from the eyes' midpoint and
// 0.16d to 0.69d below it, the eyes turned -13 to 19 degrees) and on the embedded Haar
// cascade's box of an aligned face (2.44d, 0.45d below); a little wider on every side.
var Framing = struct {
	MinSide, MaxSide float64 // the box's side
	Across           float64 // the box's centre from the eyes' midpoint, along the eyes, at most
	MinBelow         float64 // ... and at right angles to them, downwards
	MaxBelow         float64
	Turn             float64 // the eyes' turn in the box, at most, degrees
	// SmallFaces is the share of crops first read at a lower resolution (a face whose crop
	// spans MinPixels to Side pixels of its photo) and enlarged, as the detector's smallest
	// faces are.
	SmallFaces float64
	MinPixels  int
	// JPEG is the share of crops compressed as JPEG, at quality 25 to 90.
	JPEG float64
	// Yawed is the share of crops whose face is first turned to one side, by up to MaxYaw
	// degrees (see yawed): the photos with exact eyes look straight ahead, the faces of group
	// photos often do not, and their eyes then lie closer together than the face's width
	// suggests.
	Yawed  float64
	MaxYaw float64
}{MinSide: 2.1, MaxSide: 4.0, Across: 0.25, MinBelow: 0.05, MaxBelow: 0.8, Turn: 22, SmallFaces: 0.5, MinPixels: 24,
	JPEG: 0.5, Yawed: 0.5, MaxYaw: 35}

// example cuts one training crop from src, framed at random as Framing describes, mirrored
// half the time, with its four bin labels (image-left eye's x and y, then the other's).
func example(src Source, rng *rand.Rand) ([]float32, [heads]int32) {
	between := func(lo, hi float64) float64 { return lo + (hi-lo)*rng.Float64() }
	if rng.Float64() < Framing.Yawed {
		src = yawed(src, between(-Framing.MaxYaw, Framing.MaxYaw)*math.Pi/180, between(1.0, 1.3))
	}
	e0, e1 := src.Eyes[0], src.Eyes[1]
	dx, dy := e1[0]-e0[0], e1[1]-e0[1]
	d := math.Hypot(dx, dy)
	eyeAngle := math.Atan2(dy, dx)
	// The crop's axes: the eyes' direction turned by up to Framing.Turn.
	axis := eyeAngle + between(-Framing.Turn, Framing.Turn)*math.Pi/180
	cos, sin := math.Cos(axis), math.Sin(axis)
	side := d * math.Exp(between(math.Log(Framing.MinSide), math.Log(Framing.MaxSide)))
	across := between(-Framing.Across, Framing.Across) * d
	below := between(Framing.MinBelow, Framing.MaxBelow) * d
	// The box's centre, from the eyes' midpoint, along the eyes and at right angles to them.
	ex, ey := math.Cos(eyeAngle), math.Sin(eyeAngle)
	cx := (e0[0]+e1[0])/2 + across*ex - below*ey
	cy := (e0[1]+e1[1])/2 + across*ey + below*ex
	crop := side * (1 + 2*Margin)
	corner := func(scale float64) window {
		// The window of crop pixels of the given size whose centre is the box's.
		return window{
			x0: cx - crop/2*(cos-sin), y0: cy - crop/2*(sin+cos),
			ux: scale * cos, uy: scale * sin,
		}
	}
	w := corner(crop / Side)
	var pixels plane
	if rng.Float64() < Framing.SmallFaces {
		// Read the window at a lower resolution first, then enlarge it to Side.
		n := Framing.MinPixels + rng.IntN(Side-Framing.MinPixels+1)
		low := corner(crop / float64(n))
		small := greyPlane(src.Grey, low, n).sample(low, n)
		pixels = small.sample(window{ux: float64(n) / Side}, Side)
	} else {
		pixels = greyPlane(src.Grey, w, Side).sample(w, Side)
	}
	// Light: a gamma curve and sensor noise; then, half the time, JPEG's blocks and ringing.
	gamma := math.Exp(between(math.Log(0.6), math.Log(1.6)))
	noise := between(0, 6)
	for i, v := range pixels.pix {
		pixels.pix[i] = 255*math.Pow(math.Max(v, 0)/255, gamma) + noise*rng.NormFloat64()
	}
	if rng.Float64() < Framing.JPEG {
		pixels = jpegged(pixels, 25+rng.IntN(66))
	}
	out := standardised(pixels)
	var labels [heads]int32
	var pos [heads]float64
	for k, e := range src.Eyes {
		pos[2*k], pos[2*k+1] = w.toCrop(e[0], e[1])
	}
	if rng.IntN(2) == 1 {
		out = mirror(out)
		pos = [heads]float64{Side - pos[2], pos[3], Side - pos[0], pos[1]}
	}
	for h, p := range pos {
		labels[h] = int32(min(max(int(math.Floor(p)), 0), Side-1))
	}
	return out, labels
}

// yawed returns src with its face turned about the vertical by psi radians (positive: towards
// the picture's right). The head is taken for a cylinder of radius r times the distance d
// between the eyes, its axis through their midpoint: a point at angle θ on it lies r·d·sin θ
// across from the axis and, turned, r·d·sin(θ+ψ). Of the cylinder, the part from θ = -90° to
// 90°-ψ (from -90°-ψ to 90° when ψ is negative) stays in view; beside it the background is
// where it was, shifted on the side the face turns away from so that it meets the face's
// edge. The eyes (θ within ±(90° - |ψ|)) move as the map says, exactly.
func yawed(src Source, psi, r float64) Source {
	e0, e1 := src.Eyes[0], src.Eyes[1]
	mx, my := (e0[0]+e1[0])/2, (e0[1]+e1[1])/2
	d := math.Hypot(e1[0]-e0[0], e1[1]-e0[1])
	ax, ay := (e1[0]-e0[0])/d, (e1[1]-e0[1])/d // along the eyes; (-ay, ax) points down the face
	// The turned face spans lower..upper across, in units of d.
	lower, upper := -r*math.Cos(psi), r
	if psi < 0 {
		lower, upper = -r, r*math.Cos(psi)
	}
	back := func(u float64) float64 { // where the point u across in the turned picture was
		switch {
		case u <= lower:
			return u - lower - r
		case u >= upper:
			return u - upper + r
		}
		return r * math.Sin(math.Asin(u/r)-psi)
	}
	g := src.Grey
	whole := greyPlane(g, window{x0: float64(g.Rect.Min.X), y0: float64(g.Rect.Min.Y), ux: 1}, max(g.Rect.Dx(), g.Rect.Dy()))
	out := image.NewGray(g.Rect)
	for y := g.Rect.Min.Y; y < g.Rect.Max.Y; y++ {
		for x := g.Rect.Min.X; x < g.Rect.Max.X; x++ {
			dx, dy := float64(x)+0.5-mx, float64(y)+0.5-my
			across, down := (dx*ax+dy*ay)/d, (-dx*ay+dy*ax)/d
			u := back(across)
			v := whole.bilinear(mx+d*(u*ax-down*ay), my+d*(u*ay+down*ax))
			out.Pix[out.PixOffset(x, y)] = uint8(math.Round(min(max(v, 0), 255)))
		}
	}
	var eyes [2][2]float64
	for i, e := range src.Eyes {
		dx, dy := e[0]-mx, e[1]-my
		across, down := (dx*ax+dy*ay)/d, (-dx*ay+dy*ax)/d
		u := r * math.Sin(math.Asin(max(-1, min(1, across/r)))+psi)
		eyes[i] = [2]float64{mx + d*(u*ax-down*ay), my + d*(u*ay+down*ax)}
	}
	return Source{Grey: out, Eyes: eyes}
}

// jpegged is p as a JPEG of the given quality would bring it back.
func jpegged(p plane, quality int) plane {
	g := image.NewGray(image.Rect(0, 0, p.w, p.h))
	for i, v := range p.pix {
		g.Pix[i] = uint8(math.Round(min(max(v, 0), 255)))
	}
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, g, &jpeg.Options{Quality: quality}); err != nil {
		return p // writing to memory does not fail; the crop stays as it was if it did
	}
	back, err := jpeg.Decode(&buf)
	if err != nil {
		return p
	}
	out := plane{rect: p.rect, step: p.step, w: p.w, h: p.h, pix: make([]float64, len(p.pix))}
	for y := range p.h {
		for x := range p.w {
			r, _, _, _ := back.At(x, y).RGBA()
			out.pix[y*p.w+x] = float64(r >> 8)
		}
	}
	return out
}

// Train fits a locator to sources: every step a batch of crops cut from sources drawn at
// random, each framed, turned, lit and mirrored anew (example). The result depends only on
// the sources and cfg.
func Train(sources []Source, cfg TrainConfig) (*Locator, error) {
	if len(sources) == 0 {
		return nil, fmt.Errorf("eyeloc: training needs photos with eyes, got none")
	}
	for i, s := range sources {
		if s.Grey == nil || s.Grey.Rect.Empty() {
			return nil, fmt.Errorf("eyeloc: source %d has no picture", i)
		}
		if d := math.Hypot(s.Eyes[1][0]-s.Eyes[0][0], s.Eyes[1][1]-s.Eyes[0][1]); !(d >= 4) {
			return nil, fmt.Errorf("eyeloc: source %d has its eyes %.1f pixels apart; want at least 4", i, d)
		}
	}
	if cfg.Steps <= 0 {
		cfg.Steps = 3000
	}
	if cfg.Batch <= 0 {
		cfg.Batch = 64
	}
	if cfg.LR <= 0 {
		cfg.LR = 2e-3
	}
	if cfg.Every <= 0 {
		cfg.Every = 500
	}
	l, err := newLocator(cfg.Seed)
	if err != nil {
		return nil, err
	}
	b := l.ctx.Backend
	sched := nn.Schedule{Kind: "onecycle", LR: cfg.LR, TotalSteps: cfg.Steps}
	opt, err := nn.NewOptimizer(b, l.net.Params(), nn.OptimizerConfig{Kind: "adamw", WeightDecay: 1e-4, ExemptNoDecay: true})
	if err != nil {
		return nil, err
	}
	defer opt.Release()
	loss := nn.NewSoftmaxCrossEntropy(l.ctx)
	defer loss.Release()
	n := cfg.Batch
	x, err := b.Alloc(tensor.Float32, n, 1, Side, Side)
	if err != nil {
		return nil, err
	}
	defer x.Release()
	labels, err := b.Alloc(tensor.Int32, n*heads)
	if err != nil {
		return nil, err
	}
	defer labels.Release()
	host := tensor.Zeros(n, 1, Side, Side)
	hostLabels := tensor.New(tensor.Int32, n*heads)
	perRow := tensor.Zeros(n * heads)
	rng := rand.New(rand.NewPCG(cfg.Seed, 0xe7e10c))
	var lossSum float64
	for step := range cfg.Steps {
		for i := range n {
			crop, lab := example(sources[rng.IntN(len(sources))], rng)
			copy(host.Float32s()[i*Side*Side:], crop)
			copy(hostLabels.Int32s()[i*heads:], lab[:])
		}
		if err := b.Upload(x, host); err != nil {
			return nil, err
		}
		if err := b.Upload(labels, hostLabels); err != nil {
			return nil, err
		}
		logits, err := l.net.Forward(x)
		if err != nil {
			return nil, err
		}
		// Each crop's heads·Side logits are heads rows of Side classes.
		rows, err := logits.Reshape(n*heads, Side)
		if err != nil {
			return nil, err
		}
		if err := loss.Forward(rows, labels); err != nil {
			return nil, err
		}
		drows, err := loss.Backward()
		if err != nil {
			return nil, err
		}
		dlogits, err := drows.Reshape(logits.Shape()...)
		if err != nil {
			return nil, err
		}
		if _, err := l.net.Backward(dlogits); err != nil {
			return nil, err
		}
		if err := opt.Update(float32(sched.Rate(step))); err != nil {
			return nil, err
		}
		if cfg.Progress != nil {
			if err := b.Download(perRow, loss.Loss); err != nil {
				return nil, err
			}
			for _, v := range perRow.Float32s() {
				lossSum += float64(v) / float64(n*heads)
			}
			if (step+1)%cfg.Every == 0 || step+1 == cfg.Steps {
				cfg.Progress(step+1, lossSum/float64((step%cfg.Every)+1))
				lossSum = 0
			}
		}
	}
	return l, nil
}
