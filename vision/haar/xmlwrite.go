package haar

import (
	"bufio"
	"fmt"
	"io"
	"strconv"

	"github.com/vgglab/vgg/vision"
)

// Write stores the cascade in the current OpenCV layout (as opencv_traincascade writes it), so
// OpenCV's CascadeClassifier, this package's Read, and any other OpenCV-compatible tool can
// load it. Numbers are written with full float32 precision, so reading it back gives the
// identical cascade.
func (c *Cascade) Write(w io.Writer) error {
	bw := bufio.NewWriter(w)
	p := func(format string, args ...any) { fmt.Fprintf(bw, format, args...) }
	num := func(v float32) string { return strconv.FormatFloat(float64(v), 'e', -1, 32) }
	maxWeak, maxDepth, tilted := 0, 1, false
	for _, s := range c.Stages {
		maxWeak = max(maxWeak, len(s.Trees))
		for _, t := range s.Trees {
			maxDepth = max(maxDepth, len(t.Nodes))
		}
	}
	for _, f := range c.Features {
		tilted = tilted || f.Tilted
	}
	mode := "BASIC"
	if tilted {
		mode = "ALL"
	}
	p("<?xml version=\"1.0\"?>\n<opencv_storage>\n<cascade>\n")
	p("  <stageType>BOOST</stageType>\n  <featureType>HAAR</featureType>\n")
	p("  <height>%d</height>\n  <width>%d</width>\n", c.Height, c.Width)
	p("  <stageParams>\n    <boostType>GAB</boostType>\n    <minHitRate>0.995</minHitRate>\n")
	p("    <maxFalseAlarm>0.5</maxFalseAlarm>\n    <weightTrimRate>1</weightTrimRate>\n")
	p("    <maxDepth>%d</maxDepth>\n    <maxWeakCount>%d</maxWeakCount></stageParams>\n", maxDepth, maxWeak)
	p("  <featureParams>\n    <maxCatCount>0</maxCatCount>\n    <featSize>1</featSize>\n    <mode>%s</mode></featureParams>\n", mode)
	p("  <stageNum>%d</stageNum>\n  <stages>\n", len(c.Stages))
	for i, s := range c.Stages {
		p("    <!-- stage %d -->\n    <_>\n      <maxWeakCount>%d</maxWeakCount>\n", i, len(s.Trees))
		p("      <stageThreshold>%s</stageThreshold>\n      <weakClassifiers>\n", num(s.Threshold))
		for _, t := range s.Trees {
			p("        <_>\n          <internalNodes>\n           ")
			for _, n := range t.Nodes {
				p(" %d %d %d %s", n.Left, n.Right, n.Feature, num(n.Threshold))
			}
			p("</internalNodes>\n          <leafValues>\n           ")
			for _, l := range t.Leaves {
				p(" %s", num(l))
			}
			p("</leafValues></_>\n")
		}
		p("      </weakClassifiers></_>\n")
	}
	p("  </stages>\n  <features>\n")
	for _, f := range c.Features {
		p("    <_>\n      <rects>\n")
		for _, r := range f.Rects {
			p("        <_>\n          %d %d %d %d %s</_>\n", r.R.X, r.R.Y, r.R.W, r.R.H, num(r.Weight))
		}
		p("      </rects>\n")
		if f.Tilted {
			p("      <tilted>1</tilted>\n")
		}
		p("    </_>\n")
	}
	p("  </features>\n</cascade>\n</opencv_storage>\n")
	return bw.Flush()
}

// SaveFile writes the cascade to path atomically (see vision.WriteAtomic): a failed write
// never leaves half a cascade.
func (c *Cascade) SaveFile(path string) error { return vision.WriteAtomic(path, c.Write) }
