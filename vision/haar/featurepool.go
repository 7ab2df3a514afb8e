package haar

// FeaturePool lists every Haar feature of the classic shapes that fits a w x h window, in the
// weighting OpenCV's trainer uses (a whole rectangle with weight -1 plus parts with positive
// weights, so the weights cancel on a flat patch):
//
//	edge x2, y2:      whole -1, one half +2
//	line x3, y3:      whole -1, middle third +3
//	four-rectangle:   whole -1, two diagonal quarters +2 each
//
// With tilted set, the same shapes rotated by 45° are added. A 24x24 window has about 134,000
// upright features; the trainer samples from this list.
func FeaturePool(w, h int, tilted bool) []Feature {
	var pool []Feature
	add := func(t bool, rects ...WeightedRect) {
		if rectsInside(rects, t, w, h) {
			pool = append(pool, Feature{Rects: rects, Tilted: t})
		}
	}
	for _, t := range []bool{false, true} {
		if t && !tilted {
			break
		}
		for x := 0; x < w; x++ {
			for y := 0; y < h; y++ {
				for dx := 1; dx <= w; dx++ {
					for dy := 1; dy <= h; dy++ {
						whole := func(nx, ny int) WeightedRect {
							return WeightedRect{R: Rect{x, y, dx * nx, dy * ny}, Weight: -1}
						}
						// For a tilted feature "right" is down-right and "down" is down-left
						// along the rotated axes; Rect's X, Y stay the top corner.
						part := func(i, j, nx, ny int, weight float32) WeightedRect {
							r := Rect{x + i*dx, y + j*dy, dx * nx, dy * ny}
							if t {
								r = Rect{x + i*dx - j*dy, y + i*dx + j*dy, dx * nx, dy * ny}
							}
							return WeightedRect{R: r, Weight: weight}
						}
						add(t, whole(2, 1), part(1, 0, 1, 1, 2))
						add(t, whole(1, 2), part(0, 1, 1, 1, 2))
						add(t, whole(3, 1), part(1, 0, 1, 1, 3))
						add(t, whole(1, 3), part(0, 1, 1, 1, 3))
						add(t, whole(2, 2), part(1, 0, 1, 1, 2), part(0, 1, 1, 1, 2))
					}
				}
			}
		}
	}
	return pool
}

func rectsInside(rects []WeightedRect, tilted bool, w, h int) bool {
	for _, r := range rects {
		if !rectInside(r.R, tilted, w, h) {
			return false
		}
	}
	return true
}
