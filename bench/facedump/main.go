// Command facedump writes the pictures that `vgg train --aligned` trains and validates on, as
// raw bytes a PyTorch twin reads (bench/recipe_twin.py), so that both engines learn from the
// same pixels and the same split: the folder is scanned, split and resized exactly as the
// training run does (dataset.Scan, Split, Source; the centre square of each photo, as
// --aligned takes it).
//
//	go run ./bench/facedump --data DIR --input 64 --val 0.1 --seed 1 --out DUMP
//
// DUMP/meta.json names the classes, the normalisation measured on the training split, the
// shapes and the validation photos' paths; DUMP/{train,val}_x.u8 hold [N,3,S,S] bytes (RGB, 0..255) and {train,val}_y.i32 the
// labels, little-endian int32.
package main

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"

	"github.com/vgglab/vgg/dataset"
	"github.com/vgglab/vgg/vision"
)

func main() {
	data := flag.String("data", "", "folder of identity folders of aligned face crops")
	input := flag.Int("input", 64, "side of the pictures, as vgg train --input")
	val := flag.Float64("val", 0.1, "validation share, as vgg train --val")
	seed := flag.Uint64("seed", 1, "split seed, as vgg train --seed")
	out := flag.String("out", "", "folder to write")
	flag.Parse()
	if *data == "" || *out == "" {
		fmt.Fprintln(os.Stderr, "facedump: --data and --out are required")
		os.Exit(2)
	}
	if err := dump(*data, *out, *input, *val, *seed); err != nil {
		fmt.Fprintln(os.Stderr, "facedump:", err)
		os.Exit(1)
	}
}

type meta struct {
	Classes []string             `json:"classes"`
	Input   int                  `json:"input"`
	Train   int                  `json:"train"`
	Val     int                  `json:"val"`
	Norm    vision.Normalization `json:"norm"`
	Seed    uint64               `json:"seed"`
	ValFrac float64              `json:"val_fraction"`
	// ValPaths are the validation photos in the order of val_x, for comparing answers.
	ValPaths []string `json:"val_paths"`
}

func dump(data, out string, input int, valFraction float64, seed uint64) error {
	ctx := context.Background()
	set, err := dataset.Scan(data, vision.Decoder{})
	if err != nil {
		return err
	}
	src := dataset.NewSource(dataset.SourceOptions{Size: input, Cache: true})
	if err := set.Verify(ctx, src, 0, nil); err != nil {
		return err
	}
	trainSet, valSet, err := set.Split(seed, valFraction)
	if err != nil {
		return err
	}
	norm, err := dataset.ComputeNorm(ctx, trainSet, src, 1)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(out, 0o755); err != nil {
		return err
	}
	for _, part := range []struct {
		name string
		set  *dataset.Dataset
	}{{"train", trainSet}, {"val", valSet}} {
		if err := writePart(out, part.name, part.set, src); err != nil {
			return err
		}
	}
	m := meta{Classes: set.Classes, Input: input, Train: len(trainSet.Samples), Val: len(valSet.Samples),
		Norm: norm, Seed: seed, ValFrac: valFraction}
	for _, s := range valSet.Samples {
		m.ValPaths = append(m.ValPaths, s.Path)
	}
	js, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return err
	}
	fmt.Printf("%s: %d identities, %d train and %d validation pictures of %dx%d\n",
		out, len(set.Classes), m.Train, m.Val, input, input)
	return os.WriteFile(filepath.Join(out, "meta.json"), js, 0o644)
}

// writePart writes one split's pictures as planar RGB bytes and its labels as int32.
func writePart(out, name string, set *dataset.Dataset, src *dataset.Source) error {
	size := src.Size()
	pix := make([]byte, 0, len(set.Samples)*3*size*size)
	labels := make([]int32, len(set.Samples))
	for i, s := range set.Samples {
		img, err := src.Image(s.Path)
		if err != nil {
			return err
		}
		for c := range 3 {
			for p := 0; p < size*size; p++ {
				pix = append(pix, img.Pix[4*p+c])
			}
		}
		labels[i] = int32(s.Label)
	}
	if err := os.WriteFile(filepath.Join(out, name+"_x.u8"), pix, 0o644); err != nil {
		return err
	}
	lab := make([]byte, 4*len(labels))
	for i, l := range labels {
		binary.LittleEndian.PutUint32(lab[4*i:], uint32(l))
	}
	return os.WriteFile(filepath.Join(out, name+"_y.i32"), lab, 0o644)
}
