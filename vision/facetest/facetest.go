// Package facetest reads the shared real face data (VGG_FACES, see /work/shared/faces's
// README) for tests and recipes, and splits it into the photos that training recipes may use
// and the photos they must leave out for measurement. Tests that call it skip cleanly when
// VGG_FACES is not set.
package facetest

import (
	"bufio"
	"bytes"
	"encoding/xml"
	"image"
	"io"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/vgglab/vgg/vision"
	"github.com/vgglab/vgg/vision/haar"
)

// Dir is the shared real-data folder named by VGG_FACES; a test that needs it skips without it.
func Dir(tb testing.TB) string {
	tb.Helper()
	dir := os.Getenv("VGG_FACES")
	if dir == "" {
		tb.Skip("VGG_FACES not set: real-photo checks skipped")
	}
	return dir
}

// Photo is one photo with its annotated faces (none known for a celebs60 photo: its face is
// LFWFace).
type Photo struct {
	Path  string
	Img   image.Image
	Faces []image.Rectangle
	// HeldOut marks the photos no recipe trains or tunes on: measurements use them.
	HeldOut bool
}

// DlibHeldOut are the dlib_train photos recipes leave out: the two larger group photos, 13 of
// the 18 faces.
var DlibHeldOut = map[string]bool{"2007_007763.jpg": true, "2008_002079.jpg": true}

// Dlib reads the dlib_train group photos and their face boxes (boxes_xywh.txt), in file order.
func Dlib(tb testing.TB) []Photo {
	tb.Helper()
	dir := filepath.Join(Dir(tb), "dlib_train")
	f, err := os.Open(filepath.Join(dir, "boxes_xywh.txt"))
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	var photos []Photo
	index := map[string]int{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) != 6 || strings.HasPrefix(fields[0], "#") {
			continue
		}
		var v [4]int
		for i := range v {
			if v[i], err = strconv.Atoi(fields[2+i]); err != nil {
				tb.Fatalf("boxes_xywh.txt: %q", sc.Text())
			}
		}
		i, ok := index[fields[1]]
		if !ok {
			path := filepath.Join(dir, fields[1])
			i = len(photos)
			index[fields[1]] = i
			photos = append(photos, Photo{Path: path, Img: Load(tb, path), HeldOut: DlibHeldOut[fields[1]]})
		}
		photos[i].Faces = append(photos[i].Faces, image.Rect(v[0], v[1], v[0]+v[2], v[1]+v[3]))
	}
	return photos
}

// LFWFace is where the face of a celebs60 LFW photo (250x250, "deep funneled") is: centred,
// as the face cascade frames it.
var LFWFace = image.Rect(80, 84, 172, 176)

// LFW reads celebs60's 250x250 LFW photos (the 21 identities that have them), each with its
// face (LFWFace). Every fourth photo of each identity, in name order, is held out.
func LFW(tb testing.TB) []Photo { return celebs(tb, 250) }

// Aligned reads celebs60's 112x112 ArcFace-aligned photos, held out as LFW's are.
func Aligned(tb testing.TB) []Photo { return celebs(tb, 112) }

// celebs reads the celebs60 photos that are side x side pixels.
func celebs(tb testing.TB, side int) []Photo {
	tb.Helper()
	dirs, err := filepath.Glob(filepath.Join(Dir(tb), "celebs60", "*"))
	if err != nil || len(dirs) == 0 {
		tb.Fatalf("no celebs60 identities under %s", Dir(tb))
	}
	sort.Strings(dirs)
	var photos []Photo
	for _, d := range dirs {
		paths, _ := filepath.Glob(filepath.Join(d, "*.jpg"))
		sort.Strings(paths)
		n := 0
		for _, p := range paths {
			img := Load(tb, p)
			if img.Bounds().Dx() != side || img.Bounds().Dy() != side {
				break // an identity's photos all come from one source
			}
			ph := Photo{Path: p, Img: img, HeldOut: n%4 == 3}
			if side == 250 {
				ph.Faces = []image.Rectangle{LFWFace}
			}
			photos = append(photos, ph)
			n++
		}
	}
	return photos
}

// Load decodes an image file or fails the test.
func Load(tb testing.TB, path string) image.Image {
	tb.Helper()
	img, err := vision.Load(path)
	if err != nil {
		tb.Fatal(err)
	}
	return img
}

// Match pairs found boxes with true faces one to one (greedily, the best overlap first for
// each face, IoU at least 0.3 to count) and returns how many faces were found and how many
// boxes matched none (false or extra boxes).
func Match(found, truth []image.Rectangle) (faces, extra int) {
	used := make([]bool, len(found))
	for _, t := range truth {
		best, bestIoU := -1, 0.3
		for i, f := range found {
			if o := haar.IoU(f, t); !used[i] && o >= bestIoU {
				best, bestIoU = i, o
			}
		}
		if best >= 0 {
			used[best] = true
			faces++
		}
	}
	return faces, len(found) - faces
}

// LandmarkFace is one face of dlib_train's landmarks68.xml: its box (dlib's framing, lower
// and looser than the Haar cascade's) and its eye centres, each the mean of the eye's six
// landmarks in continuous coordinates, the eye on the picture's left first.
type LandmarkFace struct {
	Photo string // the file's name in dlib_train
	Box   image.Rectangle
	Eyes  [2][2]float64
}

// DlibLandmarks reads dlib_train's landmarks68.xml (iBUG numbering: points 36-41 are the
// subject's right eye, on the picture's left; 42-47 the left eye), in file order.
func DlibLandmarks(tb testing.TB) []LandmarkFace {
	tb.Helper()
	data, err := os.ReadFile(filepath.Join(Dir(tb), "dlib_train", "landmarks68.xml"))
	if err != nil {
		tb.Fatal(err)
	}
	var doc struct {
		Images []struct {
			File  string `xml:"file,attr"`
			Boxes []struct {
				Top    int `xml:"top,attr"`
				Left   int `xml:"left,attr"`
				Width  int `xml:"width,attr"`
				Height int `xml:"height,attr"`
				Parts  []struct {
					Name string  `xml:"name,attr"`
					X    float64 `xml:"x,attr"`
					Y    float64 `xml:"y,attr"`
				} `xml:"part"`
			} `xml:"box"`
		} `xml:"images>image"`
	}
	d := xml.NewDecoder(bytes.NewReader(data))
	d.CharsetReader = func(_ string, r io.Reader) (io.Reader, error) { return r, nil }
	if err := d.Decode(&doc); err != nil {
		tb.Fatalf("landmarks68.xml: %v", err)
	}
	var faces []LandmarkFace
	for _, im := range doc.Images {
		for _, b := range im.Boxes {
			f := LandmarkFace{Photo: im.File, Box: image.Rect(b.Left, b.Top, b.Left+b.Width, b.Top+b.Height)}
			for _, p := range b.Parts {
				n, err := strconv.Atoi(p.Name)
				if err != nil {
					tb.Fatalf("landmarks68.xml: part %q", p.Name)
				}
				eye := -1
				switch {
				case n >= 36 && n <= 41:
					eye = 0
				case n >= 42 && n <= 47:
					eye = 1
				}
				if eye >= 0 {
					// Landmarks are pixel indices; +0.5 puts them at pixel centres.
					f.Eyes[eye][0] += (p.X + 0.5) / 6
					f.Eyes[eye][1] += (p.Y + 0.5) / 6
				}
			}
			faces = append(faces, f)
		}
	}
	return faces
}

// EyeError is how far found eyes are from true ones: the larger of the two eyes' distances, as
// a share of the true distance between the eyes (issue 13's measure: within 0.1 counts).
func EyeError(found, truth [2][2]float64) float64 {
	iod := math.Hypot(truth[1][0]-truth[0][0], truth[1][1]-truth[0][1])
	e0 := math.Hypot(found[0][0]-truth[0][0], found[0][1]-truth[0][1])
	e1 := math.Hypot(found[1][0]-truth[1][0], found[1][1]-truth[1][1])
	return max(e0, e1) / iod
}

// ArcFaceEyes are the eye centres of celebs60's 112x112 ArcFace-aligned photos, in continuous
// coordinates: the ArcFace template's (38.29, 51.70) and (73.53, 51.50), pixel indices, plus
// half a pixel.
var ArcFaceEyes = [2][2]float64{{38.29 + 0.5, 51.70 + 0.5}, {73.53 + 0.5, 51.50 + 0.5}}

// EnvInt is the positive whole number in the environment variable name, or def when it is unset
// or not one: a recipe's knob (epochs, steps) for a shorter trial run.
func EnvInt(name string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(name)); err == nil && v > 0 {
		return v
	}
	return def
}
