package haar

import (
	"bufio"
	"image"
	_ "image/jpeg"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// stockDir is where Debian's opencv-data package installs OpenCV's cascades.
const stockDir = "/usr/share/opencv4/haarcascades"

// stockCascade loads one of OpenCV's own cascades, skipping the test when opencv-data is absent.
func stockCascade(tb testing.TB, name string) *Cascade {
	tb.Helper()
	path := filepath.Join(stockDir, name)
	if _, err := os.Stat(path); err != nil {
		tb.Skipf("OpenCV cascade %s not installed (apt-get install opencv-data)", path)
	}
	c, err := LoadFile(path)
	if err != nil {
		tb.Fatal(err)
	}
	return c
}

// facesDir is the shared real-data folder named by VGG_FACES; tests that need it skip without it.
func facesDir(tb testing.TB) string {
	tb.Helper()
	dir := os.Getenv("VGG_FACES")
	if dir == "" {
		tb.Skip("VGG_FACES not set: real-photo checks skipped")
	}
	return dir
}

// dlibPhoto is one dlib_train group photo with its annotated face boxes.
type dlibPhoto struct {
	name  string
	img   image.Image
	faces []image.Rectangle
}

// dlibPhotos reads the dlib_train photos and boxes_xywh.txt.
func dlibPhotos(tb testing.TB) []dlibPhoto {
	tb.Helper()
	dir := filepath.Join(facesDir(tb), "dlib_train")
	f, err := os.Open(filepath.Join(dir, "boxes_xywh.txt"))
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	var photos []dlibPhoto
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
			img := decodeFile(tb, filepath.Join(dir, fields[1]))
			i = len(photos)
			index[fields[1]] = i
			photos = append(photos, dlibPhoto{name: fields[1], img: img})
		}
		photos[i].faces = append(photos[i].faces, image.Rect(v[0], v[1], v[0]+v[2], v[1]+v[3]))
	}
	return photos
}

func decodeFile(tb testing.TB, path string) image.Image {
	tb.Helper()
	f, err := os.Open(path)
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	img, _, err := image.Decode(f)
	if err != nil {
		tb.Fatalf("%s: %v", path, err)
	}
	return img
}
