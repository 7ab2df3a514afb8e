// Package gallery stores the face embeddings of known photos beside a model and searches them:
// which gallery photo is most like a new face, and which identity is, by cosine similarity.
//
// An embedding is nn.Model.Embedding: the network's convolutional features (the last max pool's
// output, flattened), or for models from before them its penultimate activation (after fc.4's
// ReLU, before the classifier). The gallery compares directions: each embedding minus the gallery's mean
// embedding, scaled to unit length, so the dot product of two is their cosine similarity, 1 for
// the same picture. The mean is taken out because ReLU outputs are all non-negative and share a
// large common part: raw, every pair of faces has a cosine near 1 (0.99 between different
// people is usual for a small model) and the ranking drowns in rounding; centred, what all
// faces share is gone and similarities spread over [-1, 1]. The mean is that of the photos
// 'vgg index' embedded; photos enrolled later are centred with the same mean. Where the
// gallery has a Whitening (fitted on the same photos, see fitWhitening), the centred embedding
// is whitened before it is scaled.
//
// A gallery is tied to the model that computed it: the file records a fingerprint of the
// model's weights, and a gallery from another model (or from an earlier state of the same
// training run) is refused, because its embeddings live in a different space.
//
// The gallery file, MODEL.gallery beside MODEL.safetensors, is:
//
//	"vgg-gallery\n"                 magic line
//	uint32 little-endian            length of the JSON header
//	JSON header                     {"version", "model_sha256", "dim", "mean", "whitened", "entries": [{"identity", "path"}], "separation"}
//	float32 little-endian           len(entries) x dim embedding values, row after row
//	float32 little-endian           dim x dim whitening values, row after row, when "whitened"
//
// "separation" (see Separation) was added within version 1: readers ignore a field they do not
// know, and a gallery without it has it measured when it is asked for. Version 2 added the
// whitening; a version 1 gallery, which has none, is read as it was written, and a reader of
// version 1 refuses version 2 rather than compare whitened photos with unwhitened faces.
//
// It is written atomically (temporary file, then rename), so a crash never leaves half a gallery,
// and under an OS lock on MODEL.gallery.lock (see Update), so that two processes adding people
// at once both keep them.
package gallery

import (
	"bufio"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/vgglab/vgg/safefile"
	"github.com/vgglab/vgg/tensor"
	"github.com/vgglab/vgg/vision"
)

// Version is the gallery file version this program writes and reads.
const Version = 2

const magic = "vgg-gallery\n"

// maxHeaderBytes bounds the JSON header a reader accepts, so a damaged length field cannot make
// it allocate gigabytes: 64 MiB is room for a million photo paths.
const maxHeaderBytes = 64 << 20

// maxDim bounds the embedding width a reader accepts: a VGG-D's embedding has at most 4096
// values, and a header claiming 2^62 must not make a later step allocate that many.
const maxDim = 1 << 16

// Entry is one gallery photo: whose face it is and where the photo is.
type Entry struct {
	Identity string `json:"identity"`
	Path     string `json:"path"`
}

// Gallery is a set of photos with their unit-length embeddings.
type Gallery struct {
	// ModelSHA256 is the Fingerprint of the model whose embeddings these are.
	ModelSHA256 string
	// Dim is the length of every embedding.
	Dim int
	// Mean is the embedding subtracted before normalising (nil: none yet, see AddPhotos).
	Mean []float32
	// Whitening, Dim x Dim row after row, is applied to every centred embedding before it is
	// normalised (nil: none): the within-identity spread of the photos it was fitted on,
	// scaled away (see fitWhitening).
	Whitening []float32
	// Whiten asks AddPhotos to fit Whitening where it fits the mean (into an empty gallery
	// without one): true for a model's own gallery, whose identities are the people it
	// knows; false where the photos added are the ones being scored, whose identities must not
	// shape the space they are scored in. It is not stored.
	Whiten  bool
	Entries []Entry
	// vectors holds len(Entries) directions (centred, unit length) of Dim values, row after row.
	vectors []float32
	// separation is the measure of the photos as they are, nil until it is taken and whenever
	// photos are added or removed.
	separation *Separation
}

// New returns an empty gallery for the model with the given fingerprint and embedding width.
func New(modelSHA256 string, dim int) *Gallery {
	return &Gallery{ModelSHA256: modelSHA256, Dim: dim}
}

// PathFor is where the gallery of the model checkpoint at modelPath lives:
// "run/model.safetensors" -> "run/model.gallery".
func PathFor(modelPath string) string {
	return strings.TrimSuffix(modelPath, ".safetensors") + ".gallery"
}

// Len is the number of photos.
func (g *Gallery) Len() int { return len(g.Entries) }

// Vector returns the direction of photo i (shared with the gallery: do not modify).
func (g *Gallery) Vector(i int) []float32 { return g.vectors[i*g.Dim : (i+1)*g.Dim] }

// ErrSilent says that an embedding has no direction: it is all zeros (no unit fires) or,
// once centred, exactly the gallery's mean. It resembles nothing and cannot be compared.
var ErrSilent = errors.New("the face's embedding has no direction (all zeros, or exactly the gallery mean), so it cannot be compared")

// Direction turns a raw embedding into what the gallery compares: minus the gallery's mean,
// whitened where the gallery has a Whitening, scaled to unit length.
func (g *Gallery) Direction(embedding []float32) ([]float32, error) {
	if len(embedding) != g.Dim {
		return nil, fmt.Errorf("gallery: an embedding of %d values, the gallery holds %d", len(embedding), g.Dim)
	}
	centred := embedding
	if g.Mean != nil {
		centred = make([]float32, g.Dim)
		for i, v := range embedding {
			centred[i] = v - g.Mean[i]
		}
	}
	if g.Whitening != nil {
		centred = whiten(g.Whitening, centred)
	}
	unit, err := normalize(centred)
	if err != nil {
		return nil, ErrSilent
	}
	return unit, nil
}

// SetMean makes the mean of the given raw embeddings the gallery's centre. It must be called
// before any photo is added: the stored directions depend on it.
func (g *Gallery) SetMean(embeddings [][]float32) error {
	if g.Len() > 0 {
		return fmt.Errorf("gallery: the mean cannot change once photos are in")
	}
	mean := make([]float64, g.Dim)
	for _, e := range embeddings {
		if len(e) != g.Dim {
			return fmt.Errorf("gallery: an embedding of %d values, the gallery holds %d", len(e), g.Dim)
		}
		for i, v := range e {
			mean[i] += float64(v)
		}
	}
	g.Mean = make([]float32, g.Dim)
	for i := range mean {
		g.Mean[i] = float32(mean[i] / float64(len(embeddings)))
	}
	return nil
}

// Add appends a photo given its raw embedding, stored as its Direction. The identity name is
// stored in Unicode normal form C (see NormalizeName); a name or path that is not valid UTF-8
// is refused (see CheckEntry).
func (g *Gallery) Add(e Entry, embedding []float32) error {
	_, err := g.add(e, embedding, false)
	return err
}

// AddNew is Add for a photo the identity may have already: it adds nothing and returns false
// when the gallery holds the same photo for the same identity, by path or by content (an
// embedding whose direction is the same, which a copy of the photo under another name has).
// Enrolling the same photos twice then leaves one of each.
func (g *Gallery) AddNew(e Entry, embedding []float32) (added bool, err error) {
	return g.add(e, embedding, true)
}

// sameDirection is the cosine above which two directions are taken to be the same photo:
// one photo through one model gives the same embedding up to float rounding, while two
// different photos of a person, even near-duplicates, differ far more.
const sameDirection = 1 - 1e-5

func (g *Gallery) add(e Entry, embedding []float32, skipKnown bool) (bool, error) {
	if err := CheckEntry(e); err != nil {
		return false, err
	}
	e.Identity = NormalizeName(e.Identity)
	unit, err := g.Direction(embedding)
	if err != nil {
		return false, fmt.Errorf("gallery: %s: %w", e.Path, err)
	}
	if skipKnown {
		for i, known := range g.Entries {
			if known.Identity == e.Identity && (known.Path == e.Path || cosine(g.Vector(i), unit) >= sameDirection) {
				return false, nil
			}
		}
	}
	g.Entries = append(g.Entries, e)
	g.vectors = append(g.vectors, unit...)
	g.separation = nil
	return true, nil
}

// cosine is the cosine similarity of two unit-length directions: their dot product.
func cosine(a, b []float32) float64 {
	var s float64
	for i := range a {
		s += float64(a[i]) * float64(b[i])
	}
	return s
}

// CheckEntry refuses an entry whose identity is blank or whose name or path is not valid
// UTF-8: the gallery's JSON header would store U+FFFD in place of the bad bytes, so the path
// would name a file that does not exist and two different names could become one.
func CheckEntry(e Entry) error {
	if !utf8.ValidString(e.Path) {
		return fmt.Errorf("gallery: %q: the file name is not valid UTF-8, which the gallery cannot store; rename it", e.Path)
	}
	if err := CheckName(e.Identity); err != nil {
		return fmt.Errorf("gallery: %s: %w", e.Path, err)
	}
	return nil
}

// Remove deletes every photo of an identity and returns how many there were.
func (g *Gallery) Remove(identity string) int {
	keptEntries := g.Entries[:0]
	keptVectors := g.vectors[:0]
	removed := 0
	for i, e := range g.Entries {
		if e.Identity == identity {
			removed++
			continue
		}
		keptEntries = append(keptEntries, e)
		keptVectors = append(keptVectors, g.vectors[i*g.Dim:(i+1)*g.Dim]...)
	}
	g.Entries, g.vectors = keptEntries, keptVectors
	g.separation = nil
	return removed
}

// IdentityCount is how many photos of one identity the gallery holds.
type IdentityCount struct {
	Identity string
	Photos   int
}

// Identities lists the identities in name order with their photo counts.
func (g *Gallery) Identities() []IdentityCount {
	counts := map[string]int{}
	for _, e := range g.Entries {
		counts[e.Identity]++
	}
	var out []IdentityCount
	for name, n := range counts {
		out = append(out, IdentityCount{name, n})
	}
	slices.SortFunc(out, func(a, b IdentityCount) int { return strings.Compare(a.Identity, b.Identity) })
	return out
}

// Names lists the identities in name order.
func (g *Gallery) Names() []string {
	var names []string
	for _, c := range g.Identities() {
		names = append(names, c.Identity)
	}
	return names
}

// normalize returns v scaled to unit Euclidean length, or an error when v is zero or not finite.
func normalize(v []float32) ([]float32, error) {
	var sum float64
	for _, x := range v {
		sum += float64(x) * float64(x)
	}
	norm := math.Sqrt(sum)
	if norm == 0 || math.IsInf(norm, 0) || math.IsNaN(norm) {
		return nil, fmt.Errorf("embedding has length %v and cannot be normalised", norm)
	}
	out := make([]float32, len(v))
	for i, x := range v {
		out[i] = float32(float64(x) / norm)
	}
	return out, nil
}

// header is the JSON part of the file.
type header struct {
	Version     int         `json:"version"`
	ModelSHA256 string      `json:"model_sha256"`
	Dim         int         `json:"dim"`
	Mean        []float32   `json:"mean,omitempty"`
	Whitened    bool        `json:"whitened,omitempty"`
	Entries     []Entry     `json:"entries"`
	Separation  *Separation `json:"separation,omitempty"`
}

// Save writes the gallery to path atomically, under the gallery's lock (see Update).
func (g *Gallery) Save(path string) error {
	unlock, err := safefile.Lock(path)
	if err != nil {
		return err
	}
	defer unlock()
	return g.save(path)
}

// Update changes the gallery file at path without losing another process's change: it takes
// the gallery's OS lock (safefile.Lock), reads the gallery as it is now, checking that it
// belongs to the model with fingerprint modelSHA256 (see Load), applies change and saves the
// result before releasing the lock. When there is no gallery yet and empty is not nil, change
// starts from empty(). Two 'vgg enrol' runs on one gallery at once thus both keep their
// people: the second reads what the first saved.
func Update(path, modelSHA256 string, empty func() *Gallery, change func(*Gallery) error) (*Gallery, error) {
	unlock, err := safefile.Lock(path)
	if err != nil {
		return nil, err
	}
	defer unlock()
	var g *Gallery
	if _, statErr := os.Stat(path); errors.Is(statErr, os.ErrNotExist) && empty != nil {
		g = empty()
	} else if g, err = Load(path, modelSHA256); err != nil {
		return nil, err
	}
	if err := change(g); err != nil {
		return nil, err
	}
	return g, g.save(path)
}

func (g *Gallery) save(path string) error {
	sep := g.Separation()
	head, err := json.Marshal(header{Version: Version, ModelSHA256: g.ModelSHA256, Dim: g.Dim, Mean: g.Mean, Whitened: g.Whitening != nil,
		Entries: g.Entries, Separation: &sep})
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return vision.WriteAtomic(path, func(w io.Writer) error {
		bw := bufio.NewWriter(w)
		bw.WriteString(magic)
		binary.Write(bw, binary.LittleEndian, uint32(len(head)))
		bw.Write(head)
		if err := binary.Write(bw, binary.LittleEndian, g.vectors); err != nil {
			return err
		}
		if g.Whitening != nil {
			if err := binary.Write(bw, binary.LittleEndian, g.Whitening); err != nil {
				return err
			}
		}
		return bw.Flush()
	})
}

// IsFile reports whether the file at path is a gallery (it starts with the gallery's magic
// line), so that 'vgg index' may replace it and nothing else.
func IsFile(path string) bool {
	return string(safefile.ReadHead(path, len(magic))) == magic
}

// ErrWrongModel is returned (wrapped, with the details) by Load when the gallery was computed
// by another model than the one it is loaded for.
var ErrWrongModel = errors.New("the gallery belongs to a different model")

// Load reads the gallery at path and checks that it belongs to the model with fingerprint
// modelSHA256 (an empty fingerprint skips that check). Every problem is an error naming the
// file: not a gallery, another version, truncated, or another model's.
func Load(path, modelSHA256 string) (*Gallery, error) {
	f, err := safefile.Open(path)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("%s: no gallery yet; build one with 'vgg index' or 'vgg enrol'", path)
		}
		return nil, err
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return nil, err
	}
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%s: not a usable gallery file: %s", path, fmt.Sprintf(format, args...))
	}
	r := bufio.NewReader(f)
	got := make([]byte, len(magic))
	if _, err := io.ReadFull(r, got); err != nil || string(got) != magic {
		return nil, bad("it does not start with %q", strings.TrimSpace(magic))
	}
	var headLen uint32
	if err := binary.Read(r, binary.LittleEndian, &headLen); err != nil {
		return nil, bad("truncated header")
	}
	if int64(headLen) > maxHeaderBytes || int64(headLen) > info.Size() {
		return nil, bad("truncated header: it claims %d bytes, the file has %d", headLen, info.Size())
	}
	head := make([]byte, headLen)
	if _, err := io.ReadFull(r, head); err != nil {
		return nil, bad("truncated header")
	}
	var h header
	if err := json.Unmarshal(head, &h); err != nil {
		return nil, bad("header: %v", err)
	}
	if h.Version < 1 || h.Version > Version {
		return nil, bad("format version %d; this program reads versions 1 to %d", h.Version, Version)
	}
	if h.Dim <= 0 || h.Dim > maxDim || (h.Mean != nil && len(h.Mean) != h.Dim) {
		return nil, bad("embedding width %d with a mean of %d values (a width is from 1 to %d)", h.Dim, len(h.Mean), maxDim)
	}
	vectorBytes, ok := tensor.CheckedProduct(4, int64(len(h.Entries)), int64(h.Dim))
	whiteningBytes := int64(0)
	if h.Whitened {
		if h.Dim > MaxWhitenedWidth {
			return nil, bad("a whitening for %d-wide embeddings; at most %d are whitened (damaged header)", h.Dim, MaxWhitenedWidth)
		}
		whiteningBytes = 4 * int64(h.Dim) * int64(h.Dim)
	}
	want := int64(len(magic)) + 4 + int64(headLen) + vectorBytes + whiteningBytes
	if !ok {
		return nil, bad("%d photos of %d values are more than any file can hold (damaged header)", len(h.Entries), h.Dim)
	}
	if info.Size() != want {
		return nil, bad("%d bytes, but %d photos of %d values need %d (truncated or damaged)", info.Size(), len(h.Entries), h.Dim, want)
	}
	if modelSHA256 != "" && h.ModelSHA256 != modelSHA256 {
		return nil, fmt.Errorf("%s: %w: it was computed by the model with weights sha256 %.12s…, this model's is %.12s…; rebuild it with 'vgg index'",
			path, ErrWrongModel, h.ModelSHA256, modelSHA256)
	}
	g := &Gallery{ModelSHA256: h.ModelSHA256, Dim: h.Dim, Mean: h.Mean, Entries: h.Entries, vectors: make([]float32, len(h.Entries)*h.Dim),
		separation: h.Separation}
	if err := binary.Read(r, binary.LittleEndian, g.vectors); err != nil {
		return nil, bad("embeddings: %v", err)
	}
	if h.Whitened {
		g.Whitening = make([]float32, h.Dim*h.Dim)
		if err := binary.Read(r, binary.LittleEndian, g.Whitening); err != nil {
			return nil, bad("whitening: %v", err)
		}
		for _, v := range g.Whitening {
			if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
				return nil, bad("the whitening holds %v; rebuild the gallery with 'vgg index'", v)
			}
		}
	}
	// A NaN or an infinity would score every photo "NaN" and rank them anyhow.
	for i, v := range g.vectors {
		if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
			e := h.Entries[i/h.Dim]
			return nil, bad("the embedding of %s (%s) holds %v; rebuild the gallery with 'vgg index'", e.Path, e.Identity, v)
		}
	}
	return g, nil
}
