package synth

import (
	"bytes"
	"context"
	"errors"
	"image"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vgglab/vgg/vision"
)

func TestRenderDeterministic(t *testing.T) {
	a, b := Render(3, 4, 5, 48), Render(3, 4, 5, 48)
	if !bytes.Equal(a.Pix, b.Pix) {
		t.Fatal("the same (seed, identity, photo) drew two different pictures")
	}
	for name, other := range map[string]*image.RGBA{
		"photo": Render(3, 4, 6, 48), "identity": Render(3, 5, 5, 48), "seed": Render(4, 4, 5, 48),
	} {
		if bytes.Equal(a.Pix, other.Pix) {
			t.Errorf("changing the %s did not change the picture", name)
		}
	}
	if NewIdentity(3, 4) != NewIdentity(3, 4) || NewIdentity(3, 4) == NewIdentity(3, 5) {
		t.Error("identities are not a function of (seed, id)")
	}
	if got := Render(1, 0, 0, 17).Bounds(); got != image.Rect(0, 0, 17, 17) {
		t.Errorf("bounds %v", got)
	}
}

func TestNamesUnique(t *testing.T) {
	seen := map[string]int{}
	for id := range 1000 {
		n := Name(id)
		if prev, ok := seen[n]; ok {
			t.Fatalf("identities %d and %d are both %q", prev, id, n)
		}
		seen[n] = id
	}
}

// TestIdentitiesSeparableNotTrivial checks the difficulty with the simplest classifier:
// the nearest class mean of raw 24x24 pixels. It must do far better than chance (the
// identities carry a signal) yet stay well short of perfect (pose, light and background
// hide it, so a network has something to learn).
func TestIdentitiesSeparableNotTrivial(t *testing.T) {
	const ids, train, test, size = 10, 20, 10, 24
	means := make([][]float64, ids)
	for id := range ids {
		means[id] = make([]float64, size*size*3)
		for p := range train {
			img := Render(7, id, p, size)
			for i := range size * size {
				for c := range 3 {
					means[id][i*3+c] += float64(img.Pix[4*i+c]) / train
				}
			}
		}
	}
	correct := 0
	for id := range ids {
		for p := train; p < train+test; p++ {
			img := Render(7, id, p, size)
			best, bestD := -1, 0.0
			for k := range ids {
				d := 0.0
				for i := range size * size {
					for c := range 3 {
						e := float64(img.Pix[4*i+c]) - means[k][i*3+c]
						d += e * e
					}
				}
				if best < 0 || d < bestD {
					best, bestD = k, d
				}
			}
			if best == id {
				correct++
			}
		}
	}
	acc := float64(correct) / (ids * test)
	t.Logf("nearest class mean on raw pixels: %.0f%% (chance %.0f%%)", 100*acc, 100.0/ids)
	if acc < 0.3 || acc > 0.9 {
		t.Errorf("nearest-mean accuracy %.0f%%, want between 30%% and 90%%", 100*acc)
	}
}

func TestWriteDataset(t *testing.T) {
	dir := t.TempDir()
	opts := Options{Seed: 2, Identities: 3, Photos: 4, Size: 32}
	if err := WriteDataset(context.Background(), dir, opts); err != nil {
		t.Fatal(err)
	}
	for id := range 3 {
		entries, err := os.ReadDir(filepath.Join(dir, Name(id)))
		if err != nil || len(entries) != 4 {
			t.Fatalf("%s: %d files, %v", Name(id), len(entries), err)
		}
		// The JPEG on disk is the rendered picture, up to compression.
		img, err := vision.Load(filepath.Join(dir, Name(id), "0003.jpg"))
		if err != nil {
			t.Fatal(err)
		}
		want := Render(2, id, 3, 32)
		diff := 0.0
		for i, v := range img.(*image.RGBA).Pix {
			diff += abs(float64(v) - float64(want.Pix[i]))
		}
		if mean := diff / float64(len(want.Pix)); mean > 12 {
			t.Errorf("%s photo 3 differs from its rendering by %.1f levels on average", Name(id), mean)
		}
	}
	if err := WriteDataset(context.Background(), dir, Options{Identities: 1, Photos: 4, Size: 32}); err == nil {
		t.Error("a collection of one identity was accepted")
	}
	blocker := filepath.Join(dir, "blocker")
	if err := os.WriteFile(blocker, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := WriteDataset(context.Background(), filepath.Join(blocker, "faces"), opts); err == nil || !strings.Contains(err.Error(), "blocker") {
		t.Errorf("writing under a file: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := WriteDataset(ctx, t.TempDir(), opts); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled write: %v", err)
	}
}

func abs(x float64) float64 {
	if x < 0 {
		return -x
	}
	return x
}

// TestEyeCentresOnThePupils checks EyeCentres against the drawing: at a large size the pixel
// under each computed centre is the pupil (dark), and so is not the skin one eye-width to its
// side, for shots turned, shifted and zoomed.
func TestEyeCentresOnThePupils(t *testing.T) {
	const size = 256
	for photo := range 12 {
		id, shot := NewIdentity(7, photo), NewShot(7, photo, photo)
		shot.Noise, shot.EyeOpen = 0, 1
		img := Draw(id, shot, size, rand.New(rand.NewPCG(1, 2)))
		grey := func(x, y float64) float64 {
			c := img.RGBAAt(int(x), int(y))
			return (float64(c.R) + float64(c.G) + float64(c.B)) / 3
		}
		for i, e := range EyeCentres(id, shot, size) {
			pupil := grey(e[0], e[1])
			aside := grey(e[0]+2.2*id.EyeSize*shot.Scale*size*float64(2*i-1), e[1])
			if pupil > 90 || pupil > aside-25 {
				t.Errorf("photo %d eye %d at (%.1f, %.1f): grey %.0f under the centre, %.0f beside the eye", photo, i, e[0], e[1], pupil, aside)
			}
		}
	}
}
