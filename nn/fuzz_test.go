package nn

import (
	"encoding/binary"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// rawSafetensors writes a safetensors file with the given JSON header and data bytes.
func rawSafetensors(header string, data []byte) []byte {
	out := binary.LittleEndian.AppendUint64(nil, uint64(len(header)))
	return append(append(out, header...), data...)
}

// hostileSafetensors are headers whose tensor sizes overflowed the old size check (issue 18,
// item 9): [2^32, 2^30] float32 is 2^64 bytes, which wrapped around to 0 and "fitted" an empty
// data area.
func hostileSafetensors() map[string][]byte {
	return map[string][]byte{
		"2^64 bytes":         rawSafetensors(`{"fc.3.weight":{"dtype":"F32","shape":[4294967296,1073741824],"data_offsets":[0,0]}}`, nil),
		"2^66 bytes, 4 left": rawSafetensors(`{"w":{"dtype":"F32","shape":[4294967296,4294967296,1],"data_offsets":[0,4]}}`, make([]byte, 4)),
		"three big axes":     rawSafetensors(`{"w":{"dtype":"F32","shape":[2097152,2097152,2097152],"data_offsets":[0,0]}}`, nil),
	}
}

func TestLoadRefusesOverflowingShapes(t *testing.T) {
	b := openCPU(t)
	for name, data := range hostileSafetensors() {
		path := filepath.Join(t.TempDir(), "hostile.safetensors")
		if err := os.WriteFile(path, data, 0o644); err != nil {
			t.Fatal(err)
		}
		_, _, err := LoadModel(b, path)
		if err == nil || !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), "too large") {
			t.Errorf("%s: error %v, want one naming the file and saying the shape is too large", name, err)
		}
	}
}

// FuzzLoadModel feeds damaged checkpoints to LoadModel: it must return a model or an error
// naming the file, never panic or allocate without bound. The seeds are a valid tiny model
// (both architectures) and its first bytes.
func FuzzLoadModel(f *testing.F) {
	b := openCPU(f)
	for _, arch := range []string{ArchVGGD, ArchVGGDBN} {
		cfg := tinyConfig(len(testInfo.ClassNames))
		cfg.Arch = arch
		m, err := New(b, cfg, 1)
		if err != nil {
			f.Fatal(err)
		}
		path := filepath.Join(f.TempDir(), arch+".safetensors")
		if err := SaveModel(path, m, testInfo); err != nil {
			f.Fatal(err)
		}
		raw, err := os.ReadFile(path)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(raw)
		f.Add(raw[:min(len(raw), 600)])
	}
	for _, hostile := range hostileSafetensors() {
		f.Add(hostile)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		path := filepath.Join(t.TempDir(), "fuzz.safetensors")
		if err := os.WriteFile(path, data, 0o644); err != nil {
			t.Fatal(err)
		}
		m, _, err := LoadModel(b, path)
		if err != nil {
			if !strings.Contains(err.Error(), path) {
				t.Errorf("error %q does not name the file", err)
			}
			return
		}
		m.Release()
	})
}
