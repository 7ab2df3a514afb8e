package lookalike

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/vgglab/vgg/dataset"
	"github.com/vgglab/vgg/gallery"
	"github.com/vgglab/vgg/vision"
	"github.com/vgglab/vgg/vision/synth"
)

// GalleryOf embeds every usable photo of a collection under its identity and absolute path,
// lists what the scan and the loading left out, and centres on the model's own gallery only
// when asked.
func TestGalleryOfACollection(t *testing.T) {
	names := []string{"ann", "bob"}
	model := randomModel(t, names)
	data := t.TempDir()
	for id, name := range names {
		for p := range 2 {
			path := filepath.Join(data, name, synth.Name(p)+".png")
			os.MkdirAll(filepath.Dir(path), 0o755)
			if err := vision.WritePNG(path, synth.Render(3, id, p, 32)); err != nil {
				t.Fatal(err)
			}
		}
	}
	os.WriteFile(filepath.Join(data, "stray.txt"), []byte("not a photo"), 0o644)
	set, err := dataset.Scan(data, vision.Decoder{})
	if err != nil {
		t.Fatal(err)
	}
	m, err := Open("cpu", model, true)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	var progress []int
	g, err := m.GalleryOf(context.Background(), set, CollectionOptions{Progress: func(done int) { progress = append(progress, done) }})
	if err != nil {
		t.Fatal(err)
	}
	if g.Len() != 4 || len(g.Skipped) != 1 || g.Framing.Framed != 4 || len(progress) == 0 || progress[len(progress)-1] != 4 {
		t.Fatalf("%d photos, skipped %v, framing %+v, progress %v; want 4 photos, the stray file skipped", g.Len(), g.Skipped, g.Framing, progress)
	}
	for _, e := range g.Entries {
		if !filepath.IsAbs(e.Path) || !slices.Contains(names, e.Identity) || filepath.Base(filepath.Dir(e.Path)) != e.Identity {
			t.Errorf("entry %+v", e)
		}
	}

	// A collection indexed as a model's own gallery fits its whitening on its identities.
	if len(g.Whitening) != g.Dim*g.Dim {
		t.Errorf("the own gallery's whitening has %d values, want %d x %d", len(g.Whitening), g.Dim, g.Dim)
	}
	// Photos scored against the model's gallery (OwnCentre) never fit one on their own
	// identities: without a gallery beside the model they are not whitened.
	scored, err := m.GalleryOf(context.Background(), set, CollectionOptions{OwnCentre: true})
	if err != nil {
		t.Fatal(err)
	}
	if scored.Whitening != nil {
		t.Error("photos being scored were whitened on their own identities")
	}

	// The model's own gallery, with a centre and a whitening of its own: taken only with
	// OwnCentre.
	own := gallery.New(m.Fingerprint, g.Dim)
	own.Mean = make([]float32, g.Dim)
	own.Mean[0] = 42
	own.Whitening = make([]float32, g.Dim*g.Dim)
	for i := range g.Dim {
		own.Whitening[i*g.Dim+i] = 2
	}
	if err := own.Save(gallery.PathFor(model)); err != nil {
		t.Fatal(err)
	}
	for _, ownCentre := range []bool{false, true} {
		g, err := m.GalleryOf(context.Background(), set, CollectionOptions{OwnCentre: ownCentre})
		if err != nil {
			t.Fatal(err)
		}
		if took := g.Mean[0] == 42; took != ownCentre {
			t.Errorf("OwnCentre %v: centred on the model's own gallery %v", ownCentre, took)
		}
		if took := slices.Equal(g.Whitening, own.Whitening); took != ownCentre {
			t.Errorf("OwnCentre %v: whitened as the model's own gallery %v", ownCentre, took)
		}
	}
}
