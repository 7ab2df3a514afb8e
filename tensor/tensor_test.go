package tensor

import (
	"errors"
	"math"
	"testing"
)

func TestReshapeSharesTheBufferAndInfersOneAxis(t *testing.T) {
	x := Zeros(2, 3, 4, 5)
	v, err := x.Reshape(2, -1)
	if err != nil {
		t.Fatal(err)
	}
	if !v.Shape().Equal(Shape{2, 60}) {
		t.Fatalf("shape %v, want [2 60]", v.Shape())
	}
	v.Float32s()[7] = 3
	if x.Float32s()[7] != 3 {
		t.Fatal("the view does not share the buffer")
	}
	for _, bad := range [][]int{{7, -1}, {-1, -1}, {0, 120}, {2, 3, 4}, {-2, 60}} {
		if _, err := x.Reshape(bad...); err == nil {
			t.Errorf("Reshape%v of %v gave no error", bad, x.Shape())
		}
	}
}

func TestCheckNamesOpTensorAndShapes(t *testing.T) {
	x := Zeros(8, 3, 32, 32)
	if err := Check("Conv2D", "x", x, -1, 3, 32, 32); err != nil {
		t.Fatalf("wildcard axis rejected: %v", err)
	}
	err := Check("Conv2D", "x", x, 8, 4, 32, 32)
	var se *ShapeError
	if !errors.As(err, &se) {
		t.Fatalf("got %v, want a *ShapeError", err)
	}
	if want := "Conv2D: x has shape [8 3 32 32], want [8 4 32 32]"; err.Error() != want {
		t.Fatalf("error %q, want %q", err, want)
	}
	if err := Check("Conv2D", "x", x, 8, 3, 32); err == nil {
		t.Fatal("wrong rank accepted")
	}
	if err := Check("Conv2D", "b", nil, 3); err == nil {
		t.Fatal("missing tensor accepted")
	}
	if err := CheckDType("MaxPool2x2", "argmax", x, Int32); err == nil {
		t.Fatal("float32 accepted as int32")
	}
}

func TestFromSlicesCheckLength(t *testing.T) {
	if _, err := FromFloat32(make([]float32, 5), 2, 3); err == nil {
		t.Fatal("5 values accepted for [2 3]")
	}
	if _, err := FromInt32(make([]int32, 6), 2, 3); err != nil {
		t.Fatal(err)
	}
}

func TestFillsAreReproducibleAndPoisonIsNaN(t *testing.T) {
	a, b := Zeros(1000), Zeros(1000)
	a.FillNormal(NewRand(7), 0, 1)
	b.FillNormal(NewRand(7), 0, 1)
	var sum, sq float64
	for i, v := range a.Float32s() {
		if v != b.Float32s()[i] {
			t.Fatalf("element %d differs between two fills with one seed", i)
		}
		sum += float64(v)
		sq += float64(v) * float64(v)
	}
	if mean, std := sum/1000, math.Sqrt(sq/1000); math.Abs(mean) > 0.1 || math.Abs(std-1) > 0.1 {
		t.Fatalf("N(0,1) fill has mean %.3f std %.3f", mean, std)
	}
	a.FillUniform(NewRand(1), -2, -1)
	for _, v := range a.Float32s() {
		if v < -2 || v >= -1 {
			t.Fatalf("uniform draw %v outside [-2, -1)", v)
		}
	}
	a.FillNaN()
	for _, v := range a.Float32s() {
		if !math.IsNaN(float64(v)) {
			t.Fatal("FillNaN left a number")
		}
	}
}

func TestHostAccessorsRefuseTheWrongType(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Fatal("Float32s on an int32 tensor did not panic")
		}
	}()
	New(Int32, 3).Float32s()
}

func TestCheckedProduct(t *testing.T) {
	for _, c := range []struct {
		factors []int64
		want    int64
		ok      bool
	}{
		{[]int64{4, 3, 5}, 60, true},
		{nil, 1, true},
		{[]int64{0, 1 << 62, 1 << 62}, 0, true},
		{[]int64{4, 1 << 32, 1 << 30}, 0, false}, // 2^64 bytes: wrapped to 0 before
		{[]int64{1 << 62, 2}, 0, false},
		{[]int64{3, -1}, 0, false},
	} {
		got, ok := CheckedProduct(c.factors...)
		if ok != c.ok || (ok && got != c.want) {
			t.Errorf("CheckedProduct(%v) = %d, %v; want %d, %v", c.factors, got, ok, c.want, c.ok)
		}
	}
}
