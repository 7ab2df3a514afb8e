// Package dataset reads a labelled photo collection laid out as a folder of folders,
// DIR/<identity>/<photo>, and feeds it to training: a deterministic stratified
// train/validation split, per-channel statistics, seeded augmentation, and a batch pipeline
// that decodes in worker goroutines ahead of the consumer yet yields batches in an order
// fixed by the seed and the epoch alone.
//
// A typical training setup:
//
//	set, err := dataset.Scan(dir, vision.Decoder{})   // set.Skipped lists unusable files
//	src := dataset.NewSource(dataset.SourceOptions{Size: 128, Cache: true})
//	err = set.Verify(ctx, src, 0, nil)                // full decode; fills the cache
//	train, val, err := set.Split(seed, 0.1)
//	norm, err := dataset.ComputeNorm(ctx, train, src, 0)
//	loader, err := dataset.NewLoader(train, src, dataset.LoaderOptions{
//		BatchSize: 32, Shuffle: true, Seed: seed, Augment: dataset.DefaultAugment, Norm: norm})
//	for batch, err := range loader.Epoch(ctx, epoch) { ... }
package dataset

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"

	"github.com/vgglab/vgg/vision"
)

// Sample is one photo and the index of its identity in Dataset.Classes.
type Sample struct {
	Path  string
	Label int
}

// Dataset is a labelled photo collection.
type Dataset struct {
	// Root is the folder the collection was read from.
	Root string
	// Classes are the identity names (the folder names), sorted; a label indexes them.
	Classes []string
	// Samples are the usable photos, ordered by label then path.
	Samples []Sample
	// Skipped are files that cannot be used, each error naming the file and the reason.
	Skipped []error
}

// ErrTooFewIdentities is returned for a collection with fewer than two identities.
var ErrTooFewIdentities = errors.New("needs at least two identities to learn to tell them apart")

// Scan reads the layout of root: each sub-folder is an identity named by the folder (any
// name, spaces and non-ASCII included: "Keanu Reeves", "아이유"), each file in it a photo.
// Every file's header is checked with dec (cheap: no pixels are decoded); files that are
// not images or are over the pixel budget go to Skipped, as do stray files beside the
// identity folders and folders nested inside them. Hidden files (".DS_Store") are ignored.
//
// Scan fails, naming the folder, when root is missing or has no identity folders, when an
// identity folder is empty or has no usable photo, and when there are fewer than two
// identities. Photos that pass the header check can still be truncated further in; Verify
// decodes them fully.
func Scan(root string, dec vision.Decoder) (*Dataset, error) {
	entries, err := os.ReadDir(root)
	if err != nil {
		return nil, fmt.Errorf("dataset: %w", err)
	}
	d := &Dataset{Root: root}
	// folderOf maps each identity name to its folder: the name is the folder's in Unicode
	// normal form C (gallery.NormalizeName's form), which macOS may spell decomposed.
	folderOf := map[string]string{}
	for _, e := range entries {
		path := filepath.Join(root, e.Name())
		switch {
		case hidden(e.Name()):
		case isDir(path):
			// An identity name is stored as UTF-8 text (in the model, the gallery, the
			// reports): bytes that are not would turn into U+FFFD, and two folders into one
			// name. Such a folder is refused, as are two that spell one name two ways.
			if !utf8.ValidString(e.Name()) {
				return nil, fmt.Errorf("dataset: identity folder %q is not named in UTF-8 text; rename it", path)
			}
			name := norm.NFC.String(e.Name())
			if other, dup := folderOf[name]; dup {
				return nil, fmt.Errorf("dataset: identity folders %q and %q spell the same name %q in two Unicode forms; merge them into one",
					filepath.Join(root, other), path, name)
			}
			folderOf[name] = e.Name()
			d.Classes = append(d.Classes, name)
		default:
			d.Skipped = append(d.Skipped, &vision.FileError{Path: path,
				Err: errors.New("not inside an identity folder (photos go in DIR/<identity>/)")})
		}
	}
	if len(d.Classes) == 0 {
		return nil, fmt.Errorf("dataset: %s has no identity folders: expected %s/<identity>/<photo>", root, root)
	}
	slices.Sort(d.Classes)
	for label, class := range d.Classes {
		if err := d.scanIdentity(label, filepath.Join(root, folderOf[class]), dec); err != nil {
			return nil, err
		}
	}
	if len(d.Classes) < 2 {
		return nil, fmt.Errorf("dataset: %s has only the identity %q: %w", root, d.Classes[0], ErrTooFewIdentities)
	}
	return d, nil
}

func (d *Dataset) scanIdentity(label int, dir string, dec vision.Decoder) error {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return fmt.Errorf("dataset: %w", err)
	}
	files, usable := 0, 0
	for _, e := range entries { // ReadDir sorts by name, so Samples come out sorted
		path := filepath.Join(dir, e.Name())
		if hidden(e.Name()) {
			continue
		}
		files++
		if isDir(path) {
			d.Skipped = append(d.Skipped, &vision.FileError{Path: path,
				Err: errors.New("a folder inside an identity folder; its photos are not used")})
			continue
		}
		if _, _, _, err := dec.Check(path); err != nil {
			d.Skipped = append(d.Skipped, err)
			continue
		}
		d.Samples = append(d.Samples, Sample{Path: path, Label: label})
		usable++
	}
	if files == 0 {
		return fmt.Errorf("dataset: identity folder %s is empty: each identity needs photos", dir)
	}
	if usable == 0 {
		return fmt.Errorf("dataset: identity folder %s has no usable photo (%d files skipped)", dir, files)
	}
	return nil
}

func hidden(name string) bool { return strings.HasPrefix(name, ".") }

// isDir follows symbolic links, so a linked identity folder counts as a folder.
func isDir(path string) bool {
	info, err := os.Stat(path)
	return err == nil && info.IsDir()
}

// Counts returns the number of samples of each class.
func (d *Dataset) Counts() []int {
	counts := make([]int, len(d.Classes))
	for _, s := range d.Samples {
		counts[s.Label]++
	}
	return counts
}

// subset is a Dataset with the same classes and the given samples.
func (d *Dataset) subset(samples []Sample) *Dataset {
	return &Dataset{Root: d.Root, Classes: d.Classes, Samples: samples}
}
