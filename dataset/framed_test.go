package dataset

import (
	"fmt"
	"image"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/vgglab/vgg/dataset/framecache"
	"github.com/vgglab/vgg/vision"
)

// Issue 18 item 12 through the framing cache's path (issue 21): a Source that reads each
// photo's bytes to look them up in the cache still frames the full-size photos under the
// decoder's allowance, so however many workers load photos, those held at once add up to at
// most one pixel budget.
func TestSourceFramesWithinThePixelBudget(t *testing.T) {
	dir := t.TempDir()
	var paths []string
	for i := range 16 {
		p := filepath.Join(dir, fmt.Sprintf("%02d.png", i))
		img := image.NewRGBA(image.Rect(0, 0, 10, 10))
		img.Pix[0] = uint8(i) // distinct photos, distinct cache keys
		if err := vision.WritePNG(p, img); err != nil {
			t.Fatal(err)
		}
		paths = append(paths, p)
	}
	cache, err := framecache.Open(filepath.Join(t.TempDir(), "frames"))
	if err != nil {
		t.Fatal(err)
	}
	var held, most atomic.Int64
	frame := func(img image.Image) (image.Image, string, error) {
		n := held.Add(int64(img.Bounds().Dx() * img.Bounds().Dy()))
		for m := most.Load(); n > m && !most.CompareAndSwap(m, n); m = most.Load() {
		}
		time.Sleep(2 * time.Millisecond)
		held.Add(-int64(img.Bounds().Dx() * img.Bounds().Dy()))
		return img, "", nil
	}
	// Two photos of 100 pixels fit the budget of 250 at once, not three.
	src := NewSource(SourceOptions{Size: 8, Decoder: vision.Decoder{MaxPixels: 250}, Frame: frame, FrameID: "test", FrameCache: cache})
	var wg sync.WaitGroup
	for _, p := range paths {
		wg.Go(func() {
			if _, err := src.Image(p); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if m := most.Load(); m > 200 || m < 100 {
		t.Errorf("at most %d pixels were held at once, want 100 to 200 (the budget is 250)", m)
	}
}
