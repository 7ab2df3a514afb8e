package haar

import (
	"errors"
	"fmt"
	"image"
	"math"
	"math/rand/v2"
	"runtime"
	"slices"
	"sort"
	"sync"
	"time"
)

// TrainConfig sets up cascade training. The zero value of a field means its default.
type TrainConfig struct {
	Width, Height    int     // detection window (default 24x24); samples must have this size
	Stages           int     // most stages to train (default 20)
	MinHitRate       float64 // fraction of training faces each stage must keep (default 0.995)
	MaxFalseAlarm    float64 // fraction of negatives a stage may still accept (default 0.5)
	TargetFalseAlarm float64 // stop once the whole cascade accepts fewer background windows (default 1e-5)
	MaxWeak          int     // most weak classifiers in one stage (default 100)
	Negatives        int     // negative windows gathered for each stage (default: as many as faces)
	FeatureSample    int     // features drawn at random from the pool for each stage (default 6000)
	Tilted           bool    // include 45° features in the pool
	Discrete         bool    // Discrete AdaBoost instead of Gentle AdaBoost
	Seed             uint64  // random seed for feature sampling and mining
	Workers          int     // goroutines (default GOMAXPROCS)
	Progress         func(format string, args ...any)
	// StageDone, when set, is called with the cascade after each stage: save it there and an
	// interrupted run keeps every finished stage.
	StageDone func(*Cascade) error
	// Resume, when set, is a cascade (with this window size) to extend with more stages
	// instead of starting from nothing; Stages then counts the stages added.
	Resume *Cascade
}

func (c *TrainConfig) setDefaults() {
	def := func(v *int, d int) {
		if *v == 0 {
			*v = d
		}
	}
	deff := func(v *float64, d float64) {
		if *v == 0 {
			*v = d
		}
	}
	def(&c.Width, 24)
	def(&c.Height, 24)
	def(&c.Stages, 20)
	def(&c.MaxWeak, 100)
	def(&c.FeatureSample, 6000)
	def(&c.Workers, runtime.GOMAXPROCS(0))
	deff(&c.MinHitRate, 0.995)
	deff(&c.MaxFalseAlarm, 0.5)
	deff(&c.TargetFalseAlarm, 1e-5)
	if c.Progress == nil {
		c.Progress = func(string, ...any) {}
	}
}

// Background is an image to mine negative windows from. Windows overlapping one of Avoid (the
// faces in it) with intersection over union >= 0.2 are never taken; when Within is not empty
// only windows centred inside it are.
type Background struct {
	Img    *image.Gray
	Avoid  []image.Rectangle
	Within image.Rectangle
}

// StageReport describes one trained stage.
type StageReport struct {
	Weak         int           // weak classifiers
	HitRate      float64       // on the stage's training faces
	FalseAlarm   float64       // on the stage's negatives
	Negatives    int           // negatives it was trained on
	MinedAccept  float64       // fraction of candidate background windows the cascade before it accepted
	TrainingTime time.Duration // boosting and mining together
}

// Train builds a cascade with AdaBoost over Haar features (Viola and Jones; Lienhart's
// Gentle AdaBoost by default). Every stage is trained on the faces the cascade so far still
// accepts and on negatives it still wrongly accepts: first from negPatches, then windows
// mined from backgrounds at random scales (bootstrapping). Weak classifiers are added to a
// stage until its threshold, set to keep MinHitRate of the faces, lets at most MaxFalseAlarm
// of the negatives through. Training stops after Stages stages, when the cascade's false-alarm
// rate on background windows falls below TargetFalseAlarm, or when too few negatives remain.
//
// To stay fast on two cores, each stage samples FeatureSample features from the pool, computes
// their values on all samples once and sorts each feature's values once; every boosting round
// is then one linear sweep per feature.
func Train(faces, negPatches []*image.Gray, backgrounds []Background, cfg TrainConfig) (*Cascade, []StageReport, error) {
	cfg.setDefaults()
	if cfg.Negatives == 0 {
		cfg.Negatives = len(faces)
	}
	for i, f := range append(append([]*image.Gray(nil), faces...), negPatches...) {
		if f.Rect.Dx() != cfg.Width || f.Rect.Dy() != cfg.Height {
			return nil, nil, fmt.Errorf("sample %d is %dx%d, want the %dx%d window", i, f.Rect.Dx(), f.Rect.Dy(), cfg.Width, cfg.Height)
		}
	}
	if len(faces) < 10 {
		return nil, nil, fmt.Errorf("%d face samples, need at least 10", len(faces))
	}
	if len(faces)+cfg.Negatives > math.MaxUint16 {
		return nil, nil, fmt.Errorf("%d faces + %d negatives exceed the %d samples a stage can hold", len(faces), cfg.Negatives, math.MaxUint16)
	}
	if len(negPatches) == 0 && len(backgrounds) == 0 {
		return nil, nil, errors.New("no negatives: give negative patches or background images")
	}
	pool := FeaturePool(cfg.Width, cfg.Height, cfg.Tilted)
	rng := rand.New(rand.NewPCG(cfg.Seed, 0x5eed))
	c := &Cascade{Width: cfg.Width, Height: cfg.Height}
	if r := cfg.Resume; r != nil {
		if r.Width != cfg.Width || r.Height != cfg.Height {
			return nil, nil, fmt.Errorf("cascade to resume has a %dx%d window, want %dx%d", r.Width, r.Height, cfg.Width, cfg.Height)
		}
		c.Stages = append(c.Stages, r.Stages...)
		c.Features = append(c.Features, r.Features...)
	}
	var reports []StageReport
	first := len(c.Stages)
	for stage := first; stage < first+cfg.Stages; stage++ {
		start := time.Now()
		pos := acceptedFaces(c, faces, cfg)
		neg, accept := mineNegatives(c, negPatches, backgrounds, cfg, rng)
		if neg.len() < cfg.Negatives/10 {
			cfg.Progress("stage %d: only %d negatives still fool the cascade; done", stage, neg.len())
			break
		}
		cfg.Progress("stage %d: %d faces, %d negatives (cascade accepts %.2g of background windows)",
			stage, pos.len(), neg.len(), accept)
		st, rep := trainStage(c, pos, neg, pool, cfg, rng)
		c.Stages = append(c.Stages, st)
		rep.MinedAccept = accept
		rep.TrainingTime = time.Since(start)
		reports = append(reports, rep)
		cfg.Progress("stage %d: %d weak classifiers, hit rate %.4f, false alarm %.3f, %.1fs",
			stage, rep.Weak, rep.HitRate, rep.FalseAlarm, rep.TrainingTime.Seconds())
		if cfg.StageDone != nil {
			if err := cfg.StageDone(c); err != nil {
				return nil, reports, err
			}
		}
		if accept*rep.FalseAlarm < cfg.TargetFalseAlarm {
			cfg.Progress("false-alarm target %.2g reached", cfg.TargetFalseAlarm)
			break
		}
	}
	if len(c.Stages) == 0 {
		return nil, reports, errors.New("no stage trained: no negatives to learn from")
	}
	return c, reports, nil
}

// acceptedFaces returns the faces the cascade so far accepts, as a sample set.
func acceptedFaces(c *Cascade, faces []*image.Gray, cfg TrainConfig) *sampleSet {
	set := newSampleSet(cfg.Width, cfg.Height, cfg.Tilted)
	s := newScanner(c.compile())
	for _, f := range faces {
		if cascadeAccepts(s, f) {
			set.add(f.Pix, f.Stride)
		}
	}
	return set
}

// cascadeAccepts runs the scanner's cascade on one window-sized patch.
func cascadeAccepts(s *scanner, patch *image.Gray) bool {
	s.ii.compute(patch.Pix, patch.Rect.Dx(), patch.Rect.Dy(), patch.Stride, s.m.tilted)
	s.place(s.ii.stride, len(s.ii.sum))
	return s.evaluate(0) > 0
}

// mineNegatives gathers cfg.Negatives windows that the cascade accepts: negative patches
// first, then windows from the backgrounds, visited in random order at a random scale each,
// taking a few random accepted windows from each so that no single image dominates. It also
// returns the fraction of scanned background windows the cascade accepted.
func mineNegatives(c *Cascade, patches []*image.Gray, bgs []Background, cfg TrainConfig, rng *rand.Rand) (*sampleSet, float64) {
	set := newSampleSet(cfg.Width, cfg.Height, cfg.Tilted)
	s := newScanner(c.compile())
	for _, p := range rng.Perm(len(patches)) {
		if set.len() >= cfg.Negatives/2 && len(bgs) > 0 {
			break // keep room for mined windows: patches alone are too few and too alike
		}
		if cascadeAccepts(s, patches[p]) {
			set.add(patches[p].Pix, patches[p].Stride)
		}
	}
	if len(bgs) == 0 {
		return set, 1
	}
	perLevel := max(1, 2*cfg.Negatives/len(bgs))
	type job struct {
		bg     int
		factor float32
		seed   uint64
	}
	// Up to 20 passes over the backgrounds, each at new random scales.
	var jobs []job
	for pass := 0; pass < 20; pass++ {
		for _, i := range rng.Perm(len(bgs)) {
			b := bgs[i].Img.Rect
			maxFactor := math.Min(float64(b.Dx())/float64(cfg.Width), float64(b.Dy())/float64(cfg.Height))
			if maxFactor < 1 {
				continue
			}
			f := math.Exp(rng.Float64() * math.Log(maxFactor))
			jobs = append(jobs, job{i, float32(f), rng.Uint64()})
		}
	}
	// The jobs run in batches, each job's windows found on any worker but taken into the set in
	// job order, up to the job that fills it: the set (and the training after it) does not
	// depend on the number of workers or on which of them finishes first.
	type found struct {
		scanned, accepted int
		samples           *sampleSet
	}
	model := c.compile()
	workers := max(1, cfg.Workers)
	var scanned, accepted int
	for first := 0; first < len(jobs) && set.len() < cfg.Negatives; first += 4 * workers {
		batch := jobs[first:min(first+4*workers, len(jobs))]
		results := make([]found, len(batch))
		var wg sync.WaitGroup
		for w := 0; w < workers; w++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				s := newScanner(model)
				for k := w; k < len(batch); k += workers {
					j := batch[k]
					n, a, wins := s.mineLevel(bgs[j.bg], j.factor, perLevel, rand.New(rand.NewPCG(j.seed, 1)))
					local := newSampleSet(cfg.Width, cfg.Height, cfg.Tilted)
					for _, p := range wins {
						local.add(s.level[p:], s.levelStride)
					}
					results[k] = found{n, a, local}
				}
			}()
		}
		wg.Wait()
		for _, r := range results {
			if set.len() >= cfg.Negatives {
				break
			}
			scanned += r.scanned
			accepted += r.accepted
			for i := 0; i < r.samples.len() && set.len() < cfg.Negatives; i++ {
				set.tables = append(set.tables, r.samples.tables[i*set.tableLen:(i+1)*set.tableLen]...)
				set.invNorm = append(set.invNorm, r.samples.invNorm[i])
			}
		}
	}
	rate := 1.0
	if scanned > 0 {
		rate = float64(accepted) / float64(scanned)
	}
	return set, rate
}

// mineLevel scans one background at one scale with step 2 and returns how many allowed
// windows it tried, how many the cascade accepted, and the level-pixel offsets of up to
// limit of the accepted ones, chosen at random.
func (s *scanner) mineLevel(bg Background, factor float32, limit int, rng *rand.Rand) (scanned, accepted int, picks []int) {
	sw, sh, ok := s.prepareLevel(bg.Img, factor)
	if !ok {
		return 0, 0, nil
	}
	ww, wh := s.m.width, s.m.height
	boxW := int(float32(ww) * factor)
	boxH := int(float32(wh) * factor)
	var hits []int
	for y := rng.IntN(2); y < sh+1-wh; y += 2 {
		for x := rng.IntN(2); x < sw+1-ww; x += 2 {
			bx, by := int(float32(x)*factor), int(float32(y)*factor)
			box := image.Rect(bx, by, bx+boxW, by+boxH)
			if !windowAllowed(box, bg) {
				continue
			}
			scanned++
			if s.evaluate(y*s.ii.stride+x) > 0 {
				hits = append(hits, y*s.levelStride+x)
			}
		}
	}
	rng.Shuffle(len(hits), func(i, j int) { hits[i], hits[j] = hits[j], hits[i] })
	return scanned, len(hits), hits[:min(limit, len(hits))]
}

func windowAllowed(box image.Rectangle, bg Background) bool {
	if !bg.Within.Empty() {
		c := image.Pt((box.Min.X+box.Max.X)/2, (box.Min.Y+box.Max.Y)/2)
		if !c.In(bg.Within) {
			return false
		}
	}
	for _, a := range bg.Avoid {
		if IoU(box, a) >= 0.2 {
			return false
		}
	}
	return true
}

// IoU is the intersection over union of two rectangles (0 when either is empty).
func IoU(a, b image.Rectangle) float64 {
	inter := a.Intersect(b)
	if inter.Empty() {
		return 0
	}
	i := float64(inter.Dx() * inter.Dy())
	return i / (float64(a.Dx()*a.Dy()+b.Dx()*b.Dy()) - i)
}

// sortedFeature is one sampled feature's values on every sample, sorted, with the samples'
// indices in the same order.
type sortedFeature struct {
	feature Feature
	values  []float32
	order   []uint16
}

// trainStage boosts one stage on faces pos and negatives neg.
func trainStage(c *Cascade, pos, neg *sampleSet, pool []Feature, cfg TrainConfig, rng *rand.Rand) (Stage, StageReport) {
	all := newSampleSet(cfg.Width, cfg.Height, cfg.Tilted)
	all.tables = append(append(all.tables, pos.tables...), neg.tables...)
	all.invNorm = append(append(all.invNorm, pos.invNorm...), neg.invNorm...)
	n, nPos := all.len(), pos.len()
	y := make([]float64, n)
	w := make([]float64, n)
	for i := range y {
		if i < nPos {
			y[i], w[i] = 1, 0.5/float64(nPos)
		} else {
			y[i], w[i] = -1, 0.5/float64(n-nPos)
		}
	}
	feats := sortFeatures(all, pool, cfg, rng)

	stage := Stage{}
	score := make([]float64, n)
	vals := make([]float32, n)
	posScores := make([]float64, nPos)
	var rep StageReport
	for round := 0; round < cfg.MaxWeak; round++ {
		best := bestStump(feats, y, w, cfg)
		f := feats[best.feature]
		pf := all.place(f.feature)
		all.values(&pf, vals)
		var total float64
		for i := range w {
			h := best.right
			if vals[i] < best.threshold {
				h = best.left
			}
			score[i] += float64(h)
			w[i] *= math.Exp(-y[i] * float64(h))
			total += w[i]
		}
		for i := range w {
			w[i] /= total
		}
		c.Features = append(c.Features, f.feature)
		stage.Trees = append(stage.Trees, Tree{
			Nodes:  []Node{{Feature: len(c.Features) - 1, Threshold: best.threshold, Left: 0, Right: -1}},
			Leaves: []float32{best.left, best.right},
		})
		// The stage threshold keeps MinHitRate of the faces; a hair below the score of the
		// weakest kept face so float rounding in the detector cannot flip it.
		copy(posScores, score[:nPos])
		sort.Float64s(posScores)
		k := int(math.Floor((1 - cfg.MinHitRate) * float64(nPos)))
		stage.Threshold = float32(posScores[k]) - 1e-5
		var hits, fas int
		for i, s := range score {
			if s >= float64(stage.Threshold) { // the detector's float64 stage sum
				if i < nPos {
					hits++
				} else {
					fas++
				}
			}
		}
		rep = StageReport{Weak: round + 1, HitRate: float64(hits) / float64(nPos),
			FalseAlarm: float64(fas) / float64(n-nPos), Negatives: n - nPos}
		if rep.FalseAlarm <= cfg.MaxFalseAlarm {
			break
		}
	}
	return stage, rep
}

// sortFeatures samples the stage's features and sorts each one's values over all samples,
// packing value and index into one uint64 so a plain integer sort does the work.
func sortFeatures(all *sampleSet, pool []Feature, cfg TrainConfig, rng *rand.Rand) []sortedFeature {
	nf := min(cfg.FeatureSample, len(pool))
	picks := rng.Perm(len(pool))[:nf]
	feats := make([]sortedFeature, nf)
	n := all.len()
	parallel(nf, cfg.Workers, func(lo, hi int) {
		vals := make([]float32, n)
		keys := make([]uint64, n)
		for fi := lo; fi < hi; fi++ {
			f := pool[picks[fi]]
			pf := all.place(f)
			all.values(&pf, vals)
			for i, v := range vals {
				keys[i] = uint64(orderedBits(v))<<32 | uint64(i)
			}
			slices.Sort(keys)
			sf := sortedFeature{feature: f, values: make([]float32, n), order: make([]uint16, n)}
			for i, k := range keys {
				sf.order[i] = uint16(k)
				sf.values[i] = vals[uint16(k)]
			}
			feats[fi] = sf
		}
	})
	return feats
}

// orderedBits maps a float32 to a uint32 that sorts in the same order.
func orderedBits(v float32) uint32 {
	b := math.Float32bits(v)
	if b&(1<<31) != 0 {
		return ^b
	}
	return b | 1<<31
}

// stump is a candidate weak classifier: feature index into the sorted features, threshold and
// the two leaf values.
type stump struct {
	feature     int
	threshold   float32
	left, right float32
	gain        float64
}

// bestStump sweeps every sorted feature once and returns the stump that best fits the
// weighted labels: for Gentle AdaBoost the least-squares fit (leaves are the weighted mean
// label on each side), for Discrete AdaBoost the least weighted error (leaves ±alpha).
func bestStump(feats []sortedFeature, y, w []float64, cfg TrainConfig) stump {
	var wPos, wNeg float64
	for i := range y {
		if y[i] > 0 {
			wPos += w[i]
		} else {
			wNeg += w[i]
		}
	}
	results := make([]stump, cfg.Workers)
	chunk := (len(feats) + cfg.Workers - 1) / cfg.Workers
	parallel(len(feats), cfg.Workers, func(lo, hi int) {
		best := stump{gain: math.Inf(-1)}
		for fi := lo; fi < hi; fi++ {
			f := &feats[fi]
			var lPos, lNeg float64 // weight of faces and of negatives left of the split
			for k := 0; k < len(f.order)-1; k++ {
				i := f.order[k]
				if y[i] > 0 {
					lPos += w[i]
				} else {
					lNeg += w[i]
				}
				if f.values[k] == f.values[k+1] {
					continue
				}
				thr := (f.values[k] + f.values[k+1]) / 2
				var gain float64
				var left, right float64
				if cfg.Discrete {
					// Error of "left means negative" is lPos + (wNeg - lNeg); flip if worse.
					e := lPos + wNeg - lNeg
					sign := 1.0
					if e > 0.5*(wPos+wNeg) {
						e, sign = wPos+wNeg-e, -1
					}
					e = math.Max(e, 1e-10)
					alpha := 0.5 * math.Log((wPos+wNeg-e)/e)
					gain, left, right = -e, -sign*alpha, sign*alpha
				} else {
					lw, rw := lPos+lNeg, wPos+wNeg-lPos-lNeg
					ls, rs := lPos-lNeg, (wPos-lPos)-(wNeg-lNeg)
					if lw <= 0 || rw <= 0 {
						continue
					}
					gain = ls*ls/lw + rs*rs/rw
					left, right = ls/lw, rs/rw
				}
				if gain > best.gain {
					best = stump{feature: fi, threshold: thr, left: float32(left), right: float32(right), gain: gain}
				}
			}
		}
		results[lo/chunk] = best
	})
	best := stump{gain: math.Inf(-1)}
	for _, r := range results {
		if r.gain > best.gain {
			best = r
		}
	}
	return best
}

// parallel splits [0, n) into contiguous chunks of ceil(n/workers) and runs fn on each.
func parallel(n, workers int, fn func(lo, hi int)) {
	chunk := (n + workers - 1) / workers
	var wg sync.WaitGroup
	for lo := 0; lo < n; lo += chunk {
		wg.Add(1)
		go func(lo, hi int) {
			defer wg.Done()
			fn(lo, hi)
		}(lo, min(lo+chunk, n))
	}
	wg.Wait()
}
