// Command gpusubset writes a tiny preprocessed slice of the face photos for the GPU machine,
// which has no access to the shared data: 16 photos of each of the first 4 identities (in
// name order) of a celebs folder, centre-cropped, resized to 128x128 and normalised, as
//
//	faces64.f32     float32 little-endian [64, 3, 128, 128], identities interleaved (i % 4)
//	faces64.labels  int32 little-endian [64]
//
// bench's TestTenStepsOnFaces trains on it (VGG_GPU_SUBSET names the folder).
//
//	go run ./scripts/gpusubset -faces /work/shared/faces/celebs60 -out .gpu
package main

import (
	"encoding/binary"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"

	"github.com/vgglab/vgg/vision"
)

const (
	identities = 4
	perPerson  = 16
	size       = 128
)

// norm maps pixel values in [0, 1] to about [-2, 2].
var norm = vision.Normalization{Mean: [3]float32{0.5, 0.5, 0.5}, Std: [3]float32{0.25, 0.25, 0.25}}

func main() {
	faces := flag.String("faces", "", "folder with one sub-folder of photos per person")
	out := flag.String("out", ".gpu", "folder to write faces64.f32 and faces64.labels into")
	flag.Parse()
	if err := write(*faces, *out); err != nil {
		fmt.Fprintln(os.Stderr, "gpusubset:", err)
		os.Exit(1)
	}
}

func write(faces, out string) error {
	people, err := os.ReadDir(faces)
	if err != nil {
		return err
	}
	var photos [identities][]string
	n := 0
	for _, p := range people {
		if !p.IsDir() || n == identities {
			continue
		}
		files, err := filepath.Glob(filepath.Join(faces, p.Name(), "*.jpg"))
		if err != nil {
			return err
		}
		if len(files) < perPerson {
			continue
		}
		sort.Strings(files)
		photos[n] = files[:perPerson]
		n++
	}
	if n < identities {
		return fmt.Errorf("%s: found %d people with %d photos, need %d", faces, n, perPerson, identities)
	}
	pixels := make([]float32, identities*perPerson*3*size*size)
	labels := make([]int32, identities*perPerson)
	for i := range labels {
		person, photo := i%identities, i/identities
		img, err := vision.Load(photos[person][photo])
		if err != nil {
			return err
		}
		sample := pixels[i*3*size*size : (i+1)*3*size*size]
		vision.ToCHW(vision.SquareResize(img, size), norm, sample)
		labels[i] = int32(person)
	}
	if err := os.MkdirAll(out, 0o755); err != nil {
		return err
	}
	if err := writeAtomic(filepath.Join(out, "faces64.f32"), pixels); err != nil {
		return err
	}
	return writeAtomic(filepath.Join(out, "faces64.labels"), labels)
}

// writeAtomic writes data little-endian to a temporary name beside path, then renames it.
func writeAtomic(path string, data any) error {
	return vision.WriteAtomic(path, func(w io.Writer) error { return binary.Write(w, binary.LittleEndian, data) })
}
