package nn

import (
	"math"
	"strings"
	"testing"

	"github.com/vgglab/vgg/tensor"
)

// The seed's network for 30 identities, as PyTorch counts it
// (sum(p.numel() for p in model.parameters())) and as the multiply-adds of its convolutions and
// linear layers add up at 128x128, two FLOPs each.
func TestVGGDSizeMatchesTheSeed(t *testing.T) {
	m, err := VGGD(Config{Classes: 30})
	if err != nil {
		t.Fatal(err)
	}
	if got := m.NumParams(); got != 56_725_342 {
		t.Errorf("parameters = %d, want 56,725,342", got)
	}
	if got := m.FLOPs(); got != 10_106_298_368 {
		t.Errorf("forward FLOPs per image = %d, want 10,106,298,368 (10.106 GFLOP)", got)
	}
}

func TestVGGDParameterNamesAreTheStateDictKeys(t *testing.T) {
	m, err := VGGD(Config{Classes: 30})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]tensor.Shape{
		"cnn.0.weight": {64, 3, 3, 3}, "cnn.2.weight": {64, 64, 3, 3},
		"cnn.5.weight": {128, 64, 3, 3}, "cnn.7.weight": {128, 128, 3, 3},
		"cnn.10.weight": {256, 128, 3, 3}, "cnn.12.weight": {256, 256, 3, 3}, "cnn.14.weight": {256, 256, 3, 3},
		"cnn.17.weight": {512, 256, 3, 3}, "cnn.19.weight": {512, 512, 3, 3}, "cnn.21.weight": {512, 512, 3, 3},
		"cnn.24.weight": {512, 512, 3, 3}, "cnn.26.weight": {512, 512, 3, 3}, "cnn.28.weight": {512, 512, 3, 3},
		"fc.0.weight": {4096, 8192}, "fc.3.weight": {2048, 4096}, "fc.6.weight": {30, 2048},
	}
	var names []string
	for _, p := range m.Params() {
		names = append(names, p.Name)
		if w, ok := want[p.Name]; ok && !p.Shape.Equal(w) {
			t.Errorf("%s has shape %v, want %v", p.Name, p.Shape, w)
		}
		if base, ok := strings.CutSuffix(p.Name, ".bias"); ok {
			if w := want[base+".weight"]; !p.Shape.Equal(tensor.Shape{w[0]}) {
				t.Errorf("%s has shape %v, want [%d]", p.Name, p.Shape, w[0])
			}
		}
	}
	if len(names) != 2*len(want) {
		t.Fatalf("parameters %v, want a weight and a bias for each of %d layers", names, len(want))
	}
	for i := 0; i < len(names); i += 2 {
		base := strings.TrimSuffix(names[i], ".weight")
		if _, ok := want[names[i]]; !ok || names[i+1] != base+".bias" {
			t.Errorf("parameters %d,%d are %s, %s: not a state_dict weight, bias pair", i, i+1, names[i], names[i+1])
		}
	}
}

func TestVGGDWidthDivisorAndInputSize(t *testing.T) {
	m, err := VGGD(Config{Classes: 5, InputSize: 64, WidthDivisor: 8})
	if err != nil {
		t.Fatal(err)
	}
	shapes := map[string]tensor.Shape{}
	for _, p := range m.Params() {
		shapes[p.Name] = p.Shape
	}
	for name, want := range map[string]tensor.Shape{
		"cnn.0.weight":  {8, 3, 3, 3},
		"cnn.28.weight": {64, 64, 3, 3},
		"fc.0.weight":   {512, 64 * 2 * 2},
		"fc.3.weight":   {256, 512},
		"fc.6.weight":   {5, 256},
	} {
		if !shapes[name].Equal(want) {
			t.Errorf("%s has shape %v, want %v", name, shapes[name], want)
		}
	}
}

func TestVGGDRejectsBadConfigs(t *testing.T) {
	for _, cfg := range []Config{
		{Classes: 1},
		{Classes: 10, InputSize: 100},
		{Classes: 10, InputSize: -32},
		{Classes: 10, WidthDivisor: 3},
		{Classes: 10, Arch: "vgg-e"},
		{Classes: 10, LinearInit: "xavier"},
	} {
		if _, err := VGGD(cfg); err == nil {
			t.Errorf("VGGD(%+v) accepted an impossible configuration", cfg)
		}
	}
}

// Init is reproducible and follows the documented scheme: conv weights with the Kaiming fan-out
// spread, linear weights with std 0.01, biases zero.
func TestInitIsSeededAndScaled(t *testing.T) {
	b := openCPU(t)
	cfg := Config{Classes: 10, InputSize: 32, WidthDivisor: 4}
	m1, err := New(b, cfg, 1)
	if err != nil {
		t.Fatal(err)
	}
	m2, _ := New(b, cfg, 1)
	m3, _ := New(b, cfg, 2)
	for i, p := range m1.Params() {
		v1 := download(t, b, p.Value)
		v2 := download(t, b, m2.Params()[i].Value)
		v3 := download(t, b, m3.Params()[i].Value)
		var sum2 float64
		same, differ := true, false
		for j := range v1 {
			same = same && v1[j] == v2[j]
			differ = differ || v1[j] != v3[j]
			sum2 += float64(v1[j]) * float64(v1[j])
		}
		if !same {
			t.Errorf("%s differs between two inits with the same seed", p.Name)
		}
		std := math.Sqrt(sum2 / float64(len(v1)))
		var want float64
		switch {
		case strings.HasSuffix(p.Name, ".bias"):
			want = 0
		case strings.HasPrefix(p.Name, "cnn."):
			want = math.Sqrt(2 / float64(p.Shape[0]*9))
		default:
			want = 0.01
		}
		if want == 0 && std != 0 || want != 0 && (std < 0.9*want || std > 1.1*want || !differ) {
			t.Errorf("%s: std %.4g (differs with another seed: %v), want %.4g", p.Name, std, differ, want)
		}
	}
}

func TestForwardRejectsAWrongInput(t *testing.T) {
	b := openCPU(t)
	m, err := New(b, tinyConfig(3), 1)
	if err != nil {
		t.Fatal(err)
	}
	for _, shape := range [][]int{{2, 3, 64, 64}, {2, 1, 32, 32}, {3, 32, 32}} {
		x, _ := b.Alloc(tensor.Float32, shape...)
		if _, err := m.Forward(x); err == nil || !strings.Contains(err.Error(), "input") {
			t.Errorf("input of shape %v: %v", shape, err)
		}
	}
	x, _ := b.Alloc(tensor.Int32, 2, 3, 32, 32)
	if _, err := m.Forward(x); err == nil {
		t.Error("an int32 input was accepted")
	}
	unloaded, _ := VGGD(tinyConfig(3))
	if _, err := unloaded.Forward(x); err == nil {
		t.Error("a model without weights ran")
	}
}
