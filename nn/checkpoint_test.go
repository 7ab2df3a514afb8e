package nn

import (
	"encoding/binary"
	"encoding/json"
	"maps"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vgglab/vgg/kernels"
	"github.com/vgglab/vgg/tensor"
)

var testInfo = ModelInfo{
	ClassNames:        []string{"Ada Lovelace", "Alan Turing", "Grace Hopper", "Émilie du Châtelet"},
	Mean:              [3]float32{0.485, 0.456, 0.406},
	Std:               [3]float32{0.229, 0.224, 0.225},
	Temperature:       2.375,
	CalibrationPhotos: 18,
	Mirror:            true,
	EmbeddingLayer:    EmbeddingFeatures,
}

// savedTiny saves a tiny 4-class model into a fresh directory and returns it and the path.
func savedTiny(t testing.TB, b kernels.Backend) (*Model, string) {
	t.Helper()
	m, err := New(b, tinyConfig(4), 3)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "tiny.safetensors")
	if err := SaveModel(path, m, testInfo); err != nil {
		t.Fatal(err)
	}
	return m, path
}

func TestModelCheckpointRoundTrip(t *testing.T) {
	b := openCPU(t)
	m, path := savedTiny(t, b)
	loaded, info, err := LoadModel(b, path)
	if err != nil {
		t.Fatal(err)
	}
	if loaded.Config != m.Config {
		t.Errorf("config %+v, saved %+v", loaded.Config, m.Config)
	}
	if strings.Join(info.ClassNames, "|") != strings.Join(testInfo.ClassNames, "|") || info.Mean != testInfo.Mean || info.Std != testInfo.Std ||
		info.Temperature != testInfo.Temperature || info.CalibrationPhotos != testInfo.CalibrationPhotos || info.Mirror != testInfo.Mirror ||
		info.EmbeddingLayer != testInfo.EmbeddingLayer || loaded.EmbeddingLayer != testInfo.EmbeddingLayer {
		t.Errorf("info %+v, saved %+v", info, testInfo)
	}
	if !sameBits(paramBits(t, b, m), paramBits(t, b, loaded)) {
		t.Error("loaded weights differ from the saved ones")
	}
	cfg, info2, err := ReadModelInfo(path)
	if err != nil || cfg != m.Config || len(info2.ClassNames) != 4 {
		t.Errorf("ReadModelInfo = %+v, %+v, %v", cfg, info2, err)
	}
	// No temporary file is left beside it.
	entries, _ := os.ReadDir(filepath.Dir(path))
	if len(entries) != 1 {
		t.Errorf("directory holds %d files after one save, want 1", len(entries))
	}
}

// The file is plain safetensors: the header lists exactly the state_dict keys as F32 tensors of
// PyTorch's shapes, tiling the data in state_dict order, and the data starts 8-byte aligned.
func TestModelCheckpointLayout(t *testing.T) {
	b := openCPU(t)
	m, path := savedTiny(t, b)
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	n := binary.LittleEndian.Uint64(raw)
	if n%8 != 0 {
		t.Errorf("header length %d is not a multiple of 8", n)
	}
	var header map[string]json.RawMessage
	if err := json.Unmarshal(raw[8:8+n], &header); err != nil {
		t.Fatal(err)
	}
	var offset int64
	for _, p := range m.Params() {
		var e stEntry
		if err := json.Unmarshal(header[p.Name], &e); err != nil {
			t.Fatalf("%s: %v", p.Name, err)
		}
		size := int64(p.Shape.Numel()) * 4
		if e.DType != "F32" || !p.Shape.Equal(e.Shape) || e.DataOffsets != [2]int64{offset, offset + size} {
			t.Errorf("%s: header entry %+v, want F32 %v at [%d %d]", p.Name, e, p.Shape, offset, offset+size)
		}
		offset += size
	}
	if len(header) != len(m.Params())+1 || int64(len(raw))-8-int64(n) != offset {
		t.Errorf("header has %d entries and %d data bytes, want %d and %d", len(header), int64(len(raw))-8-int64(n), len(m.Params())+1, offset)
	}
}

// readHeader parses a checkpoint's JSON header and returns it with the bytes after it.
func readHeader(t *testing.T, path string) (header map[string]any, data []byte) {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	n := binary.LittleEndian.Uint64(raw)
	if err := json.Unmarshal(raw[8:8+n], &header); err != nil {
		t.Fatal(err)
	}
	return header, raw[8+n:]
}

// rewrite copies the checkpoint at path to a new file in the same directory with its header
// changed by edit, keeping the data bytes.
func rewrite(t *testing.T, path, name string, edit func(header map[string]any)) string {
	t.Helper()
	header, data := readHeader(t, path)
	edit(header)
	js, err := json.Marshal(header)
	if err != nil {
		t.Fatal(err)
	}
	out := binary.LittleEndian.AppendUint64(nil, uint64(len(js)))
	return writeBytes(t, path, name, append(append(out, js...), data...))
}

// writeBytes writes a damaged copy of a checkpoint.
func writeBytes(t *testing.T, path, name string, data []byte) string {
	t.Helper()
	dst := filepath.Join(filepath.Dir(path), name)
	if err := os.WriteFile(dst, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return dst
}

func TestLoadModelRejectsBadCheckpoints(t *testing.T) {
	b := openCPU(t)
	m, path := savedTiny(t, b)
	raw, _ := os.ReadFile(path)
	headerLen := binary.LittleEndian.Uint64(raw)
	metadata := func(h map[string]any) map[string]any { return h["__metadata__"].(map[string]any) }

	// A valid file, but with a tensor left out or one too many.
	writeWith := func(name string, srcs []stSource) string {
		p := filepath.Join(filepath.Dir(path), name)
		meta := map[string]string{}
		header, _ := readHeader(t, path)
		for k, v := range metadata(header) {
			meta[k] = v.(string)
		}
		if err := writeSafetensors(p, srcs, meta); err != nil {
			t.Fatal(err)
		}
		return p
	}
	srcs := backendSources(b, paramTensors(m.Params()))
	// The same bytes with one weight of fc.6.bias (its second float) set to NaN or +Inf.
	poisoned := func(name string, bits uint32) string {
		header, _ := readHeader(t, path)
		offsets := header["fc.6.bias"].(map[string]any)["data_offsets"].([]any)
		at := 8 + int(headerLen) + int(offsets[0].(float64)) + 4
		bad := append([]byte(nil), raw...)
		binary.LittleEndian.PutUint32(bad[at:], bits)
		return writeBytes(t, path, name, bad)
	}

	cases := []struct {
		name, path, want string
	}{
		{"empty", writeBytes(t, path, "empty.safetensors", nil), "truncated"},
		{"truncated in the header", writeBytes(t, path, "cut-header.safetensors", raw[:8+headerLen/2]), "truncated"},
		{"truncated in the data", writeBytes(t, path, "cut-data.safetensors", raw[:len(raw)-100]), "truncated"},
		{"trailing bytes", writeBytes(t, path, "long.safetensors", append(append([]byte(nil), raw...), 0, 0, 0, 0)), "after the last tensor"},
		{"huge header length", writeBytes(t, path, "huge.safetensors", append(binary.LittleEndian.AppendUint64(nil, 1<<62), raw[8:]...)), "header length"},
		{"not JSON", writeBytes(t, path, "garbage.safetensors", append(append([]byte(nil), raw[:8]...), []byte(strings.Repeat("#", int(headerLen)))...)), "corrupt header"},
		{"a JPEG", writeBytes(t, path, "photo.safetensors", []byte("\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00")), "safetensors"},
		{"offsets out of range", rewrite(t, path, "offsets.safetensors", func(h map[string]any) {
			h["fc.6.bias"].(map[string]any)["data_offsets"] = []int64{1 << 40, 1<<40 + 16}
		}), `tensor "fc.6.bias": data_offsets [1099511627776, 1099511627792] run past the end`},
		{"offsets not matching the shape", rewrite(t, path, "size.safetensors", func(h map[string]any) {
			h["fc.6.bias"].(map[string]any)["shape"] = []int{5}
		}), "fc.6.bias"},
		{"float16", rewrite(t, path, "f16.safetensors", func(h map[string]any) {
			h["cnn.0.bias"].(map[string]any)["dtype"] = "F16"
		}), "F16"},
		{"int64 vector", rewrite(t, path, "i64.safetensors", func(h map[string]any) {
			h["cnn.0.bias"].(map[string]any)["dtype"] = "I64"
		}), "only I64 scalars"},
		{"no metadata", rewrite(t, path, "nometa.safetensors", func(h map[string]any) { delete(h, "__metadata__") }), "not a vgg model"},
		{"future version", rewrite(t, path, "v9.safetensors", func(h map[string]any) { metadata(h)["format_version"] = "9" }), "version"},
		{"wrong class count", rewrite(t, path, "classes.safetensors", func(h map[string]any) {
			metadata(h)["classes"] = `["a","b","c"]`
		}), "fc.6.weight has shape [4 128], this model needs [3 128]"},
		{"wrong width", rewrite(t, path, "width.safetensors", func(h map[string]any) { metadata(h)["width_divisor"] = "8" }), "cnn.0.weight has shape [4 3 3 3], this model needs [8 3 3 3]"},
		{"impossible width", rewrite(t, path, "width3.safetensors", func(h map[string]any) { metadata(h)["width_divisor"] = "3" }), "width divisor 3"},
		{"a NaN weight", poisoned("nan.safetensors", 0x7fc00000), "tensor fc.6.bias holds NaN at index 1"},
		{"an infinite weight", poisoned("inf.safetensors", 0x7f800000), "tensor fc.6.bias holds +Inf at index 1"},
		{"missing tensor", writeWith("missing.safetensors", srcs[:len(srcs)-1]), "fc.6.bias is missing"},
		{"extra tensor", writeWith("extra.safetensors", append(srcs[:len(srcs):len(srcs)], stSource{name: "fc.9.weight", shape: []int{2}, read: func(*tensor.Tensor) error { return nil }})), "unexpected tensors fc.9.weight"},
	}
	for _, c := range cases {
		_, _, err := LoadModel(b, c.path)
		switch {
		case err == nil:
			t.Errorf("%s: loaded without complaint", c.name)
		case !strings.Contains(err.Error(), c.path) || !strings.Contains(err.Error(), c.want):
			t.Errorf("%s: error %q should name the file and say %q", c.name, err, c.want)
		default:
			t.Logf("%s: %v", c.name, err)
		}
	}
}

func TestLoadWeightsRefusesAnotherConfiguration(t *testing.T) {
	b := openCPU(t)
	_, path := savedTiny(t, b)
	other, err := New(b, tinyConfig(5), 1)
	if err != nil {
		t.Fatal(err)
	}
	_, err = other.LoadWeights(path)
	if err == nil || !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), "4 classes") {
		t.Errorf("loading a 4-class checkpoint into a 5-class model: %v", err)
	}
}

func TestSaveModelIsAtomic(t *testing.T) {
	b := openCPU(t)
	m, path := savedTiny(t, b)
	before, _ := os.ReadFile(path)
	// Saving with the wrong number of class names fails before touching the old file.
	if err := SaveModel(path, m, ModelInfo{ClassNames: []string{"x"}}); err == nil {
		t.Error("saved a 4-class model with 1 class name")
	}
	// A download that fails half-way leaves the old file and no temporary.
	srcs := backendSources(b, paramTensors(m.Params()))
	srcs[5].read = func(*tensor.Tensor) error { return os.ErrDeadlineExceeded }
	if err := writeSafetensors(path, srcs, nil); err == nil {
		t.Error("a failing tensor source did not fail the write")
	}
	after, _ := os.ReadFile(path)
	entries, _ := os.ReadDir(filepath.Dir(path))
	if string(before) != string(after) || len(entries) != 1 {
		t.Errorf("a failed save changed the checkpoint or left %d files", len(entries))
	}
	if err := SaveModel(filepath.Join(path, "not-a-dir", "x.safetensors"), m, testInfo); err == nil {
		t.Error("saving under a file succeeded")
	}
}

// The mirror flag and the embedding layer are read back as saved, absent from files that
// predate them, and refused when they hold anything else.
func TestModelInfoMirrorAndEmbedding(t *testing.T) {
	b := openCPU(t)
	_, path := savedTiny(t, b)
	f, err := openSafetensors(path)
	if err != nil {
		t.Fatal(err)
	}
	f.Close()
	for _, c := range []struct {
		key, value string // "" deletes the key
		ok         bool
		check      func(ModelInfo) bool
	}{
		{"mirror", "true", true, func(i ModelInfo) bool { return i.Mirror }},
		{"mirror", "false", true, func(i ModelInfo) bool { return !i.Mirror }},
		{"mirror", "", true, func(i ModelInfo) bool { return !i.Mirror }},
		{"mirror", "yes", false, nil},
		{"mirror", "1", false, nil},
		{"embedding", "features", true, func(i ModelInfo) bool { return i.EmbeddingLayer == EmbeddingFeatures }},
		{"embedding", "fc.4", true, func(i ModelInfo) bool { return i.EmbeddingLayer == EmbeddingFC4 }},
		{"embedding", "", true, func(i ModelInfo) bool { return i.EmbeddingLayer == "" }},
		{"embedding", "fc.1", false, nil},
	} {
		meta := maps.Clone(f.metadata)
		meta[c.key] = c.value
		if c.value == "" {
			delete(meta, c.key)
		}
		_, info, err := parseModelMetadata(path, meta)
		if c.ok && (err != nil || !c.check(info)) {
			t.Errorf("%s %q: info %+v, error %v", c.key, c.value, info, err)
		}
		if !c.ok && (err == nil || !strings.Contains(err.Error(), c.key)) {
			t.Errorf("%s %q: error %v, want one naming %s", c.key, c.value, err, c.key)
		}
	}
}

// Embedding is the flattened features or fc.4's activation, as EmbeddingLayer says, of the
// width EmbeddingWidth says.
func TestEmbeddingLayer(t *testing.T) {
	b := openCPU(t)
	m, _ := savedTiny(t, b)
	x, err := b.Alloc(tensor.Float32, m.InputShape(2)...)
	if err != nil {
		t.Fatal(err)
	}
	defer x.Release()
	if err := b.Fill(x, 0.5); err != nil {
		t.Fatal(err)
	}
	m.SetTraining(false)
	if _, err := m.Forward(x); err != nil {
		t.Fatal(err)
	}
	feat := m.Features().Shape()
	for _, c := range []struct {
		layer string
		want  *tensor.Tensor
		width int
	}{
		{"", m.embeddingReLU.y, m.FC.Layers[3].(*Linear).Out},
		{EmbeddingFC4, m.embeddingReLU.y, m.FC.Layers[3].(*Linear).Out},
		{EmbeddingFeatures, m.flat, feat[1] * feat[2] * feat[3] / 4}, // after the last 2x2 pool
	} {
		m.EmbeddingLayer = c.layer
		if got := m.Embedding(); got != c.want || m.EmbeddingWidth() != c.width || got.Dim(1) != c.width {
			t.Errorf("layer %q: embedding %v of width %d (EmbeddingWidth %d), want width %d", c.layer, got.Shape(), got.Dim(1), m.EmbeddingWidth(), c.width)
		}
	}
}
