package haar

import (
	"math/rand/v2"
	"testing"
)

// TestIntegralTablesMatchBruteForce checks every entry of the sum, squared-sum and 45° tables
// against their definitions on random images of odd sizes, including wide and tall ones where
// the tilted triangles run off the image edge.
func TestIntegralTablesMatchBruteForce(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, size := range [][2]int{{1, 1}, {7, 3}, {3, 9}, {13, 11}, {24, 24}} {
		w, h := size[0], size[1]
		stride := w + 2 // a padded source row, as in a sub-image
		pix := make([]uint8, stride*h)
		for i := range pix {
			pix[i] = uint8(rng.IntN(256))
		}
		var ii integral
		ii.compute(pix, w, h, stride, true)
		at := func(x, y int) uint32 { return uint32(pix[y*stride+x]) }
		for Y := 0; Y <= h; Y++ {
			for X := 0; X <= w; X++ {
				var sum, sq, tilted uint32
				for y := 0; y < h; y++ {
					for x := 0; x < w; x++ {
						if y < Y && x < X {
							sum += at(x, y)
							sq += at(x, y) * at(x, y)
						}
						if d := x - X + 1; y < Y && max(d, -d) <= Y-y-1 {
							tilted += at(x, y)
						}
					}
				}
				i := Y*ii.stride + X
				if ii.sum[i] != sum || ii.sqsum[i] != sq || ii.tilted[i] != tilted {
					t.Fatalf("%dx%d at (%d,%d): got sum %d sq %d tilted %d, want %d %d %d",
						w, h, X, Y, ii.sum[i], ii.sqsum[i], ii.tilted[i], sum, sq, tilted)
				}
			}
		}
	}
}

// TestTiltedRectangleSum checks the tilted-rectangle corner rule (cornersOf) against a direct
// sum over the pixels of a 45° rectangle, so tilted features measure what they claim.
func TestTiltedRectangleSum(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	w, h := 17, 15
	pix := make([]uint8, w*h)
	for i := range pix {
		pix[i] = uint8(rng.IntN(256))
	}
	var ii integral
	ii.compute(pix, w, h, w, true)
	for _, r := range []Rect{{5, 0, 3, 2}, {8, 2, 4, 4}, {6, 5, 1, 1}, {4, 1, 7, 4}} {
		xs, ys := cornersOf(r, true)
		var c [4]uint32
		for k := range 4 {
			c[k] = ii.tilted[ys[k]*ii.stride+xs[k]]
		}
		got := c[0] - c[1] - c[2] + c[3]
		// The rectangle is W steps down-right by H steps down-left of cells from its top
		// corner; each cell covers two vertically adjacent pixels.
		var want uint32
		inside := map[[2]int]bool{}
		for a := 0; a < r.W; a++ {
			for b := 0; b < r.H; b++ {
				x, y := r.X-1+a-b, r.Y+a+b
				inside[[2]int{x, y}] = true
				inside[[2]int{x, y + 1}] = true
			}
		}
		for p := range inside {
			want += uint32(pix[p[1]*w+p[0]])
		}
		if got != want {
			t.Errorf("tilted %+v: table gives %d, pixels sum to %d", r, got, want)
		}
	}
}
