package haar

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestReadStockCascades loads every cascade OpenCV ships (current and old layouts, stumps and
// trees, upright and tilted features) and checks a few known facts about them.
func TestReadStockCascades(t *testing.T) {
	stockCascade(t, "haarcascade_frontalface_default.xml") // skips when opencv-data is absent
	paths, _ := filepath.Glob(filepath.Join(stockDir, "*.xml"))
	for _, p := range paths {
		if _, err := LoadFile(p); err != nil {
			t.Errorf("%v", err)
		}
	}
	def := stockCascade(t, "haarcascade_frontalface_default.xml")
	if def.Width != 24 || def.Height != 24 || len(def.Stages) != 25 || len(def.Features) != 2913 {
		t.Errorf("frontalface_default: %dx%d, %d stages, %d features; want 24x24, 25, 2913",
			def.Width, def.Height, len(def.Stages), len(def.Features))
	}
	plate := stockCascade(t, "haarcascade_licence_plate_rus_16stages.xml") // the old layout
	if plate.Width != 64 || plate.Height != 16 || len(plate.Stages) != 16 {
		t.Errorf("licence plate: %dx%d with %d stages, want 64x16 with 16", plate.Width, plate.Height, len(plate.Stages))
	}
	if !stockCascade(t, "haarcascade_eye_tree_eyeglasses.xml").hasTilted() {
		t.Error("eye_tree_eyeglasses should have tilted features")
	}
}

// oldLayout is a two-stage cascade in opencv_haartraining's layout: a stump, then a two-node
// tree linked with right_node, one feature tilted.
const oldLayout = `<?xml version="1.0"?>
<opencv_storage>
<test_cascade type_id="opencv-haar-classifier">
  <size>20 20</size>
  <stages>
    <_>
      <!-- stage 0 -->
      <trees>
        <_>
          <_>
            <feature><rects><_>2 3 10 4 -1.</_><_>2 5 10 2 2.</_></rects><tilted>0</tilted></feature>
            <threshold>0.01</threshold>
            <left_val>-0.8</left_val>
            <right_val>0.9</right_val></_></_></trees>
      <stage_threshold>-0.5</stage_threshold>
      <parent>-1</parent>
      <next>-1</next></_>
    <_>
      <trees>
        <_>
          <_>
            <feature><rects><_>10 2 4 3 -1.</_><_>10 2 2 3 2.</_></rects><tilted>1</tilted></feature>
            <threshold>-0.02</threshold>
            <left_val>0.3</left_val>
            <right_node>1</right_node></_>
          <_>
            <feature><rects><_>0 0 6 6 -1.</_><_>0 0 3 3 2.</_><_>3 3 3 3 2.</_></rects><tilted>0</tilted></feature>
            <threshold>0.5</threshold>
            <left_val>-0.4</left_val>
            <right_val>0.7</right_val></_></_></trees>
      <stage_threshold>0.1</stage_threshold>
      <parent>0</parent>
      <next>-1</next></_></stages></test_cascade>
</opencv_storage>`

func TestReadOldLayout(t *testing.T) {
	c, err := Read(strings.NewReader(oldLayout))
	if err != nil {
		t.Fatal(err)
	}
	if c.Width != 20 || c.Height != 20 || len(c.Stages) != 2 || len(c.Features) != 3 {
		t.Fatalf("got %dx%d, %d stages, %d features", c.Width, c.Height, len(c.Stages), len(c.Features))
	}
	tree := c.Stages[1].Trees[0]
	want := []Node{{Feature: 1, Threshold: -0.02, Left: 0, Right: 1}, {Feature: 2, Threshold: 0.5, Left: -1, Right: -2}}
	if len(tree.Nodes) != 2 || tree.Nodes[0] != want[0] || tree.Nodes[1] != want[1] {
		t.Errorf("tree nodes %+v, want %+v", tree.Nodes, want)
	}
	if len(tree.Leaves) != 3 || tree.Leaves[0] != 0.3 || tree.Leaves[1] != -0.4 || tree.Leaves[2] != 0.7 {
		t.Errorf("tree leaves %v, want [0.3 -0.4 0.7]", tree.Leaves)
	}
	if !c.Features[1].Tilted || c.Features[2].Rects[2].R != (Rect{3, 3, 3, 3}) || c.Stages[1].Threshold != 0.1 {
		t.Errorf("features or thresholds misread: %+v", c.Features)
	}
}

// TestReadMalformed feeds broken cascades to the reader: each must give an error naming the
// problem, never a panic or a cascade that would crash the detector.
func TestReadMalformed(t *testing.T) {
	def := filepath.Join(stockDir, "haarcascade_frontalface_default.xml")
	stock, _ := os.ReadFile(def)
	cases := map[string]string{
		"empty":              "",
		"not xml":            "\x89PNG\r\n\x1a\n garbage",
		"other root":         "<html><body/></html>",
		"empty storage":      "<opencv_storage></opencv_storage>",
		"truncated":          oldLayout[:len(oldLayout)/2],
		"no size":            strings.Replace(oldLayout, "<size>20 20</size>", "", 1),
		"bad threshold":      strings.Replace(oldLayout, "<threshold>0.5</threshold>", "<threshold>abc</threshold>", 1),
		"rect outside":       strings.Replace(oldLayout, "0 0 6 6 -1.", "18 0 6 6 -1.", 1),
		"tilted outside":     strings.Replace(oldLayout, "10 2 4 3 -1.", "1 2 4 3 -1.", 1),
		"short rect":         strings.Replace(oldLayout, "0 0 6 6 -1.", "0 0 6 -1.", 1),
		"missing child":      strings.Replace(oldLayout, "<right_node>1</right_node>", "", 1),
		"child out of range": strings.Replace(oldLayout, "<right_node>1</right_node>", "<right_node>5</right_node>", 1),
		"tree of stages":     strings.Replace(oldLayout, "<parent>0</parent>", "<parent>-1</parent>", 1),
		"lbp": `<opencv_storage><cascade><stageType>BOOST</stageType><featureType>LBP</featureType>
			<width>24</width><height>24</height><stages/><features/></cascade></opencv_storage>`,
		"no stages": `<opencv_storage><cascade><width>24</width><height>24</height><stages/><features/></cascade></opencv_storage>`,
		"feature index": `<opencv_storage><cascade><width>24</width><height>24</height><stages><_>
			<stageThreshold>0</stageThreshold><weakClassifiers><_><internalNodes>0 -1 7 0.5</internalNodes>
			<leafValues>1 -1</leafValues></_></weakClassifiers></_></stages>
			<features><_><rects><_>0 0 2 2 1.</_></rects></_></features></cascade></opencv_storage>`,
		"leaf count": `<opencv_storage><cascade><width>24</width><height>24</height><stages><_>
			<stageThreshold>0</stageThreshold><weakClassifiers><_><internalNodes>0 -1 0 0.5</internalNodes>
			<leafValues>1</leafValues></_></weakClassifiers></_></stages>
			<features><_><rects><_>0 0 2 2 1.</_></rects></_></features></cascade></opencv_storage>`,
	}
	if len(stock) > 0 {
		cases["stock cut short"] = string(stock[:len(stock)*2/3])
	}
	for name, text := range cases {
		c, err := Read(strings.NewReader(text))
		t.Logf("%s: %v", name, err)
		if err == nil {
			t.Errorf("%s: no error (cascade %dx%d, %d stages)", name, c.Width, c.Height, len(c.Stages))
		}
	}
	if _, err := LoadFile("/nonexistent/cascade.xml"); err == nil || !strings.Contains(err.Error(), "/nonexistent/cascade.xml") {
		t.Errorf("missing file: error %v should name the file", err)
	}
}
