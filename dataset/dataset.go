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
	folders, stray, err := ListIdentities(root)
	if err != nil {
		return nil, err
	}
	d := &Dataset{Root: root}
	for _, path := range stray {
		d.Skipped = append(d.Skipped, &vision.FileError{Path: path,
			Err: errors.New("not inside an identity folder (photos go in DIR/<identity>/)")})
	}
	if len(folders) == 0 {
		return nil, fmt.Errorf("dataset: %s has no identity folders: expected %s/<identity>/<photo>", root, root)
	}
	for label, folder := range folders {
		d.Classes = append(d.Classes, folder.Name)
		if err := d.scanIdentity(label, folder, dec); err != nil {
			return nil, err
		}
	}
	if len(d.Classes) < 2 {
		return nil, fmt.Errorf("dataset: %s has only the identity %q: %w", root, d.Classes[0], ErrTooFewIdentities)
	}
	return d, nil
}

// IdentityFolder is one identity's folder of a collection, as ListIdentities finds it.
type IdentityFolder struct {
	// Name is the identity's name: the folder's name in Unicode normal form C
	// (gallery.NormalizeName's form), which macOS may spell decomposed.
	Name string
	// Dir is the folder's path, spelled as on disk.
	Dir string
	// Files are the paths of the entries that are not folders (photos, or files that are not:
	// ListIdentities reads no file), sorted by name; hidden entries are left out.
	Files []string
	// Nested are the folders inside it, whose photos are not used.
	Nested []string
}

// ListIdentities walks a collection laid out as root/<identity>/<photo>: the folder rules that
// Scan and 'vgg align' share. It returns the identity folders sorted by Name, and the paths
// of stray files beside them (stray). Hidden entries (".DS_Store") are ignored, and symbolic
// links followed, so a linked identity folder counts as a folder. It fails, naming the folder,
// when root or an identity folder cannot be read, when a folder's name is not UTF-8 text
// (bytes that are not would turn into U+FFFD, and two folders into one name), and when two
// folders spell one name in two Unicode forms.
func ListIdentities(root string) (folders []IdentityFolder, stray []string, err error) {
	entries, err := os.ReadDir(root)
	if err != nil {
		return nil, nil, fmt.Errorf("dataset: %w", err)
	}
	folderOf := map[string]string{} // identity name -> its folder's path
	for _, e := range entries {
		path := filepath.Join(root, e.Name())
		switch {
		case hidden(e.Name()):
		case isDir(path):
			if !utf8.ValidString(e.Name()) {
				return nil, nil, fmt.Errorf("dataset: identity folder %q is not named in UTF-8 text; rename it", path)
			}
			name := norm.NFC.String(e.Name())
			if other, dup := folderOf[name]; dup {
				return nil, nil, fmt.Errorf("dataset: identity folders %q and %q spell the same name %q in two Unicode forms; merge them into one",
					other, path, name)
			}
			folderOf[name] = path
			folders = append(folders, IdentityFolder{Name: name, Dir: path})
		default:
			stray = append(stray, path)
		}
	}
	slices.SortFunc(folders, func(a, b IdentityFolder) int { return strings.Compare(a.Name, b.Name) })
	for i := range folders {
		if err := folders[i].list(); err != nil {
			return nil, nil, err
		}
	}
	return folders, stray, nil
}

// list fills Files and Nested.
func (f *IdentityFolder) list() error {
	entries, err := os.ReadDir(f.Dir)
	if err != nil {
		return fmt.Errorf("dataset: %w", err)
	}
	for _, e := range entries { // ReadDir sorts by name
		path := filepath.Join(f.Dir, e.Name())
		switch {
		case hidden(e.Name()):
		case isDir(path):
			f.Nested = append(f.Nested, path)
		default:
			f.Files = append(f.Files, path)
		}
	}
	return nil
}

func (d *Dataset) scanIdentity(label int, folder IdentityFolder, dec vision.Decoder) error {
	// Entries in name order, as they are on disk, so Skipped reads in that order too.
	entries := slices.Concat(folder.Files, folder.Nested)
	slices.Sort(entries)
	usable := 0
	for _, path := range entries {
		if slices.Contains(folder.Nested, path) {
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
	files := len(entries)
	if files == 0 {
		return fmt.Errorf("dataset: identity folder %s is empty: each identity needs photos", folder.Dir)
	}
	if usable == 0 {
		return fmt.Errorf("dataset: identity folder %s has no usable photo (%d files skipped)", folder.Dir, files)
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
