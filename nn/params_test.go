package nn

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/vgglab/vgg/kernels"
	"github.com/vgglab/vgg/tensor"
)

// smallNet is a network built from layers outside a Model, as vision/facecheck builds one.
func smallNet(ctx *Context) *Sequential {
	return &Sequential{Layers: []Layer{NewConv2D(ctx, "0", 1, 4), NewReLU(ctx, "1"), NewFlatten("2"), NewLinear(ctx, "3", 4*4*4, 2)}}
}

func paramValues(t *testing.T, b kernels.Backend, ps []*Param) [][]float32 {
	t.Helper()
	var out [][]float32
	for _, p := range ps {
		host := tensor.Zeros(p.Shape...)
		if err := b.Download(host, p.Value); err != nil {
			t.Fatal(err)
		}
		out = append(out, host.Float32s())
	}
	return out
}

// InitParams draws the same weights for the same seed, others for another; SaveParams and
// ReadParams carry them through safetensors bytes and refuse bytes of another network.
func TestInitSaveReadParams(t *testing.T) {
	b := openCPU(t)
	net := func(seed uint64) *Sequential {
		n := smallNet(&Context{Backend: b})
		if err := InitParams(b, n.Params(), seed); err != nil {
			t.Fatal(err)
		}
		return n
	}
	a, again, other := net(1), net(1), net(2)
	va := paramValues(t, b, a.Params())
	if !slices.EqualFunc(va, paramValues(t, b, again.Params()), slices.Equal) {
		t.Error("seed 1 drew different weights twice")
	}
	if slices.Equal(va[0], paramValues(t, b, other.Params())[0]) {
		t.Error("seeds 1 and 2 drew the same convolution weights")
	}
	if slices.ContainsFunc(paramValues(t, b, a.Params())[1], func(v float32) bool { return v != 0 }) {
		t.Error("a bias does not start at zero")
	}

	path := filepath.Join(t.TempDir(), "small.safetensors")
	if err := SaveParams(path, a.Params(), b, map[string]string{"note": "hello"}); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	meta, err := ReadParams("small", data, b, other.Params())
	if err != nil {
		t.Fatal(err)
	}
	if meta["note"] != "hello" || !slices.EqualFunc(va, paramValues(t, b, other.Params()), slices.Equal) {
		t.Errorf("read back metadata %v and other weights than were saved", meta)
	}
	wider := &Sequential{Layers: []Layer{NewConv2D(&Context{Backend: b}, "0", 1, 8)}}
	if err := InitParams(b, wider.Params(), 1); err != nil {
		t.Fatal(err)
	}
	for name, bad := range map[string][]byte{"another network": data, "truncated": data[:len(data)-3]} {
		ps := other.Params()
		if name == "another network" {
			ps = wider.Params()
		}
		if _, err := ReadParams("small", bad, b, ps); err == nil || !strings.Contains(err.Error(), "small") {
			t.Errorf("%s: error %v, want one naming the source", name, err)
		}
	}
}
