package nn

import (
	"slices"
	"testing"
)

// A model for 3 identities started from one trained for 4 takes every tensor but the
// classifier's, bit for bit; another width is refused.
func TestInitFrom(t *testing.T) {
	b := openCPU(t)
	src, err := New(b, tinyBNConfig(4), 1)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Release()
	dst, err := New(b, tinyBNConfig(3), 2)
	if err != nil {
		t.Fatal(err)
	}
	defer dst.Release()
	for _, buf := range src.Buffers() { // unlike the fresh model's zeros and ones
		if err := b.Fill(buf.Value, 0.5); err != nil {
			t.Fatal(err)
		}
	}
	fresh, err := dst.InitFrom(src)
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"fc.6.weight", "fc.6.bias"}; !slices.Equal(fresh, want) {
		t.Errorf("left fresh: %v, want %v", fresh, want)
	}
	got, want := bufferBits(t, b, dst), bufferBits(t, b, src)
	if !sameBits(got, want) {
		t.Error("the batch norms' running statistics were not copied")
	}
	srcParams, dstParams := paramBits(t, b, src), paramBits(t, b, dst)
	for i, p := range dst.Params() {
		copied := !slices.Contains(fresh, p.Name)
		if same := slices.Equal(srcParams[i], dstParams[i]); copied != same {
			t.Errorf("%s: copied %v but equal to the source %v", p.Name, copied, same)
		}
	}
	wide := tinyBNConfig(3)
	wide.WidthDivisor = 8
	other, err := New(b, wide, 3)
	if err != nil {
		t.Fatal(err)
	}
	defer other.Release()
	if _, err := other.InitFrom(src); err == nil {
		t.Error("a model of another width was taken as a start")
	}
}
