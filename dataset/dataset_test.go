package dataset

import (
	"context"
	"errors"
	"fmt"
	"image"
	"image/color"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/vgglab/vgg/vision"
)

// photoOf draws a small picture whose colour encodes (identity, photo), so tests can tell
// photos apart after loading; blue ramps left to right so mirroring shows.
func photoOf(identity, photo int) *image.RGBA {
	img := image.NewRGBA(image.Rect(0, 0, 20, 16))
	for y := 0; y < 16; y++ {
		for x := 0; x < 20; x++ {
			img.SetRGBA(x, y, color.RGBA{uint8(40 * identity), uint8(10 * photo), uint8(x * 12), 255})
		}
	}
	return img
}

func writeFile(t *testing.T, path string, data []byte) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
}

// makeSet writes root/<names[i]>/NNN.png with counts[i] photos each.
func makeSet(t *testing.T, names []string, counts []int) string {
	t.Helper()
	root := t.TempDir()
	for i, name := range names {
		if err := os.MkdirAll(filepath.Join(root, name), 0o755); err != nil {
			t.Fatal(err)
		}
		for p := range counts[i] {
			if err := vision.WritePNG(filepath.Join(root, name, fmt.Sprintf("%03d.png", p)), photoOf(i, p)); err != nil {
				t.Fatal(err)
			}
		}
	}
	return root
}

func TestScan(t *testing.T) {
	names := []string{"아이유", "Keanu Reeves", "Zed", "Ada"}
	root := makeSet(t, names, []int{3, 2, 1, 4})
	writeFile(t, filepath.Join(root, "Zed", "note.jpg"), []byte("this is not a photo\n"))
	writeFile(t, filepath.Join(root, "Zed", ".DS_Store"), []byte{0, 0, 0, 1, 'B', 'u', 'd', '1'})
	writeFile(t, filepath.Join(root, "README.md"), []byte("# my faces\n"))
	writeFile(t, filepath.Join(root, "Ada", "old", "x.png"), []byte("nested"))

	d, err := Scan(root, vision.Decoder{})
	if err != nil {
		t.Fatal(err)
	}
	wantClasses := []string{"Ada", "Keanu Reeves", "Zed", "아이유"} // byte order: stable everywhere
	if !slices.Equal(d.Classes, wantClasses) {
		t.Errorf("classes %q, want %q", d.Classes, wantClasses)
	}
	if got := d.Counts(); !slices.Equal(got, []int{4, 2, 1, 3}) {
		t.Errorf("counts %v, want [4 2 1 3]", got)
	}
	if !slices.IsSortedFunc(d.Samples, func(a, b Sample) int {
		if a.Label != b.Label {
			return a.Label - b.Label
		}
		return strings.Compare(a.Path, b.Path)
	}) {
		t.Error("samples not ordered by label then path")
	}
	if s := d.Samples[len(d.Samples)-1]; s.Path != filepath.Join(root, "아이유", "002.png") || s.Label != 3 {
		t.Errorf("last sample %+v", s)
	}
	var skipped []string
	for _, err := range d.Skipped {
		skipped = append(skipped, err.Error())
	}
	joined := strings.Join(skipped, "\n")
	for _, want := range []string{
		filepath.Join(root, "Zed", "note.jpg") + ": not an image (looks like text)",
		filepath.Join(root, "README.md") + ": not inside an identity folder",
		filepath.Join(root, "Ada", "old") + ": a folder inside an identity folder",
	} {
		if !strings.Contains(joined, want) {
			t.Errorf("skipped list\n%s\nlacks %q", joined, want)
		}
	}
	if len(d.Skipped) != 3 {
		t.Errorf("%d skipped, want 3 (hidden files are ignored): %s", len(d.Skipped), joined)
	}
}

func TestScanErrors(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "nope")
	if _, err := Scan(missing, vision.Decoder{}); !errors.Is(err, os.ErrNotExist) || !strings.Contains(err.Error(), "nope") {
		t.Errorf("missing root: %v", err)
	}

	empty := t.TempDir()
	if _, err := Scan(empty, vision.Decoder{}); err == nil || !strings.Contains(err.Error(), "has no identity folders") {
		t.Errorf("empty root: %v", err)
	}

	root := makeSet(t, []string{"Ann", "Bob"}, []int{2, 2})
	os.Mkdir(filepath.Join(root, "Cleo"), 0o755)
	if _, err := Scan(root, vision.Decoder{}); err == nil || !strings.Contains(err.Error(), filepath.Join(root, "Cleo")+" is empty") {
		t.Errorf("empty identity folder: %v", err)
	}

	single := makeSet(t, []string{"Solo"}, []int{3})
	_, err := Scan(single, vision.Decoder{})
	if !errors.Is(err, ErrTooFewIdentities) || !strings.Contains(err.Error(), `only the identity "Solo": needs at least two identities to learn to tell them apart`) {
		t.Errorf("single identity: %v", err)
	}

	bad := makeSet(t, []string{"Ann", "Bob"}, []int{2, 0})
	writeFile(t, filepath.Join(bad, "Bob", "a.jpg"), []byte("text"))
	if _, err := Scan(bad, vision.Decoder{}); err == nil || !strings.Contains(err.Error(), filepath.Join(bad, "Bob")+" has no usable photo") {
		t.Errorf("identity with only bad files: %v", err)
	}
}

func TestVerifySkipsUndecodable(t *testing.T) {
	root := makeSet(t, []string{"Ann", "Bob"}, []int{3, 2})
	// A JPEG cut short in its pixel data passes the header check and fails only on full
	// decoding.
	big := vision.Resize(photoOf(0, 0), 200, 160)
	whole := filepath.Join(t.TempDir(), "whole.jpg")
	if err := vision.WriteJPEG(whole, big, 90); err != nil {
		t.Fatal(err)
	}
	data, _ := os.ReadFile(whole)
	cut := data[:len(data)*2/3]
	truncated := filepath.Join(root, "Ann", "cut.jpg")
	writeFile(t, truncated, cut)

	d, err := Scan(root, vision.Decoder{})
	if err != nil {
		t.Fatal(err)
	}
	if len(d.Samples) != 6 || len(d.Skipped) != 0 {
		t.Fatalf("scan: %d samples %d skipped, want 6 and 0", len(d.Samples), len(d.Skipped))
	}
	src := NewSource(SourceOptions{Size: 8})
	if err := d.Verify(context.Background(), src, 2, nil); err != nil {
		t.Fatal(err)
	}
	if len(d.Samples) != 5 || len(d.Skipped) != 1 || !strings.Contains(d.Skipped[0].Error(), truncated+": truncated JPEG") {
		t.Errorf("after verify: %d samples, skipped %v", len(d.Samples), d.Skipped)
	}

	// An identity whose every photo is truncated is an error naming it.
	for _, s := range d.Samples {
		if s.Label == 1 {
			writeFile(t, s.Path, cut)
		}
	}
	d, err = Scan(root, vision.Decoder{})
	if err != nil {
		t.Fatal(err)
	}
	if err := d.Verify(context.Background(), NewSource(SourceOptions{Size: 8}), 2, nil); err == nil || !strings.Contains(err.Error(), `identity "Bob" has no usable photo`) {
		t.Errorf("identity left empty: %v", err)
	}
}

func TestSourceCacheAndFrame(t *testing.T) {
	root := makeSet(t, []string{"Ann", "Bob"}, []int{1, 1})
	path := filepath.Join(root, "Ann", "000.png")

	cached := NewSource(SourceOptions{Size: 8, Cache: true})
	first, err := cached.Image(path)
	if err != nil {
		t.Fatal(err)
	}
	if first.Bounds() != image.Rect(0, 0, 8, 8) {
		t.Errorf("bounds %v, want 8x8", first.Bounds())
	}
	os.Remove(path) // a cached picture no longer needs its file
	if again, err := cached.Image(path); err != nil || again != first {
		t.Errorf("cached load: %v, same picture %v", err, again == first)
	}
	if _, err := NewSource(SourceOptions{Size: 8}).Image(path); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("uncached load of a removed file: %v", err)
	}

	// The hook sees the decoded photo; its error names the file.
	bob := filepath.Join(root, "Bob", "000.png")
	noFace := errors.New("no face found")
	failing := NewSource(SourceOptions{Size: 8, Frame: func(image.Image) (image.Image, string, error) { return nil, "", noFace }})
	if _, err := failing.Image(bob); !errors.Is(err, noFace) || !strings.HasPrefix(err.Error(), bob+": ") {
		t.Errorf("preprocess error: %v", err)
	}
	// A hook keeping only the left 4 columns: every blue value then comes from x < 4.
	left := NewSource(SourceOptions{Size: 4, Frame: func(img image.Image) (image.Image, string, error) {
		return img.(*image.RGBA).SubImage(image.Rect(0, 0, 4, 4)), "", nil
	}})
	img, err := left.Image(bob)
	if err != nil {
		t.Fatal(err)
	}
	for x := 0; x < 4; x++ {
		if b := img.RGBAAt(x, 0).B; b != uint8(12*x) {
			t.Errorf("preprocessed column %d blue %d, want %d", x, b, 12*x)
		}
	}
}

func TestComputeNorm(t *testing.T) {
	root := t.TempDir()
	// Ann is pure red, Bob pure blue: red and blue have mean 0.5 and std 0.5, green 0.
	for name, c := range map[string]color.RGBA{"Ann": {255, 0, 0, 255}, "Bob": {0, 0, 255, 255}} {
		img := image.NewRGBA(image.Rect(0, 0, 10, 10))
		for i := 0; i < 100; i++ {
			img.SetRGBA(i%10, i/10, c)
		}
		os.Mkdir(filepath.Join(root, name), 0o755)
		if err := vision.WritePNG(filepath.Join(root, name, "a.png"), img); err != nil {
			t.Fatal(err)
		}
	}
	d, err := Scan(root, vision.Decoder{})
	if err != nil {
		t.Fatal(err)
	}
	norm, err := ComputeNorm(context.Background(), d, NewSource(SourceOptions{Size: 6}), 3)
	if err != nil {
		t.Fatal(err)
	}
	want := vision.Normalization{Mean: [3]float32{0.5, 0, 0.5}, Std: [3]float32{0.5, 1e-3, 0.5}}
	for c := range 3 {
		if d := norm.Mean[c] - want.Mean[c]; d > 1e-6 || d < -1e-6 {
			t.Errorf("mean[%d] = %v, want %v", c, norm.Mean[c], want.Mean[c])
		}
		if d := norm.Std[c] - want.Std[c]; d > 1e-6 || d < -1e-6 {
			t.Errorf("std[%d] = %v, want %v", c, norm.Std[c], want.Std[c])
		}
	}
	if _, err := ComputeNorm(context.Background(), d.subset(nil), NewSource(SourceOptions{Size: 6}), 1); err == nil {
		t.Error("statistics of an empty set succeeded")
	}
}

// Issue 18 items 6 and 13: an identity folder whose name is not UTF-8 is refused, naming it
// (its name would be stored as U+FFFD); names are in normal form C, and two folders that spell
// one name in two forms are refused rather than becoming two identities that print alike.
func TestScanNames(t *testing.T) {
	root := makeSet(t, []string{"Ann", "Bad\xff"}, []int{1, 1})
	if _, err := Scan(root, vision.Decoder{}); err == nil || !strings.Contains(err.Error(), `Bad\xff`) || !strings.Contains(err.Error(), "UTF-8") {
		t.Errorf("Scan with a folder named in bytes that are not UTF-8: %v", err)
	}
	nfc, nfd := "Jos\u00e9", "Jose\u0301"
	set, err := Scan(makeSet(t, []string{"Ann", nfd}, []int{1, 2}), vision.Decoder{})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(set.Classes, []string{"Ann", nfc}) || len(set.Samples) != 3 {
		t.Errorf("Scan of a decomposed name: %v, classes %q", err, set.Classes)
	}
	if _, err := Scan(makeSet(t, []string{"Ann", nfc, nfd}, []int{1, 1, 1}), vision.Decoder{}); err == nil || !strings.Contains(err.Error(), "two Unicode forms") {
		t.Errorf("Scan of one name in two forms: %v", err)
	}
}

// ListIdentities is the walk Scan and 'vgg align' share: identity folders sorted by their
// NFC name (the path spelled as on disk), each with its files and nested folders; stray files
// beside them; hidden entries nowhere; an empty folder listed with no files.
func TestListIdentities(t *testing.T) {
	root := t.TempDir()
	decomposed := "jose\u0301" // "josé" as macOS may spell it
	for _, path := range []string{"b/2.jpg", "b/1.jpg", "b/.DS_Store", "b/inner/3.jpg", decomposed + "/1.jpg", "stray.jpg", ".hidden/1.jpg"} {
		writeFile(t, filepath.Join(root, path), []byte("x"))
	}
	os.Mkdir(filepath.Join(root, "a"), 0o755)
	folders, stray, err := ListIdentities(root)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, f := range folders {
		got = append(got, fmt.Sprintf("%s %s %v %v", f.Name, f.Dir, f.Files, f.Nested))
	}
	b, j := filepath.Join(root, "b"), filepath.Join(root, decomposed)
	want := []string{
		fmt.Sprintf("a %s [] []", filepath.Join(root, "a")),
		fmt.Sprintf("b %s [%s %s] [%s]", b, filepath.Join(b, "1.jpg"), filepath.Join(b, "2.jpg"), filepath.Join(b, "inner")),
		fmt.Sprintf("josé %s [%s] []", j, filepath.Join(j, "1.jpg")),
	}
	if !slices.Equal(got, want) {
		t.Errorf("folders\n%q\nwant\n%q", got, want)
	}
	if !slices.Equal(stray, []string{filepath.Join(root, "stray.jpg")}) {
		t.Errorf("stray %v", stray)
	}
	if _, _, err := ListIdentities(filepath.Join(root, "missing")); err == nil {
		t.Error("a missing folder: no error")
	}
}
