package haar

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/vgglab/vgg/safefile"
)

// LoadFile reads an OpenCV Haar cascade XML file (see Read).
func LoadFile(path string) (*Cascade, error) {
	f, err := safefile.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	c, err := Read(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return c, nil
}

// Read parses an OpenCV Haar cascade in either of OpenCV's XML layouts: the current one
// written by opencv_traincascade (a <cascade> element with <stages>, <weakClassifiers> and a
// shared <features> list) or the old one written by opencv_haartraining (a
// type_id="opencv-haar-classifier" element with <size>, and <trees> whose nodes carry their
// feature inline). Anything else, or a cascade that does not hold together, is an error.
func Read(r io.Reader) (*Cascade, error) {
	root, err := parseXML(r)
	if err != nil {
		return nil, fmt.Errorf("not valid XML: %w", err)
	}
	if root.name != "opencv_storage" {
		return nil, fmt.Errorf("not an OpenCV storage file: root element is <%s>", root.name)
	}
	var c *Cascade
	switch top := root.firstChild(); {
	case top == nil:
		return nil, fmt.Errorf("empty <opencv_storage>")
	case top.child("stages") != nil && top.child("features") != nil:
		c, err = readCurrent(top)
	case top.child("stages") != nil && top.child("size") != nil:
		c, err = readOld(top)
	default:
		return nil, fmt.Errorf("<%s> is neither a current (<cascade>) nor an old (<trees>) Haar cascade", top.name)
	}
	if err != nil {
		return nil, err
	}
	if err := c.Validate(); err != nil {
		return nil, fmt.Errorf("invalid cascade: %w", err)
	}
	return c, nil
}

// readCurrent reads the opencv_traincascade layout.
func readCurrent(top *element) (*Cascade, error) {
	if t := top.child("stageType"); t != nil && t.text() != "BOOST" {
		return nil, fmt.Errorf("stageType %q, only BOOST is supported", t.text())
	}
	if t := top.child("featureType"); t != nil && t.text() != "HAAR" {
		return nil, fmt.Errorf("featureType %q, only HAAR is supported (not LBP or HOG)", t.text())
	}
	c := &Cascade{}
	var err error
	if c.Width, err = top.intChild("width"); err != nil {
		return nil, err
	}
	if c.Height, err = top.intChild("height"); err != nil {
		return nil, err
	}
	for si, st := range top.child("stages").children {
		thr, err := st.floatChild("stageThreshold")
		if err != nil {
			return nil, fmt.Errorf("stage %d: %w", si, err)
		}
		stage := Stage{Threshold: thr}
		weak := st.child("weakClassifiers")
		if weak == nil {
			return nil, fmt.Errorf("stage %d: no <weakClassifiers>", si)
		}
		for ti, wc := range weak.children {
			tree, err := readCurrentTree(wc)
			if err != nil {
				return nil, fmt.Errorf("stage %d tree %d: %w", si, ti, err)
			}
			stage.Trees = append(stage.Trees, tree)
		}
		c.Stages = append(c.Stages, stage)
	}
	for fi, fe := range top.child("features").children {
		f, err := readFeature(fe)
		if err != nil {
			return nil, fmt.Errorf("feature %d: %w", fi, err)
		}
		c.Features = append(c.Features, f)
	}
	return c, nil
}

// readCurrentTree reads <internalNodes> (left right feature threshold, four numbers a node) and
// <leafValues>.
func readCurrentTree(wc *element) (Tree, error) {
	in, lv := wc.child("internalNodes"), wc.child("leafValues")
	if in == nil || lv == nil {
		return Tree{}, fmt.Errorf("needs <internalNodes> and <leafValues>")
	}
	nums, err := parseFloats(in.text())
	if err != nil {
		return Tree{}, fmt.Errorf("internalNodes: %w", err)
	}
	if len(nums) == 0 || len(nums)%4 != 0 {
		return Tree{}, fmt.Errorf("internalNodes has %d numbers, want a multiple of 4", len(nums))
	}
	var t Tree
	for i := 0; i < len(nums); i += 4 {
		left, right, feat := nums[i], nums[i+1], nums[i+2]
		if !isInt(left) || !isInt(right) || !isInt(feat) {
			return Tree{}, fmt.Errorf("internalNodes: node %d has non-integer indices", i/4)
		}
		t.Nodes = append(t.Nodes, Node{Left: int(left), Right: int(right), Feature: int(feat), Threshold: float32(nums[i+3])})
	}
	leaves, err := parseFloats(lv.text())
	if err != nil {
		return Tree{}, fmt.Errorf("leafValues: %w", err)
	}
	for _, v := range leaves {
		t.Leaves = append(t.Leaves, float32(v))
	}
	return t, nil
}

// readFeature reads <rects> (x y w h weight per rectangle) and the optional <tilted>.
func readFeature(fe *element) (Feature, error) {
	rects := fe.child("rects")
	if rects == nil {
		return Feature{}, fmt.Errorf("no <rects>")
	}
	var f Feature
	for _, re := range rects.children {
		v, err := parseFloats(re.text())
		if err != nil {
			return Feature{}, err
		}
		if len(v) != 5 || !isInt(v[0]) || !isInt(v[1]) || !isInt(v[2]) || !isInt(v[3]) {
			return Feature{}, fmt.Errorf("rectangle %q is not 'x y w h weight'", re.text())
		}
		f.Rects = append(f.Rects, WeightedRect{R: Rect{int(v[0]), int(v[1]), int(v[2]), int(v[3])}, Weight: float32(v[4])})
	}
	if t := fe.child("tilted"); t != nil {
		f.Tilted = t.text() != "0"
	}
	return f, nil
}

// readOld reads the opencv_haartraining layout: stages of <trees>, each tree a list of nodes
// with an inline <feature>, a <threshold> and either <left_val>/<right_val> leaves or
// <left_node>/<right_node> links. Only a plain chain of stages is supported (parent = previous
// stage), not the rarely used tree-of-stages form.
func readOld(top *element) (*Cascade, error) {
	size, err := parseFloats(top.child("size").text())
	if err != nil || len(size) != 2 {
		return nil, fmt.Errorf("<size> must hold 'width height'")
	}
	c := &Cascade{Width: int(size[0]), Height: int(size[1])}
	for si, st := range top.child("stages").children {
		if p := st.child("parent"); p != nil {
			if parent, err := strconv.Atoi(p.text()); err != nil || parent != si-1 {
				return nil, fmt.Errorf("stage %d: parent %q, only a linear chain of stages is supported", si, p.text())
			}
		}
		thr, err := st.floatChild("stage_threshold")
		if err != nil {
			return nil, fmt.Errorf("stage %d: %w", si, err)
		}
		stage := Stage{Threshold: thr}
		trees := st.child("trees")
		if trees == nil {
			return nil, fmt.Errorf("stage %d: no <trees>", si)
		}
		for ti, te := range trees.children {
			tree, err := readOldTree(te, c)
			if err != nil {
				return nil, fmt.Errorf("stage %d tree %d: %w", si, ti, err)
			}
			stage.Trees = append(stage.Trees, tree)
		}
		c.Stages = append(c.Stages, stage)
	}
	return c, nil
}

// readOldTree converts one old-layout tree, appending its features to c.Features.
func readOldTree(te *element, c *Cascade) (Tree, error) {
	var t Tree
	for ni, ne := range te.children {
		fe := ne.child("feature")
		if fe == nil {
			return Tree{}, fmt.Errorf("node %d: no <feature>", ni)
		}
		f, err := readFeature(fe)
		if err != nil {
			return Tree{}, fmt.Errorf("node %d feature: %w", ni, err)
		}
		c.Features = append(c.Features, f)
		thr, err := ne.floatChild("threshold")
		if err != nil {
			return Tree{}, fmt.Errorf("node %d: %w", ni, err)
		}
		node := Node{Feature: len(c.Features) - 1, Threshold: thr}
		for _, side := range []struct {
			child *int
			name  string
		}{{&node.Left, "left"}, {&node.Right, "right"}} {
			if ve := ne.child(side.name + "_val"); ve != nil {
				v, err := strconv.ParseFloat(ve.text(), 32)
				if err != nil {
					return Tree{}, fmt.Errorf("node %d: %s_val %q", ni, side.name, ve.text())
				}
				*side.child = -len(t.Leaves)
				t.Leaves = append(t.Leaves, float32(v))
			} else if le := ne.child(side.name + "_node"); le != nil {
				k, err := strconv.Atoi(le.text())
				if err != nil || k <= 0 {
					return Tree{}, fmt.Errorf("node %d: %s_node %q", ni, side.name, le.text())
				}
				*side.child = k
			} else {
				return Tree{}, fmt.Errorf("node %d: neither %s_val nor %s_node", ni, side.name, side.name)
			}
		}
		t.Nodes = append(t.Nodes, node)
	}
	return t, nil
}

// element is a parsed XML element: enough of a DOM to walk OpenCV's storage format.
type element struct {
	name     string
	chars    []byte
	children []*element
}

func (e *element) text() string { return strings.TrimSpace(string(e.chars)) }

func (e *element) firstChild() *element {
	if len(e.children) == 0 {
		return nil
	}
	return e.children[0]
}

func (e *element) child(name string) *element {
	for _, c := range e.children {
		if c.name == name {
			return c
		}
	}
	return nil
}

func (e *element) intChild(name string) (int, error) {
	c := e.child(name)
	if c == nil {
		return 0, fmt.Errorf("<%s> missing in <%s>", name, e.name)
	}
	v, err := strconv.Atoi(c.text())
	if err != nil {
		return 0, fmt.Errorf("<%s> %q is not an integer", name, c.text())
	}
	return v, nil
}

func (e *element) floatChild(name string) (float32, error) {
	c := e.child(name)
	if c == nil {
		return 0, fmt.Errorf("<%s> missing in <%s>", name, e.name)
	}
	v, err := strconv.ParseFloat(c.text(), 32)
	if err != nil {
		return 0, fmt.Errorf("<%s> %q is not a number", name, c.text())
	}
	return float32(v), nil
}

// parseXML reads the whole document into an element tree (comments dropped).
func parseXML(r io.Reader) (*element, error) {
	d := xml.NewDecoder(r)
	// OpenCV files declare ASCII-compatible encodings; the numbers and tags are plain ASCII.
	d.CharsetReader = func(_ string, in io.Reader) (io.Reader, error) { return in, nil }
	var stack []*element
	var root *element
	for {
		tok, err := d.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, err
		}
		switch t := tok.(type) {
		case xml.StartElement:
			e := &element{name: t.Name.Local}
			if len(stack) > 0 {
				parent := stack[len(stack)-1]
				parent.children = append(parent.children, e)
			} else if root == nil {
				root = e
			}
			stack = append(stack, e)
		case xml.EndElement:
			stack = stack[:len(stack)-1]
		case xml.CharData:
			if len(stack) > 0 {
				top := stack[len(stack)-1]
				top.chars = append(top.chars, bytes.TrimSpace(t)...)
				top.chars = append(top.chars, ' ')
			}
		}
	}
	if root == nil {
		return nil, fmt.Errorf("no root element")
	}
	if len(stack) != 0 {
		return nil, fmt.Errorf("unexpected end of file inside <%s>", stack[len(stack)-1].name)
	}
	return root, nil
}

func parseFloats(s string) ([]float64, error) {
	fields := strings.Fields(s)
	out := make([]float64, len(fields))
	for i, f := range fields {
		v, err := strconv.ParseFloat(f, 64)
		if err != nil {
			return nil, fmt.Errorf("%q is not a number", f)
		}
		out[i] = v
	}
	return out, nil
}

func isInt(v float64) bool { return v == float64(int(v)) && v > -1e9 && v < 1e9 }
