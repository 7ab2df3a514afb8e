package nn

import (
	"bytes"
	"fmt"

	"github.com/vgglab/vgg/kernels"
	"github.com/vgglab/vgg/tensor"
)

// InitParams gives every parameter a value on b, drawn by its layer's initialiser from one
// generator seeded with seed (in the order given, so the same list and seed give the same
// weights), and a zeroed gradient: what Model.Init does, for networks built from layers
// outside a Model (a small classifier made of Conv2D, ReLU, MaxPool2D and Linear layers).
func InitParams(b kernels.Backend, params []*Param, seed uint64) error {
	if err := allocParamValues(b, params); err != nil {
		return err
	}
	rng := tensor.NewRand(seed)
	for _, p := range params {
		host := tensor.Zeros(p.Shape...)
		p.init(host, rng)
		if err := b.Upload(p.Value, host); err != nil {
			return fmt.Errorf("init %s: %w", p.Name, err)
		}
	}
	return nil
}

// allocParamValues gives every parameter a value and a zeroed gradient on b.
func allocParamValues(b kernels.Backend, params []*Param) error {
	for _, p := range params {
		var err error
		if p.Value, err = b.Alloc(tensor.Float32, p.Shape...); err != nil {
			return fmt.Errorf("alloc %s: %w", p.Name, err)
		}
		if p.Grad, err = b.Alloc(tensor.Float32, p.Shape...); err != nil {
			return fmt.Errorf("alloc %s grad: %w", p.Name, err)
		}
		if err := b.Fill(p.Grad, 0); err != nil {
			return fmt.Errorf("zero %s grad: %w", p.Name, err)
		}
	}
	return nil
}

// SaveParams writes the parameters' values to a safetensors file at path (atomically, as
// SaveModel does), with string metadata.
func SaveParams(path string, params []*Param, b kernels.Backend, metadata map[string]string) error {
	return writeSafetensors(path, backendSources(b, paramTensors(params)), metadata)
}

// ReadParams loads the parameters' values from safetensors bytes (a file embedded in the
// binary, say; name says where they come from in errors) into the already allocated values
// on b, and returns the file's metadata. The bytes must hold exactly these parameters with
// these shapes, and no NaN or infinite value.
func ReadParams(name string, data []byte, b kernels.Backend, params []*Param) (map[string]string, error) {
	f, err := readSafetensorsHeader(name, bytes.NewReader(data), int64(len(data)))
	if err != nil {
		return nil, err
	}
	if err := loadTensors(f, b, paramTensors(params), nil); err != nil {
		return nil, err
	}
	return f.metadata, nil
}
