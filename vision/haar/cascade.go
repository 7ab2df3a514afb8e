package haar

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
)

// Rect is an axis-aligned rectangle in window pixels. For a tilted feature it is the 45°
// rotated rectangle whose top corner is (X, Y): it extends W pixels down-right and H pixels
// down-left, OpenCV's convention.
type Rect struct{ X, Y, W, H int }

// WeightedRect is one term of a Haar feature: weight times the pixel sum over R.
type WeightedRect struct {
	R      Rect
	Weight float32
}

// Feature is a Haar-like feature: a weighted sum of two or three rectangle sums. The detector
// divides it by the window's standard deviation times its area (variance normalisation), so
// one threshold works whatever the lighting.
type Feature struct {
	Rects  []WeightedRect
	Tilted bool
}

// Node is an internal node of a weak-classifier tree: it sends the window left when the
// normalised feature value is below Threshold, right otherwise. A child index > 0 names another
// node of the same tree; a child <= 0 names the leaf -child.
type Node struct {
	Feature     int
	Threshold   float32
	Left, Right int
}

// Tree is a weak classifier: a small decision tree (a stump has one node and two leaves) whose
// leaf value is added to the stage sum.
type Tree struct {
	Nodes  []Node
	Leaves []float32
}

// Stage is one boosted stage: a window passes when the sum of its trees' leaf values is at
// least Threshold.
type Stage struct {
	Threshold float32
	Trees     []Tree
}

// Cascade is a boosted cascade of Haar stages over a Width x Height detection window.
type Cascade struct {
	Width, Height int
	Stages        []Stage
	Features      []Feature
}

// hasTilted reports whether any feature needs the 45° integral image.
func (c *Cascade) hasTilted() bool {
	for _, f := range c.Features {
		if f.Tilted {
			return true
		}
	}
	return false
}

// Validate checks that the cascade is self-consistent: every feature rectangle lies inside the
// window, every node names an existing feature and child, every leaf is reachable. The XML
// reader calls it so that a malformed file is an error here rather than a crash mid-detection.
func (c *Cascade) Validate() error {
	if c.Width < 3 || c.Height < 3 || c.Width > 1000 || c.Height > 1000 {
		return fmt.Errorf("window size %dx%d out of range", c.Width, c.Height)
	}
	if len(c.Stages) == 0 {
		return fmt.Errorf("no stages")
	}
	for i, f := range c.Features {
		if len(f.Rects) < 1 || len(f.Rects) > 3 {
			return fmt.Errorf("feature %d has %d rectangles, want 1 to 3", i, len(f.Rects))
		}
		for _, wr := range f.Rects {
			if !rectInside(wr.R, f.Tilted, c.Width, c.Height) {
				return fmt.Errorf("feature %d rectangle %+v (tilted %v) leaves the %dx%d window", i, wr.R, f.Tilted, c.Width, c.Height)
			}
		}
	}
	for si, s := range c.Stages {
		if len(s.Trees) == 0 {
			return fmt.Errorf("stage %d has no weak classifiers", si)
		}
		for ti, t := range s.Trees {
			if err := t.validate(len(c.Features)); err != nil {
				return fmt.Errorf("stage %d tree %d: %v", si, ti, err)
			}
		}
	}
	return nil
}

func (t *Tree) validate(nFeatures int) error {
	if len(t.Nodes) == 0 {
		return fmt.Errorf("no nodes")
	}
	if len(t.Leaves) != len(t.Nodes)+1 {
		return fmt.Errorf("%d nodes need %d leaves, have %d", len(t.Nodes), len(t.Nodes)+1, len(t.Leaves))
	}
	for ni, n := range t.Nodes {
		if n.Feature < 0 || n.Feature >= nFeatures {
			return fmt.Errorf("node %d uses feature %d of %d", ni, n.Feature, nFeatures)
		}
		for _, child := range []int{n.Left, n.Right} {
			// A child node must come after its parent so evaluation cannot loop.
			if child > 0 && (child <= ni || child >= len(t.Nodes)) {
				return fmt.Errorf("node %d has child node %d out of order or range", ni, child)
			}
			if child <= 0 && -child >= len(t.Leaves) {
				return fmt.Errorf("node %d has leaf %d of %d", ni, -child, len(t.Leaves))
			}
		}
	}
	return nil
}

// rectInside reports whether r (upright or tilted) lies inside a w x h window.
func rectInside(r Rect, tilted bool, w, h int) bool {
	if r.W <= 0 || r.H <= 0 {
		return false
	}
	if !tilted {
		return r.X >= 0 && r.Y >= 0 && r.X+r.W <= w && r.Y+r.H <= h
	}
	// Corners of the tilted rectangle in integral-table coordinates (see CV_TILTED_OFFSETS).
	return r.X-r.H >= 0 && r.X+r.W <= w && r.Y >= 0 && r.Y+r.W+r.H <= h
}

// Fingerprint is a SHA-256 of the cascade's content (window, stages, features), in hex: two
// cascades that can find different boxes have different fingerprints, so it can stand for the
// cascade in a cache key.
func (c *Cascade) Fingerprint() string {
	// encoding/json writes the exported fields in declaration order and each float32 in its
	// shortest exact form, so the same cascade always gives the same bytes.
	data, err := json.Marshal(c)
	if err != nil {
		panic(fmt.Sprintf("haar: fingerprint: %v", err)) // plain data: cannot happen
	}
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:])
}
