package tensor

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// Shape is the size of each axis, outermost first: images are [N, C, H, W].
type Shape []int

// Numel is the number of elements: the product of the axes (1 for a scalar).
func (s Shape) Numel() int {
	n := 1
	for _, d := range s {
		n *= d
	}
	return n
}

func (s Shape) Equal(o Shape) bool {
	if len(s) != len(o) {
		return false
	}
	for i := range s {
		if s[i] != o[i] {
			return false
		}
	}
	return true
}

func (s Shape) Clone() Shape { return append(Shape(nil), s...) }

// String writes the shape as PyTorch prints it: [8 3 128 128].
func (s Shape) String() string {
	parts := make([]string, len(s))
	for i, d := range s {
		parts[i] = strconv.Itoa(d)
	}
	return "[" + strings.Join(parts, " ") + "]"
}

// ShapeError says which tensor of which operation had the wrong shape.
type ShapeError struct {
	Op, Name  string
	Got, Want Shape
}

func (e *ShapeError) Error() string {
	return fmt.Sprintf("%s: %s has shape %v, want %v", e.Op, e.Name, e.Got, e.Want)
}

// Check returns a *ShapeError when t's shape is not want. A want of -1 on an axis accepts any
// size there.
func Check(op, name string, t *Tensor, want ...int) error {
	if t == nil {
		return fmt.Errorf("%s: %s is missing", op, name)
	}
	got := t.Shape()
	ok := len(got) == len(want)
	for i := 0; ok && i < len(want); i++ {
		ok = want[i] < 0 || want[i] == got[i]
	}
	if !ok {
		return &ShapeError{Op: op, Name: name, Got: got.Clone(), Want: Shape(want).Clone()}
	}
	return nil
}

// CheckDType returns an error when t is not of type want.
func CheckDType(op, name string, t *Tensor, want DType) error {
	if t.DType() != want {
		return fmt.Errorf("%s: %s is %s, want %s", op, name, t.DType(), want)
	}
	return nil
}

// CheckedProduct multiplies non-negative factors, such as the dimensions and element size a
// file header claims, and reports false when one is negative or the product does not fit in an
// int64: a size check built on a product that wrapped around would pass a hostile header (a
// shape of [2^32, 2^30] float32 is 2^64 bytes, which wraps to 0).
func CheckedProduct(factors ...int64) (int64, bool) {
	product := int64(1)
	for _, f := range factors {
		if f < 0 {
			return 0, false
		}
		if f != 0 && product > math.MaxInt64/f {
			return 0, false
		}
		product *= f
	}
	return product, true
}
