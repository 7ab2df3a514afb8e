package vision

import (
	"image"
	"image/color"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// Issue 18, item 12: however many goroutines load photos, the full-size photos held at once
// add up to at most one pixel budget, and the frame's error names the file.
func TestLoadFramedBoundsPhotosHeldAtOnce(t *testing.T) {
	path := filepath.Join(t.TempDir(), "p.png")
	if err := WritePNG(path, image.NewRGBA(image.Rect(0, 0, 10, 10))); err != nil {
		t.Fatal(err)
	}
	d := Decoder{MaxPixels: 250} // two photos of 100 pixels may be held at once, not three
	var held, most atomic.Int64
	var wg sync.WaitGroup
	for range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := LoadFramed(d, path, func(img image.Image) (int, error) {
				n := held.Add(int64(img.Bounds().Dx() * img.Bounds().Dy()))
				for m := most.Load(); n > m && !most.CompareAndSwap(m, n); m = most.Load() {
				}
				time.Sleep(2 * time.Millisecond)
				held.Add(-int64(img.Bounds().Dx() * img.Bounds().Dy()))
				return 0, nil
			})
			if err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if m := most.Load(); m > 200 || m < 100 {
		t.Errorf("at most %d pixels were held at once, want 100 to 200 (the budget is 250)", m)
	}
	_, err := LoadFramed(d, path, func(image.Image) (int, error) { return 0, ErrCorrupt })
	if err == nil || err.Error() != path+": "+ErrCorrupt.Error() {
		t.Errorf("frame error %v, want one naming %s", err, path)
	}
}

// Shrink averages whole blocks, and the partial blocks of the last row and column too.
func TestShrink(t *testing.T) {
	src := image.NewRGBA(image.Rect(0, 0, 5, 3))
	for y := range 3 {
		for x := range 5 {
			v := uint8(10*x + 100*y)
			src.SetRGBA(x, y, color.RGBA{v, v, 255 - v, 255})
		}
	}
	out := Shrink(src, 2)
	if out.Rect.Dx() != 3 || out.Rect.Dy() != 2 {
		t.Fatalf("shrunk to %v, want 3x2", out.Rect)
	}
	for _, c := range []struct {
		x, y int
		want uint8
	}{{0, 0, 55}, {1, 0, 75}, {2, 0, 90}, {0, 1, 205}, {2, 1, 240}} {
		if got := out.RGBAAt(c.x, c.y); got.R != c.want || got.A != 255 {
			t.Errorf("pixel (%d,%d) = %v, want red %d", c.x, c.y, got, c.want)
		}
	}
	if k := ShrinkFactor(7000, 7000, 2_000_000); k != 5 {
		t.Errorf("ShrinkFactor(7000, 7000, 2 MP) = %d, want 5 (1400x1400)", k)
	}
	if ToRGBA(src) != src {
		t.Error("ToRGBA copied an opaque RGBA photo")
	}
}
