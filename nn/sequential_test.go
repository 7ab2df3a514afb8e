package nn

import (
	"slices"
	"testing"

	"github.com/vgglab/vgg/tensor"
)

// TestForwardHostMatchesForward: ForwardHost gives the host copy of what Forward gives on the
// backend, bit for bit, and leaves the input alone.
func TestForwardHostMatchesForward(t *testing.T) {
	b := openCPU(t)
	ctx := &Context{Backend: b}
	net := &Sequential{Layers: []Layer{NewConv2D(ctx, "0", 2, 3), NewReLU(ctx, "1"), NewFlatten("2"), NewLinear(ctx, "3", 3*5*5, 4)}}
	if err := InitParams(b, net.Params(), 7); err != nil {
		t.Fatal(err)
	}
	host := tensor.Zeros(3, 2, 5, 5)
	host.FillNormal(tensor.NewRand(8), 0, 1)
	before := slices.Clone(host.Float32s())
	got, err := net.ForwardHost(b, host)
	if err != nil {
		t.Fatal(err)
	}
	y, err := net.Forward(upload(t, b, host))
	if err != nil {
		t.Fatal(err)
	}
	want := tensor.Zeros(y.Shape()...)
	if err := b.Download(want, y); err != nil {
		t.Fatal(err)
	}
	if !got.Shape().Equal(tensor.Shape{3, 4}) || !slices.Equal(got.Float32s(), want.Float32s()) {
		t.Errorf("ForwardHost gave %v %v, Forward %v %v", got.Shape(), got.Float32s(), want.Shape(), want.Float32s())
	}
	if !slices.Equal(host.Float32s(), before) {
		t.Error("ForwardHost changed its input")
	}
}
