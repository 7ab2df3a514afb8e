package synth

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"sync"

	"github.com/vgglab/vgg/vision"
)

// firstNames and lastNames make the people's names; a few carry spaces and non-ASCII
// letters on purpose, so the demo exercises folder names as real collections have them.
var (
	firstNames = []string{"Ada", "Bram", "Chloé", "Dev", "Elif", "Farid", "Greta", "Hiro", "Ines", "Jonas",
		"Kemi", "Lars", "Mei", "Nuno", "Olga", "Pavel", "Qiu", "Rosa", "Søren", "Tala", "Uma", "Viktor", "Wen", "Yara", "Zoë"}
	lastNames = []string{"Lind", "Okafor", "Marsh", "Ito", "Duarte", "Berg", "Kaya", "Novak", "Reyes", "Quill", "Haas"}
)

// Name is the made-up name of identity id, unique for every id.
func Name(id int) string {
	first := firstNames[id%len(firstNames)]
	last := lastNames[(id/len(firstNames)+id)%len(lastNames)]
	if round := id / (len(firstNames) * len(lastNames)); round > 0 {
		return fmt.Sprintf("%s %s %d", first, last, round+1)
	}
	return first + " " + last
}

// Options describes a synthetic photo collection.
type Options struct {
	Seed       uint64
	Identities int // number of people
	Photos     int // photos of each
	Size       int // side of each photo in pixels
	// Quality is the JPEG quality (1..100; 0 means 90). Photos are written as JPEG so the
	// demo reads them through the same decoder as real photos.
	Quality int
}

// WriteDataset draws the collection into dir as dir/<Name(id)>/NNNN.jpg (the layout
// dataset.Scan reads), creating folders as needed, using every CPU. Each file is written
// atomically; existing files of the same names are replaced.
func WriteDataset(ctx context.Context, dir string, opts Options) error {
	if opts.Identities < 2 || opts.Photos < 1 || opts.Size < 8 {
		return fmt.Errorf("synth: need at least 2 identities, 1 photo each and 8 pixels a side, not %d, %d and %d",
			opts.Identities, opts.Photos, opts.Size)
	}
	quality := opts.Quality
	if quality == 0 {
		quality = 90
	}
	for id := range opts.Identities {
		if err := os.MkdirAll(filepath.Join(dir, Name(id)), 0o755); err != nil {
			return fmt.Errorf("synth: %w", err)
		}
	}
	type job struct{ id, photo int }
	jobs := make(chan job)
	errs := make(chan error, runtime.NumCPU())
	var wg sync.WaitGroup
	for range runtime.NumCPU() {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range jobs {
				img := Render(opts.Seed, j.id, j.photo, opts.Size)
				path := filepath.Join(dir, Name(j.id), fmt.Sprintf("%04d.jpg", j.photo))
				if err := vision.WriteJPEG(path, img, quality); err != nil {
					errs <- fmt.Errorf("synth: %w", err)
					return
				}
			}
		}()
	}
	var err error
feed:
	for id := range opts.Identities {
		for photo := range opts.Photos {
			if err = ctx.Err(); err != nil {
				break feed
			}
			select {
			case jobs <- job{id, photo}:
			case err = <-errs:
				break feed
			case <-ctx.Done():
				err = ctx.Err()
				break feed
			}
		}
	}
	close(jobs)
	wg.Wait()
	close(errs)
	if err == nil {
		err = <-errs // nil when no worker failed
	}
	return err
}
