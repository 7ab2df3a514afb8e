package haar

import (
	"fmt"
	"image"
	"math"
	"runtime"
	"sort"
	"sync"
	"sync/atomic"
)

// Params are the sliding-window search settings, named as in OpenCV's detectMultiScale.
type Params struct {
	ScaleFactor  float64 // window growth between pyramid levels, > 1 (OpenCV default 1.1)
	MinNeighbors int     // a face needs more than this many overlapping hits (default 3); 0 keeps raw hits
	MinSize      int     // smallest face side in pixels; 0 means the cascade window
	MaxSize      int     // largest face side in pixels; 0 means the whole image
	Workers      int     // goroutines scanning pyramid levels; 0 means GOMAXPROCS
}

// The range of Params.ScaleFactor. Each pyramid level costs a resized image and a scan, and
// their number grows as 1/ln(ScaleFactor): 1.0000001 means millions of levels (minutes on a
// small photo), while above 2 the windows step over faces.
const (
	MinScaleFactor = 1.01
	MaxScaleFactor = 2
)

// Validate says what is wrong with the search settings, if anything.
func (p Params) Validate() error {
	if !(p.ScaleFactor >= MinScaleFactor && p.ScaleFactor <= MaxScaleFactor) {
		return fmt.Errorf("scale factor %v must be between %v and %v (the window growth between pyramid levels; OpenCV's usual is 1.1)",
			p.ScaleFactor, MinScaleFactor, MaxScaleFactor)
	}
	if p.MinNeighbors < 0 || p.MinSize < 0 || p.MaxSize < 0 {
		return fmt.Errorf("negative detection parameter in %+v", p)
	}
	return nil
}

// DefaultParams are OpenCV's usual face-detection settings: scale 1.1, 3 neighbours, 20 px.
func DefaultParams() Params { return Params{ScaleFactor: 1.1, MinNeighbors: 3, MinSize: 20} }

// Detection is one object found: its box in image pixels and how many raw window hits were
// merged into it (OpenCV's "neighbours", the detector's confidence).
type Detection struct {
	Box       image.Rectangle
	Neighbors int
}

// groupEps is OpenCV's GROUP_EPS for detectMultiScale.
const groupEps = 0.2

// stageThresholdEps is OpenCV's THRESHOLD_EPS, subtracted from stage thresholds on loading.
const stageThresholdEps float32 = 1e-5

// Detect finds objects in a grey image. It follows OpenCV 4's CascadeClassifier: for each
// scale s = ScaleFactor^k whose window fits between MinSize and MaxSize it resizes the image
// by 1/s, slides the fixed cascade window over it (every 2nd pixel below s = 2, every pixel
// above, skipping one more position after a window that fails the first stage), and maps hits
// back; then it groups the hits. Pyramid levels are scanned concurrently.
func (c *Cascade) Detect(img *image.Gray, p Params) ([]Detection, error) {
	if err := p.Validate(); err != nil {
		return nil, err
	}
	hits := c.scan(img, p)
	boxes, counts := GroupRectangles(hits, p.MinNeighbors, groupEps)
	out := make([]Detection, len(boxes))
	for i := range boxes {
		// Boxes are in img's own coordinates, which for a sub-image do not start at (0, 0).
		out[i] = Detection{Box: boxes[i].Add(img.Rect.Min), Neighbors: counts[i]}
	}
	sort.Slice(out, func(i, j int) bool {
		a, b := out[i].Box.Min, out[j].Box.Min
		return a.Y < b.Y || a.Y == b.Y && a.X < b.X
	})
	return out, nil
}

// pyramidScales lists the scales OpenCV scans for an image of w x h pixels.
func (c *Cascade) pyramidScales(w, h int, p Params) []float32 {
	maxW, maxH := w, h
	if p.MaxSize > 0 {
		maxW, maxH = min(maxW, p.MaxSize), min(maxH, p.MaxSize)
	}
	var scales []float32
	for factor := 1.0; ; factor *= p.ScaleFactor {
		ww := int(math.RoundToEven(float64(c.Width) * factor))
		wh := int(math.RoundToEven(float64(c.Height) * factor))
		if ww > maxW || wh > maxH || ww > w || wh > h {
			break
		}
		if ww < p.MinSize || wh < p.MinSize {
			continue
		}
		scales = append(scales, float32(factor))
	}
	return scales
}

// scan returns every window the cascade accepts, over all scales, in image coordinates.
func (c *Cascade) scan(img *image.Gray, p Params) []image.Rectangle {
	w, h := img.Rect.Dx(), img.Rect.Dy()
	scales := c.pyramidScales(w, h, p)
	workers := p.Workers
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	workers = max(1, min(workers, len(scales)))
	model := c.compile()
	var next atomic.Int64
	results := make([][]image.Rectangle, workers)
	var wg sync.WaitGroup
	for wi := 0; wi < workers; wi++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s := newScanner(model)
			// Levels are taken largest first, so the big ones do not end up last on one worker.
			for k := int(next.Add(1) - 1); k < len(scales); k = int(next.Add(1) - 1) {
				results[wi] = s.scanLevel(img, scales[k], results[wi])
			}
		}()
	}
	wg.Wait()
	var all []image.Rectangle
	for _, r := range results {
		all = append(all, r...)
	}
	return all
}

// model is the cascade flattened into arrays for the inner loop. Rectangle corners are kept as
// window positions (corners) and turned into table offsets (nodes[].ofs) once the integral's
// stride is known; the hot loop touches only the compact nodes.
type model struct {
	width, height int
	tilted        bool
	allStumps     bool // every tree is one node: the common case, evaluated without a tree walk
	stages        []flatStage
	trees         []flatTree
	nodes         []evalNode
	corners       []nodeCorners // parallel to nodes
	leaves        []float32
}

type flatStage struct {
	firstTree, endTree int
	threshold          float32
}

type flatTree struct{ firstNode, firstLeaf int }

// evalNode is one tree node as the inner loop needs it: up to three weighted rectangle sums
// (a missing third has weight 0), the threshold, and the children (tree indices as in Node) or,
// for a stump, the two leaf values themselves.
type evalNode struct {
	ofs         [3][4]int32 // corners c0-c1-c2+c3 of each rectangle, as table offsets
	weight      [3]float32
	threshold   float32
	left, right int32
	leaves      [2]float32 // a stump's left and right leaf values
}

// nodeCorners holds a node's rectangle corners as (x, y) window positions; tilted rectangles
// address the 45° table.
type nodeCorners struct {
	x, y   [3][4]int
	tilted bool
	n      int
}

func (c *Cascade) compile() *model {
	m := &model{width: c.Width, height: c.Height, tilted: c.hasTilted(), allStumps: true}
	for _, s := range c.Stages {
		// OpenCV lowers every stage threshold by 1e-5 (THRESHOLD_EPS) as it loads a cascade;
		// doing the same keeps windows that sit exactly on a threshold in agreement.
		fs := flatStage{firstTree: len(m.trees), threshold: s.Threshold - stageThresholdEps}
		for _, t := range s.Trees {
			m.trees = append(m.trees, flatTree{firstNode: len(m.nodes), firstLeaf: len(m.leaves)})
			if len(t.Nodes) > 1 {
				m.allStumps = false
			}
			for _, n := range t.Nodes {
				f := c.Features[n.Feature]
				en := evalNode{threshold: n.Threshold, left: int32(n.Left), right: int32(n.Right)}
				if len(t.Nodes) == 1 {
					en.leaves = [2]float32{t.Leaves[-n.Left], t.Leaves[-n.Right]}
				}
				nc := nodeCorners{tilted: f.Tilted, n: len(f.Rects)}
				for i, wr := range f.Rects {
					en.weight[i] = wr.Weight
					nc.x[i], nc.y[i] = cornersOf(wr.R, f.Tilted)
				}
				m.nodes = append(m.nodes, en)
				m.corners = append(m.corners, nc)
			}
			m.leaves = append(m.leaves, t.Leaves...)
		}
		fs.endTree = len(m.trees)
		m.stages = append(m.stages, fs)
	}
	return m
}

// cornersOf gives the four table corners whose alternating sum c0-c1-c2+c3 is the rectangle's
// pixel sum (OpenCV's CV_SUM_OFS and CV_TILTED_OFFSETS).
func cornersOf(r Rect, tilted bool) (xs, ys [4]int) {
	if tilted {
		return [4]int{r.X, r.X - r.H, r.X + r.W, r.X + r.W - r.H},
			[4]int{r.Y, r.Y + r.H, r.Y + r.W, r.Y + r.W + r.H}
	}
	return [4]int{r.X, r.X + r.W, r.X, r.X + r.W}, [4]int{r.Y, r.Y, r.Y + r.H, r.Y + r.H}
}

// scanner is one worker's state: its copy of the model placed at the current stride, and
// reusable buffers, so that scanning allocates nothing per window or per level.
type scanner struct {
	m       model
	ii      integral
	resized []uint8
	taps    []bilinearTap
	norm    [4]int // corners of the variance-normalisation rectangle
	area    float64

	level       []uint8 // the current level's pixels (the image itself at scale 1)
	levelStride int
}

func newScanner(m *model) *scanner {
	s := &scanner{m: *m}
	s.m.nodes = append([]evalNode(nil), m.nodes...) // placed offsets are per worker
	return s
}

// place turns corner positions into offsets for integral tables of the given stride.
func (s *scanner) place(stride, tiltedBase int) {
	for i := range s.m.nodes {
		n, c := &s.m.nodes[i], &s.m.corners[i]
		base := 0
		if c.tilted {
			base = tiltedBase
		}
		for r := 0; r < c.n; r++ {
			for k := range 4 {
				n.ofs[r][k] = int32(base + c.x[r][k] + c.y[r][k]*stride)
			}
		}
	}
	// OpenCV normalises by the window shrunk by one pixel on each side.
	w, h := s.m.width, s.m.height
	s.norm = [4]int{1 + stride, w - 1 + stride, 1 + (h-1)*stride, w - 1 + (h-1)*stride}
	s.area = float64((w - 2) * (h - 2))
}

// scanLevel scans one pyramid level and appends accepted windows (in image pixels) to hits.
func (s *scanner) scanLevel(img *image.Gray, factor float32, hits []image.Rectangle) []image.Rectangle {
	sw, sh, ok := s.prepareLevel(img, factor)
	if !ok {
		return hits
	}
	ww, wh := s.m.width, s.m.height
	step := 2
	if factor >= 2 {
		step = 1
	}
	boxW := int(math.RoundToEven(float64(float32(ww) * factor)))
	boxH := int(math.RoundToEven(float64(float32(wh) * factor)))
	for y := 0; y < sh+1-wh; y += step {
		for x := 0; x < sw+1-ww; x += step {
			result := s.evaluate(y*s.ii.stride + x)
			if result > 0 {
				bx := int(math.RoundToEven(float64(float32(x) * factor)))
				by := int(math.RoundToEven(float64(float32(y) * factor)))
				hits = append(hits, image.Rect(bx, by, bx+boxW, by+boxH))
			}
			if result == 0 {
				x += step
			}
		}
	}
	return hits
}

// prepareLevel resizes img by 1/factor (OpenCV's rounding of the level size), builds the
// level's integral tables and places the model on them. It reports the level size, and false
// when the level is smaller than the window.
func (s *scanner) prepareLevel(img *image.Gray, factor float32) (sw, sh int, ok bool) {
	w, h := img.Rect.Dx(), img.Rect.Dy()
	sw = int(math.RoundToEven(float64(w) / float64(factor)))
	sh = int(math.RoundToEven(float64(h) / float64(factor)))
	if sw < s.m.width || sh < s.m.height {
		return sw, sh, false
	}
	pix, stride := img.Pix[img.PixOffset(img.Rect.Min.X, img.Rect.Min.Y):], img.Stride
	if sw != w || sh != h {
		if cap(s.resized) < sw*sh {
			s.resized = make([]uint8, sw*sh)
		}
		s.resized = s.resized[:sw*sh]
		resizeBilinear(s.resized, sw, sh, pix, w, h, stride, s.taps)
		pix, stride = s.resized, sw
	}
	s.level, s.levelStride = pix, stride
	s.ii.compute(pix, sw, sh, stride, s.m.tilted)
	s.place(s.ii.stride, len(s.ii.sum))
	return sw, sh, true
}

// evaluate runs the cascade on the window whose top-left table entry is at offset p. It returns
// 1 when every stage passes, -k when stage k rejects the window (0 for the first stage), and -1
// for a window too flat to hold a face (standard deviation of at most 10 grey levels).
func (s *scanner) evaluate(p int) int {
	invNorm, ok := invNormAt(&s.ii, p, &s.norm, s.area)
	if !ok {
		return -1
	}
	win := s.ii.tables[p:]
	m := &s.m
	for si := range m.stages {
		st := &m.stages[si]
		var stageSum float64
		if m.allStumps {
			// A stump's node index equals its tree index.
			stumps := m.nodes[st.firstTree:st.endTree]
			for i := range stumps {
				node := &stumps[i]
				// value, inlined by hand: this line is the detector's hot spot.
				v := node.weight[0]*rectSum(win, &node.ofs[0]) + node.weight[1]*rectSum(win, &node.ofs[1])
				if node.weight[2] != 0 {
					v += node.weight[2] * rectSum(win, &node.ofs[2])
				}
				// Indexing the leaves by the comparison (rather than branching on it) lets
				// the compiler emit a conditional move: the outcome is hard to predict.
				side := 1
				if v*invNorm < node.threshold {
					side = 0
				}
				stageSum += float64(node.leaves[side])
			}
		} else {
			for _, t := range m.trees[st.firstTree:st.endTree] {
				idx := int32(0)
				for {
					node := &m.nodes[t.firstNode+int(idx)]
					if node.value(win)*invNorm < node.threshold {
						idx = node.left
					} else {
						idx = node.right
					}
					if idx <= 0 {
						break
					}
				}
				stageSum += float64(m.leaves[t.firstLeaf-int(idx)])
			}
		}
		if stageSum < float64(st.threshold) {
			return -si
		}
	}
	return 1
}

// value is the node's raw feature value on the window whose tables start at win[0], summed in
// float32 in OpenCV's order so thresholds compare exactly as there.
func (n *evalNode) value(win []uint32) float32 {
	v := n.weight[0]*rectSum(win, &n.ofs[0]) + n.weight[1]*rectSum(win, &n.ofs[1])
	if n.weight[2] != 0 {
		v += n.weight[2] * rectSum(win, &n.ofs[2])
	}
	return v
}

func rectSum(win []uint32, o *[4]int32) float32 {
	return float32(int32(win[o[0]] - win[o[1]] - win[o[2]] + win[o[3]]))
}
