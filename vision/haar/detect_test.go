package haar

import (
	"fmt"
	"image"
	"strings"
	"testing"
)

// openCVBoxes are the boxes (x, y, w, h, neighbours) OpenCV 4.6's CascadeClassifier returned
// with scale 1.1 and min size 20 on the dlib_train photos as Go decodes them (grey images
// written to PNG by this package's Grey and read back with cv2.imread(path, 0)), recorded with
// Debian bookworm's python3-opencv. frontalface_default used 3 neighbours, the others 1.
var openCVBoxes = map[string]map[string][][5]int{
	"haarcascade_frontalface_default.xml": {
		"2007_007763.jpg": {{295, 76, 56, 56, 5}, {384, 78, 60, 60, 4}, {196, 94, 34, 34, 11}, {160, 117, 34, 34, 27}, {92, 192, 42, 42, 26}, {178, 214, 36, 36, 12}},
		"2008_001009.jpg": {{143, 75, 82, 82, 57}, {125, 205, 88, 88, 78}},
		"2008_001322.jpg": {{97, 148, 91, 91, 58}, {348, 148, 98, 98, 4}, {224, 205, 76, 76, 92}},
		"2008_002079.jpg": {{324, 89, 67, 67, 5}, {43, 123, 50, 50, 7}, {348, 136, 33, 33, 8}, {404, 161, 44, 44, 34}, {432, 164, 58, 58, 29}, {23, 182, 61, 61, 54}},
	},
	"haarcascade_eye_tree_eyeglasses.xml": { // trees and tilted features
		"2007_007763.jpg": {},
		"2008_002079.jpg": {},
		"2008_001009.jpg": {{173, 221, 23, 23, 2}},
		"2008_001322.jpg": {{115, 170, 21, 21, 2}, {363, 178, 22, 22, 4}},
	},
	"haarcascade_frontalface_alt_tree.xml": {
		"2007_007763.jpg": {{158, 119, 32, 32, 3}, {93, 194, 37, 37, 5}},
		"2008_002079.jpg": {},
		"2008_001009.jpg": {},
		"2008_001322.jpg": {{225, 208, 75, 75, 7}},
	},
	"haarcascade_upperbody.xml": { // a non-square window and tilted features
		"2007_007763.jpg": {{174, 17, 61, 50, 5}, {252, 92, 47, 39, 2}, {422, 106, 50, 40, 2}},
		"2008_002079.jpg": {{203, 11, 179, 147, 5}, {258, 44, 100, 82, 6}, {404, 137, 47, 39, 2}, {22, 233, 88, 72, 2}},
		"2008_001009.jpg": {},
		"2008_001322.jpg": {{76, 84, 116, 96, 2}, {205, 148, 123, 100, 3}},
	},
	"haarcascade_eye.xml": {
		"2007_007763.jpg": {},
		"2008_002079.jpg": {},
		"2008_001009.jpg": {{49, 59, 79, 79, 3}, {53, 112, 50, 50, 2}, {171, 221, 24, 24, 9}, {139, 229, 23, 23, 13}, {106, 449, 21, 21, 4}},
		"2008_001322.jpg": {{319, 64, 26, 26, 2}, {348, 164, 45, 45, 2}, {115, 168, 23, 23, 3}, {148, 172, 23, 23, 10}, {397, 172, 21, 21, 6}, {236, 220, 23, 23, 5}},
	},
}

// TestMatchesOpenCV runs OpenCV's own cascades through our reader and detector and demands
// OpenCV's boxes: same count, each corner within 2 px, same neighbour count within 2.
func TestMatchesOpenCV(t *testing.T) {
	photos := dlibPhotos(t)
	for name, want := range openCVBoxes {
		c := stockCascade(t, name)
		p := Params{ScaleFactor: 1.1, MinNeighbors: 1, MinSize: 20}
		if strings.Contains(name, "default") {
			p.MinNeighbors = 3
		}
		for _, photo := range photos {
			got, err := c.Detect(Grey(photo.img), p)
			if err != nil {
				t.Fatal(err)
			}
			if msg := compareBoxes(got, want[photo.name]); msg != "" {
				t.Errorf("%s on %s: %s", name, photo.name, msg)
			}
		}
	}
}

func compareBoxes(got []Detection, want [][5]int) string {
	if len(got) != len(want) {
		return fmt.Sprintf("%d boxes, OpenCV found %d: got %v", len(got), len(want), got)
	}
	near := func(a, b int) bool { return a-b <= 2 && b-a <= 2 }
	for _, w := range want {
		found := false
		for _, g := range got {
			b := g.Box
			if near(b.Min.X, w[0]) && near(b.Min.Y, w[1]) && near(b.Dx(), w[2]) && near(b.Dy(), w[3]) && near(g.Neighbors, w[4]) {
				found = true
			}
		}
		if !found {
			return fmt.Sprintf("no match for OpenCV's %v in %v", w, got)
		}
	}
	return ""
}

// TestDetectBadInput checks degenerate images and parameters: no panic, a clear error for
// nonsense parameters, and simply no faces for images too small or too flat to hold one.
func TestDetectBadInput(t *testing.T) {
	c, err := Read(strings.NewReader(oldLayout))
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range []image.Rectangle{image.Rect(0, 0, 0, 0), image.Rect(0, 0, 1, 1), image.Rect(0, 0, 19, 300), image.Rect(0, 0, 300, 19)} {
		if got, err := c.Detect(image.NewGray(r), DefaultParams()); err != nil || len(got) != 0 {
			t.Errorf("%v image: %v, %v; want no faces and no error", r, got, err)
		}
	}
	flat := image.NewGray(image.Rect(0, 0, 200, 150))
	for i := range flat.Pix {
		flat.Pix[i] = 128
	}
	if got, err := c.Detect(flat, Params{ScaleFactor: 1.1}); err != nil || len(got) != 0 {
		t.Errorf("uniform grey image: %v, %v; want nothing (flat windows are rejected)", got, err)
	}
	for _, p := range []Params{{}, {ScaleFactor: 1}, {ScaleFactor: 1.1, MinNeighbors: -1}, {ScaleFactor: 1.1, MinSize: -5}} {
		if _, err := c.Detect(flat, p); err == nil {
			t.Errorf("params %+v: no error", p)
		}
	}
}

// TestGroupRectangles checks OpenCV's grouping on a hand-made set: a tight cluster of four hits
// becomes one averaged box with 4 neighbours, a lone hit is dropped, and a small supported
// group inside a bigger, better-supported one is suppressed.
func TestGroupRectangles(t *testing.T) {
	r := func(x, y, s int) image.Rectangle { return image.Rect(x, y, x+s, y+s) }
	hits := []image.Rectangle{
		r(100, 100, 40), r(102, 101, 40), r(99, 98, 42), r(101, 100, 38), // one face
		r(300, 300, 30),                                                             // a lone false hit
		r(10, 10, 100), r(11, 10, 100), r(10, 12, 102), r(12, 11, 98), r(9, 9, 100), // big face
		r(40, 40, 30), r(41, 40, 30), // small group inside the big face
	}
	got, counts := GroupRectangles(hits, 1, 0.2)
	want := []image.Rectangle{r(100, 100, 40), r(10, 10, 100)}
	if len(got) != 2 || got[0] != want[0] || got[1] != want[1] || counts[0] != 4 || counts[1] != 5 {
		t.Errorf("got %v %v, want %v [4 5]", got, counts, want)
	}
	raw, _ := GroupRectangles(hits, 0, 0.2)
	if len(raw) != len(hits) {
		t.Errorf("min neighbours 0 should keep all %d hits, got %d", len(hits), len(raw))
	}
}

// TestDetectSubImage checks that a sub-image (non-zero origin) is scanned where it lies and
// its faces are reported in its own (the parent photo's) coordinates.
func TestDetectSubImage(t *testing.T) {
	photos := dlibPhotos(t)
	c := stockCascade(t, "haarcascade_frontalface_default.xml")
	g := Grey(photos[0].img)
	crop := image.Rect(60, 50, g.Rect.Dx(), g.Rect.Dy())
	sub := g.SubImage(crop).(*image.Gray)
	whole, _ := c.Detect(Grey(sub), DefaultParams()) // Grey copies to the origin
	direct, err := c.Detect(sub, DefaultParams())
	if err != nil || len(whole) == 0 || len(direct) != len(whole) {
		t.Fatalf("sub-image: %v (err %v), copied: %v", direct, err, whole)
	}
	for i := range whole {
		if want := (Detection{whole[i].Box.Add(crop.Min), whole[i].Neighbors}); direct[i] != want {
			t.Errorf("sub-image face %v, want %v", direct[i], want)
		}
	}
}
