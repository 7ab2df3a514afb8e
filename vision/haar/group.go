package haar

import (
	"image"
	"math"
)

// GroupRectangles merges overlapping detections the way OpenCV's groupRectangles does, so
// that every face, which the sliding window hits at several nearby positions and scales,
// comes out once. Two rectangles are neighbours when each edge is within
// eps*(mean of their smaller width and smaller height) of the other's; the neighbour relation
// is closed transitively, each group is replaced by its average rectangle, and groups with
// minNeighbors or fewer members are dropped, as are groups lying inside a bigger and better
// supported group. It returns the rectangles and the member count of each (the confidence).
// With minNeighbors <= 0 the input is returned unchanged, each with count 1.
func GroupRectangles(rects []image.Rectangle, minNeighbors int, eps float64) ([]image.Rectangle, []int) {
	if minNeighbors <= 0 || len(rects) == 0 {
		counts := make([]int, len(rects))
		for i := range counts {
			counts[i] = 1
		}
		return append([]image.Rectangle(nil), rects...), counts
	}
	labels, nClasses := partition(rects, eps)

	// Average each class, rounding like OpenCV's saturate_cast<int>(float).
	type acc struct{ x, y, w, h, n int }
	sums := make([]acc, nClasses)
	for i, r := range rects {
		a := &sums[labels[i]]
		a.x += r.Min.X
		a.y += r.Min.Y
		a.w += r.Dx()
		a.h += r.Dy()
		a.n++
	}
	avg := make([]image.Rectangle, nClasses)
	for i, a := range sums {
		s := 1 / float32(a.n)
		round := func(v int) int { return int(math.RoundToEven(float64(float32(v) * s))) }
		x, y := round(a.x), round(a.y)
		avg[i] = image.Rect(x, y, x+round(a.w), y+round(a.h))
	}

	var out []image.Rectangle
	var counts []int
	for i, r1 := range avg {
		n1 := sums[i].n
		if n1 <= minNeighbors {
			continue
		}
		inside := false
		for j, r2 := range avg {
			n2 := sums[j].n
			if j == i || n2 <= minNeighbors {
				continue
			}
			dx := int(math.RoundToEven(float64(float32(r2.Dx()) * float32(eps))))
			dy := int(math.RoundToEven(float64(float32(r2.Dy()) * float32(eps))))
			if r1.Min.X >= r2.Min.X-dx && r1.Min.Y >= r2.Min.Y-dy &&
				r1.Max.X <= r2.Max.X+dx && r1.Max.Y <= r2.Max.Y+dy &&
				(n2 > max(3, n1) || n1 < 3) {
				inside = true
				break
			}
		}
		if !inside {
			out = append(out, r1)
			counts = append(counts, n1)
		}
	}
	return out, counts
}

// similarRects is OpenCV's SimilarRects predicate.
func similarRects(a, b image.Rectangle, eps float64) bool {
	delta := eps * float64(min(a.Dx(), b.Dx())+min(a.Dy(), b.Dy())) * 0.5
	near := func(u, v int) bool { return math.Abs(float64(u-v)) <= delta }
	return near(a.Min.X, b.Min.X) && near(a.Min.Y, b.Min.Y) && near(a.Max.X, b.Max.X) && near(a.Max.Y, b.Max.Y)
}

// partition splits rects into the equivalence classes of the transitive closure of
// similarRects (union-find), numbering classes in order of first appearance.
func partition(rects []image.Rectangle, eps float64) (labels []int, nClasses int) {
	parent := make([]int, len(rects))
	for i := range parent {
		parent[i] = i
	}
	var find func(int) int
	find = func(i int) int {
		for parent[i] != i {
			parent[i] = parent[parent[i]]
			i = parent[i]
		}
		return i
	}
	for i := range rects {
		for j := 0; j < i; j++ {
			if similarRects(rects[i], rects[j], eps) {
				if ri, rj := find(i), find(j); ri != rj {
					parent[ri] = rj
				}
			}
		}
	}
	labels = make([]int, len(rects))
	classOf := map[int]int{}
	for i := range rects {
		root := find(i)
		c, ok := classOf[root]
		if !ok {
			c = nClasses
			classOf[root] = c
			nClasses++
		}
		labels[i] = c
	}
	return labels, nClasses
}
