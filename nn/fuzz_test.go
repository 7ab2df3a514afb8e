package nn

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

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
