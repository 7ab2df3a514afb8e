package gallery

import (
	"context"
	"errors"
	"image"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/vgglab/vgg/dataset"
	"github.com/vgglab/vgg/kernels"
	_ "github.com/vgglab/vgg/kernels/cpu"
	"github.com/vgglab/vgg/nn"
	"github.com/vgglab/vgg/tensor"
	"github.com/vgglab/vgg/vision"
)

func openCPU(t testing.TB) kernels.Backend {
	t.Helper()
	b, err := kernels.Open("cpu")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	return b
}

// tinyModel is an untrained 1/16-width VGG-D on 32-pixel pictures: its random convolutions
// already map similar pictures to similar embeddings, which is all retrieval needs.
func tinyModel(t testing.TB, b kernels.Backend, seed uint64) *nn.Model {
	t.Helper()
	m, err := nn.New(b, nn.Config{Classes: 3, InputSize: 32, WidthDivisor: 16}, seed)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// basePicture is an identity's "face": a random colour pattern of 4x4 blocks.
func basePicture(seed uint64, size int) *image.RGBA {
	rng := tensor.NewRand(seed)
	img := image.NewRGBA(image.Rect(0, 0, size, size))
	var blocks [4][4][3]uint8
	for by := range 4 {
		for bx := range 4 {
			for c := range 3 {
				blocks[by][bx][c] = uint8(rng.IntN(256))
			}
		}
	}
	for y := range size {
		for x := range size {
			px := blocks[y*4/size][x*4/size]
			i := img.PixOffset(x, y)
			img.Pix[i], img.Pix[i+1], img.Pix[i+2], img.Pix[i+3] = px[0], px[1], px[2], 255
		}
	}
	return img
}

// photoOf is one "photo" of an identity: its pattern plus pixel noise of amplitude ±noise.
func photoOf(base *image.RGBA, seed uint64, noise int) *image.RGBA {
	rng := tensor.NewRand(seed)
	img := image.NewRGBA(base.Bounds())
	copy(img.Pix, base.Pix)
	for i := range img.Pix {
		if i%4 == 3 {
			continue
		}
		v := int(img.Pix[i]) + rng.IntN(2*noise+1) - noise
		img.Pix[i] = uint8(min(max(v, 0), 255))
	}
	return img
}

// writePhotos writes n photos of each identity under dir/<identity>/ and returns their entries.
func writePhotos(t *testing.T, dir string, identities []string, n int, firstSeed uint64) []Entry {
	t.Helper()
	var entries []Entry
	for id, name := range identities {
		base := basePicture(uint64(100+id), 32)
		if err := os.MkdirAll(filepath.Join(dir, name), 0o755); err != nil {
			t.Fatal(err)
		}
		for k := range n {
			path := filepath.Join(dir, name, string(rune('a'+k))+".png")
			if err := vision.WritePNG(path, photoOf(base, firstSeed+uint64(id*100+k), 40)); err != nil {
				t.Fatal(err)
			}
			entries = append(entries, Entry{Identity: name, Path: path})
		}
	}
	return entries
}

func embedPhotos(t *testing.T, m *nn.Model, entries []Entry) *Gallery {
	t.Helper()
	fp, err := m.Fingerprint()
	if err != nil {
		t.Fatal(err)
	}
	g := New(fp, m.EmbeddingWidth())
	src := dataset.NewSource(dataset.SourceOptions{Size: m.Config.InputSize})
	skipped, err := g.AddPhotos(context.Background(), &Embedder{Model: m, Norm: vision.Identity, BatchSize: 4}, src, entries, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(skipped) > 0 {
		t.Fatalf("skipped %v", skipped)
	}
	return g
}

// Every gallery photo queried against the gallery finds itself first, with similarity 1.
func TestGalleryPhotoFindsItself(t *testing.T) {
	b := openCPU(t)
	m := tinyModel(t, b, 1)
	entries := writePhotos(t, t.TempDir(), []string{"Ann", "Bob", "Cyd"}, 4, 1)
	g := embedPhotos(t, m, entries)
	if g.Len() != len(entries) || g.Mean == nil {
		t.Fatalf("gallery has %d photos (want %d) and mean %v (want the photos' mean)", g.Len(), len(entries), g.Mean)
	}
	for i := range g.Len() {
		hits, err := g.Nearest(g.Vector(i), 2)
		if err != nil {
			t.Fatal(err)
		}
		if hits[0].Index != i || math.Abs(float64(hits[0].Similarity)-1) > 1e-5 {
			t.Errorf("photo %d (%s): nearest is %d with similarity %v, want itself with 1", i, g.Entries[i].Path, hits[0].Index, hits[0].Similarity)
		}
		if hits[1].Similarity > hits[0].Similarity {
			t.Errorf("photo %d: hits not sorted: %v", i, hits)
		}
	}
}

// An identity enrolled after the model was made is found for a photo of it that the gallery has
// never seen, both by the identity ranking and by the nearest photo.
func TestEnrolledIdentityMatchesHeldOutPhoto(t *testing.T) {
	b := openCPU(t)
	m := tinyModel(t, b, 2)
	dir := t.TempDir()
	g := embedPhotos(t, m, writePhotos(t, dir, []string{"Ann", "Bob", "Cyd"}, 4, 1))
	// Enrol "Dee": three photos now, one held out (a later seed: different noise).
	enrolled := writePhotos(t, filepath.Join(dir, "enrol"), []string{"Ann", "Bob", "Cyd", "Dee"}, 4, 500)
	var dee, heldOut []Entry
	for _, e := range enrolled {
		if e.Identity == "Dee" {
			dee = append(dee, e)
		}
	}
	dee, heldOut = dee[:3], dee[3:]
	src := dataset.NewSource(dataset.SourceOptions{Size: 32})
	emb := &Embedder{Model: m, Norm: vision.Identity}
	if _, err := g.AddPhotos(context.Background(), emb, src, dee, nil); err != nil {
		t.Fatal(err)
	}
	pic, err := src.Image(heldOut[0].Path)
	if err != nil {
		t.Fatal(err)
	}
	outs, err := emb.Run([]*image.RGBA{pic})
	if err != nil {
		t.Fatal(err)
	}
	query, err := g.Direction(outs[0].Embedding)
	if err != nil {
		t.Fatal(err)
	}
	ranked, err := g.RankIdentities(query)
	if err != nil {
		t.Fatal(err)
	}
	if ranked[0].Identity != "Dee" || ranked[0].Closest.Entry.Identity != "Dee" {
		t.Fatalf("held-out photo of the enrolled identity ranks %+v first, want Dee", ranked[0])
	}
	t.Logf("Dee scores %.4f, runner-up %s %.4f", ranked[0].Score, ranked[1].Identity, ranked[1].Score)
	hit, ok, err := g.Closest(query, "Bob")
	if err != nil || !ok || hit.Entry.Identity != "Bob" {
		t.Fatalf("Closest(Bob) = %+v, %v, %v", hit, ok, err)
	}
	if _, ok, _ := g.Closest(query, "Nobody"); ok {
		t.Fatal("Closest found a photo of an identity the gallery does not have")
	}
}

func TestSaveLoadRemove(t *testing.T) {
	g := New("abc", 3)
	for i, name := range []string{"Bob", "Ann", "Bob"} {
		if err := g.Add(Entry{Identity: name, Path: name + string(rune('0'+i))}, []float32{float32(i + 1), 2, 0}); err != nil {
			t.Fatal(err)
		}
	}
	if err := g.Add(Entry{Identity: "Zed", Path: "z"}, []float32{0, 0, 0}); err == nil {
		t.Fatal("an all-zero embedding was accepted")
	}
	if err := g.Add(Entry{Identity: "Zed", Path: "z"}, []float32{1}); err == nil {
		t.Fatal("an embedding of the wrong width was accepted")
	}
	path := filepath.Join(t.TempDir(), "model.gallery")
	if err := g.Save(path); err != nil {
		t.Fatal(err)
	}
	back, err := Load(path, "abc")
	if err != nil {
		t.Fatal(err)
	}
	if back.Len() != 3 || back.Dim != 3 || back.Entries[1] != g.Entries[1] {
		t.Fatalf("loaded %+v, saved %+v", back, g)
	}
	for i := range 3 {
		for j, v := range back.Vector(i) {
			if v != g.Vector(i)[j] {
				t.Fatalf("vector %d differs: %v vs %v", i, back.Vector(i), g.Vector(i))
			}
		}
	}
	if got := back.Identities(); len(got) != 2 || got[0] != (IdentityCount{"Ann", 1}) || got[1] != (IdentityCount{"Bob", 2}) {
		t.Fatalf("Identities = %v", got)
	}
	if n := back.Remove("Bob"); n != 2 || back.Len() != 1 || back.Entries[0].Identity != "Ann" || back.Vector(0)[0] != g.Vector(1)[0] {
		t.Fatalf("Remove(Bob) = %d, left %+v", n, back)
	}
}

// Centring on the gallery mean spreads the similarities that a shared positive component
// crowds near 1, and survives a save and load.
func TestMeanCentring(t *testing.T) {
	raw := [][]float32{{10, 10, 1, 0}, {10, 10, 0, 1}, {10, 10, 1, 1}, {10, 10, 0, 0}}
	plain := New("m", 4)
	for i, r := range raw[:2] {
		plain.Add(Entry{Identity: "x", Path: string(rune('a' + i))}, r)
	}
	if s := dot(plain.Vector(0), plain.Vector(1)); s < 0.99 {
		t.Fatalf("uncentred similarity %v; the test wants the crowded case", s)
	}
	g := New("m", 4)
	if err := g.SetMean(raw); err != nil {
		t.Fatal(err)
	}
	for i, r := range raw {
		if err := g.Add(Entry{Identity: "x", Path: string(rune('a' + i))}, r); err != nil {
			t.Fatal(err)
		}
	}
	if s := dot(g.Vector(0), g.Vector(1)); math.Abs(float64(s)+1) > 1e-6 {
		t.Fatalf("centred similarity of opposite photos %v, want -1", s)
	}
	if err := g.SetMean(raw); err == nil {
		t.Fatal("the mean changed after photos were added")
	}
	if _, err := g.Direction([]float32{10, 10, 0.5, 0.5}); !errors.Is(err, ErrSilent) {
		t.Fatalf("the mean itself has a direction: %v", err)
	}
	path := filepath.Join(t.TempDir(), "g.gallery")
	if err := g.Save(path); err != nil {
		t.Fatal(err)
	}
	back, err := Load(path, "m")
	if err != nil {
		t.Fatal(err)
	}
	d1, _ := g.Direction([]float32{3, 4, 5, 6})
	d2, _ := back.Direction([]float32{3, 4, 5, 6})
	for i := range d1 {
		if d1[i] != d2[i] {
			t.Fatalf("direction after reload %v, before %v", d2, d1)
		}
	}
}

func dot(a, b []float32) float32 {
	var s float32
	for i := range a {
		s += a[i] * b[i]
	}
	return s
}

func TestLoadRefusesBadFiles(t *testing.T) {
	dir := t.TempDir()
	g := New("abc", 2)
	if err := g.Add(Entry{Identity: "Ann", Path: "a.jpg"}, []float32{1, 1}); err != nil {
		t.Fatal(err)
	}
	good := filepath.Join(dir, "good.gallery")
	if err := g.Save(good); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(good)
	if err != nil {
		t.Fatal(err)
	}
	write := func(name string, b []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	cases := []struct {
		path, model, want string
	}{
		{good, "def", "different model"},
		{write("trunc.gallery", data[:len(data)-3]), "abc", "truncated or damaged"},
		{write("text.gallery", []byte("hello, world\n")), "abc", "does not start with"},
		{write("head.gallery", data[:20]), "abc", "truncated header"},
		{write("v3.gallery", []byte(strings.Replace(string(data), `"version":2`, `"version":3`, 1))), "abc", "format version 3"},
		{filepath.Join(dir, "missing.gallery"), "abc", "no gallery yet"},
	}
	for _, c := range cases {
		_, err := Load(c.path, c.model)
		if err == nil || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), c.path) {
			t.Errorf("Load(%s) = %v, want an error naming the file and saying %q", filepath.Base(c.path), err, c.want)
		}
	}
	if _, err := Load(good, "def"); !errors.Is(err, ErrWrongModel) {
		t.Errorf("wrong model error %v does not match ErrWrongModel", err)
	}
}

// The fingerprint is the same for the same weights wherever they come from, and changes with
// any weight.
func TestFingerprint(t *testing.T) {
	b := openCPU(t)
	m := tinyModel(t, b, 7)
	fp, err := m.Fingerprint()
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "m.safetensors")
	names := []string{"a", "b", "c"}
	if err := nn.SaveModel(path, m, nn.ModelInfo{ClassNames: names, Std: [3]float32{1, 1, 1}}); err != nil {
		t.Fatal(err)
	}
	loaded, _, err := nn.LoadModel(b, path)
	if err != nil {
		t.Fatal(err)
	}
	if fp2, _ := loaded.Fingerprint(); fp2 != fp {
		t.Fatalf("fingerprint after save and load %s, before %s", fp2, fp)
	}
	if other, _ := tinyModel(t, b, 8).Fingerprint(); other == fp {
		t.Fatal("two differently seeded models have the same fingerprint")
	}
	p := loaded.Params()[len(loaded.Params())-1]
	host := tensor.Zeros(p.Shape...)
	if err := b.Download(host, p.Value); err != nil {
		t.Fatal(err)
	}
	host.Float32s()[0] += 1e-3
	if err := b.Upload(p.Value, host); err != nil {
		t.Fatal(err)
	}
	if fp3, _ := loaded.Fingerprint(); fp3 == fp {
		t.Fatal("changing one weight kept the fingerprint")
	}
}

func TestLookup(t *testing.T) {
	names := []string{"Barack_Obama", "Colin_Powell", "Daniel_Radcliffe", "Arin"}
	if i, err := Lookup(names, "Colin_Powell"); i != 1 || err != nil {
		t.Fatalf("exact: %d, %v", i, err)
	}
	if i, err := Lookup(names, "barack obama"); i != 0 || err != nil {
		t.Fatalf("loose: %d, %v", i, err)
	}
	_, err := Lookup(names, "Barak Obama")
	if err == nil || !strings.HasPrefix(err.Error(), `unknown identity "Barak Obama"; closest: "Barack_Obama"`) {
		t.Fatalf("typo: %v", err)
	}
	if _, err := Lookup(names, "Radcliffe"); err == nil || !strings.Contains(err.Error(), `closest: "Daniel_Radcliffe"`) {
		t.Fatalf("part of a name: %v", err)
	}
	if _, err := Lookup(nil, "x"); err == nil {
		t.Fatal("lookup in no names succeeded")
	}
}

// A photo that cannot be decoded is skipped with its name; the others are added.
func TestAddPhotosSkipsBadFiles(t *testing.T) {
	b := openCPU(t)
	m := tinyModel(t, b, 3)
	dir := t.TempDir()
	entries := writePhotos(t, dir, []string{"Ann"}, 2, 1)
	bad := filepath.Join(dir, "Ann", "broken.jpg")
	if err := os.WriteFile(bad, []byte("not a jpeg"), 0o644); err != nil {
		t.Fatal(err)
	}
	entries = append(entries, Entry{Identity: "Ann", Path: bad})
	fp, _ := m.Fingerprint()
	g := New(fp, m.EmbeddingWidth())
	skipped, err := g.AddPhotos(context.Background(), &Embedder{Model: m, Norm: vision.Identity}, dataset.NewSource(dataset.SourceOptions{Size: 32}), entries, nil)
	if err != nil {
		t.Fatal(err)
	}
	if g.Len() != 2 || len(skipped) != 1 || !strings.Contains(skipped[0].Error(), bad) {
		t.Fatalf("gallery %d photos, skipped %v", g.Len(), skipped)
	}
}

func TestAnswer(t *testing.T) {
	g := New("m", 2)
	for _, p := range []struct {
		name string
		v    []float32
	}{{"Ann", []float32{1, 0}}, {"Ann", []float32{0.9, 0.1}}, {"Bob", []float32{0, 1}}, {"Dee", []float32{0.7, 0.7}}} {
		if err := g.Add(Entry{Identity: p.name, Path: p.name}, p.v); err != nil {
			t.Fatal(err)
		}
	}
	out := Output{Embedding: []float32{0.6, 0.8}, Probabilities: []float32{0.7, 0.2, 0.1}}
	classes := []string{"Ann", "Bob", "Cyd"}

	byClass, err := Answer(out, classes, g, ByClassifier, 2)
	if err != nil {
		t.Fatal(err)
	}
	if len(byClass) != 2 || byClass[0].Identity != "Ann" || byClass[0].Probability != 0.7 || !byClass[0].HasClosest ||
		byClass[0].Closest.Entry.Identity != "Ann" || byClass[1].Identity != "Bob" {
		t.Fatalf("by classifier: %+v", byClass)
	}
	all, _ := Answer(out, classes, g, ByClassifier, 5)
	if len(all) != 3 || all[2].Identity != "Cyd" || all[2].HasClosest {
		t.Fatalf("Cyd has no gallery photo, got %+v", all[2])
	}

	byEmb, err := Answer(out, classes, g, ByEmbedding, 3)
	if err != nil {
		t.Fatal(err)
	}
	// Dee (0.707,0.707) is closest to (0.6,0.8); enrolled, so unknown to the classifier.
	if byEmb[0].Identity != "Dee" || byEmb[0].Known || byEmb[0].Score < 0.98 {
		t.Fatalf("by embedding: first %+v, want the enrolled Dee", byEmb[0])
	}
	if byEmb[1].Identity != "Bob" || !byEmb[1].Known || byEmb[1].Probability != 0.2 {
		t.Fatalf("by embedding: second %+v, want Bob with his classifier probability", byEmb[1])
	}
	if _, err := Answer(out, classes, nil, ByEmbedding, 3); err == nil {
		t.Fatal("ranking by embedding without a gallery succeeded")
	}
	silent := Output{Embedding: []float32{0, 0}, Probabilities: out.Probabilities}
	if _, err := Answer(silent, classes, g, ByEmbedding, 3); !errors.Is(err, ErrSilent) {
		t.Fatalf("a silent embedding ranked by embedding: %v", err)
	}
	if c, err := Answer(silent, classes, g, ByClassifier, 1); err != nil || c[0].Identity != "Ann" || c[0].HasClosest {
		t.Fatalf("a silent embedding ranked by the classifier: %+v, %v", c, err)
	}
	if _, err := ParseRanking("votes"); err == nil {
		t.Fatal("ParseRanking accepted votes")
	}
}

// With Mirror, Run answers with the average of each picture's pass and its mirror image's
// (logits and embedding), and Answer, given a single pass's logits and embedding (as Grad-CAM
// gives them), answers the same.
func TestEmbedderMirror(t *testing.T) {
	b := openCPU(t)
	m := tinyModel(t, b, 5)
	norm := vision.Normalization{Mean: [3]float32{0.5, 0.5, 0.5}, Std: [3]float32{0.25, 0.25, 0.25}}
	pictures := []*image.RGBA{basePicture(1, 32), basePicture(2, 32), basePicture(3, 32)}
	plain := &Embedder{Model: m, Norm: norm, Temperature: 1.5}
	mirrored := &Embedder{Model: m, Norm: norm, Temperature: 1.5, Mirror: true}
	got, err := mirrored.Run(pictures)
	if err != nil {
		t.Fatal(err)
	}
	host, err := plain.hostBatch(pictures, 0)
	if err != nil {
		t.Fatal(err)
	}
	x, err := b.Alloc(tensor.Float32, host.Shape()...)
	if err != nil {
		t.Fatal(err)
	}
	defer x.Release()
	logits, emb, err := plain.pass(x, host)
	if err != nil {
		t.Fatal(err)
	}
	logits, emb = slices.Clone(logits), slices.Clone(emb)
	vision.MirrorCHW(host.Float32s(), 32)
	mirrorLogits, mirrorEmb, err := plain.pass(x, host)
	if err != nil {
		t.Fatal(err)
	}
	classes, dim := len(logits)/len(pictures), len(emb)/len(pictures)
	close := func(what string, a, b []float32) {
		t.Helper()
		for i := range a {
			if d := math.Abs(float64(a[i] - b[i])); d > 1e-5*(1+math.Abs(float64(b[i]))) {
				t.Fatalf("%s[%d] = %v, want %v", what, i, a[i], b[i])
			}
		}
	}
	for i, out := range got {
		l, e := logits[i*classes:(i+1)*classes], emb[i*dim:(i+1)*dim]
		avgL, avgE := slices.Clone(l), slices.Clone(e)
		average(avgL, mirrorLogits[i*classes:(i+1)*classes])
		average(avgE, mirrorEmb[i*dim:(i+1)*dim])
		want := outputOf(avgL, avgE, 1.5)
		close("embedding", out.Embedding, want.Embedding)
		close("probabilities", out.Probabilities, want.Probabilities)
		if slices.Equal(avgE, e) {
			t.Fatalf("picture %d: its mirror image gives the same embedding; the test cannot tell", i)
		}
		single, err := mirrored.Answer(pictures[i], l, e)
		if err != nil {
			t.Fatal(err)
		}
		close("Answer's embedding", single.Embedding, out.Embedding)
		close("Answer's probabilities", single.Probabilities, out.Probabilities)
	}
}
