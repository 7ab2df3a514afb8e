package haar

import (
	"bytes"
	"image"
	"os"
	"path/filepath"
	"testing"
)

// FuzzRead feeds damaged cascade XML to Read: it must return a cascade that validates and
// detects without panicking, or an error; never panic. Seeds: a two-feature cascade in the
// current OpenCV layout (testdata/tiny-cascade.xml), one in the old layout, and the start of
// the embedded face cascade.
func FuzzRead(f *testing.F) {
	tiny, err := os.ReadFile(filepath.Join("testdata", "tiny-cascade.xml"))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(tiny)
	f.Add([]byte(oldLayout))
	f.Add(frontalFaceXML[:4096])
	img := image.NewGray(image.Rect(0, 0, 48, 40))
	for i := range img.Pix {
		img.Pix[i] = uint8(i * 37)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := Read(bytes.NewReader(data))
		if err != nil {
			return
		}
		if err := c.Validate(); err != nil {
			t.Fatalf("Read returned a cascade that does not validate: %v", err)
		}
		if _, err := c.Detect(img, Params{ScaleFactor: 1.5, MinSize: 8}); err != nil {
			t.Logf("detect: %v", err)
		}
	})
}
