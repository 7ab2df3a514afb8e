package nn

import (
	"encoding/binary"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/vgglab/vgg/tensor"
)

// TestWriteTorchCheck writes, for each architecture, a tiny trained model's checkpoint, a batch
// of inputs and the model's evaluation-mode logits into $VGG_TORCH_CHECK_DIR/<arch>/, for
// scripts/torch_check.py to load into PyTorch with strict=True and compare. It does nothing
// unless the variable is set:
//
//	VGG_TORCH_CHECK_DIR=/tmp/tc go test ./nn -run TorchCheck && python3 scripts/torch_check.py /tmp/tc
func TestWriteTorchCheck(t *testing.T) {
	dir := os.Getenv("VGG_TORCH_CHECK_DIR")
	if dir == "" {
		t.Skip("VGG_TORCH_CHECK_DIR is not set")
	}
	b := openCPU(t)
	for _, arch := range Archs {
		cfg := tinyConfig(3)
		cfg.Arch = arch
		m, err := New(b, cfg, 17)
		if err != nil {
			t.Fatal(err)
		}
		// A few steps count the batches; then every weight is redrawn at a scale where each
		// layer matters to the logits (the training init's small linear weights leave them
		// close to the biases), and the running statistics are made far from 0 and 1.
		tr, err := NewTrainer(m, OptimizerConfig{Kind: "sgd", Momentum: 0.9}, Schedule{Kind: "constant", LR: 0.05})
		if err != nil {
			t.Fatal(err)
		}
		x, labels := randomBatch(t, b, cfg, 4, 18)
		for range 3 {
			if err := tr.Step(x, labels); err != nil {
				t.Fatal(err)
			}
		}
		scaleForGradcheck(t, b, m, 19)
		rng := tensor.NewRand(20)
		for _, buf := range m.Buffers() {
			host := tensor.Zeros(buf.Shape...)
			host.FillUniform(rng, 0.5, 2)
			if buf.Initial == 0 { // a running mean
				host.FillNormal(rng, 0, 0.5)
			}
			if err := b.Upload(buf.Value, host); err != nil {
				t.Fatal(err)
			}
		}
		m.SetTraining(false)
		logits, err := m.Forward(x)
		if err != nil {
			t.Fatal(err)
		}
		out := filepath.Join(dir, arch)
		if err := os.MkdirAll(out, 0o755); err != nil {
			t.Fatal(err)
		}
		info := ModelInfo{ClassNames: []string{"a", "b", "c"}, Mean: [3]float32{0.5, 0.5, 0.5}, Std: [3]float32{0.25, 0.25, 0.25}}
		if err := SaveModel(filepath.Join(out, "model.safetensors"), m, info); err != nil {
			t.Fatal(err)
		}
		writeFloats(t, filepath.Join(out, "input.f32"), download(t, b, x))
		writeFloats(t, filepath.Join(out, "logits.f32"), download(t, b, logits))
		tr.Release()
		m.Release()
	}
}

// writeFloats writes little-endian float32s.
func writeFloats(t *testing.T, path string, v []float32) {
	t.Helper()
	buf := make([]byte, 0, 4*len(v))
	for _, f := range v {
		buf = binary.LittleEndian.AppendUint32(buf, math.Float32bits(f))
	}
	if err := os.WriteFile(path, buf, 0o644); err != nil {
		t.Fatal(err)
	}
}
