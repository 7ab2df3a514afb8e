package gallery

import (
	"context"
	"errors"
	"fmt"
	"image"
	"sync"

	"github.com/vgglab/vgg/dataset"
)

// AddPhotos embeds photos and adds them to the gallery: each is loaded by src (decoded, framed
// by src's preprocessing, resized to the model's input) and run through e in batches. A photo
// that cannot be loaded is skipped, its error (naming the file) returned in skipped; any other
// error stops the work and leaves the gallery as it was before the call. progress, when not
// nil, is told how many photos are done after each batch.
//
// Into an empty gallery without a mean, the photos' mean embedding becomes the gallery's centre
// and, when g.Whiten asks, their spread about each identity's mean its Whitening (see
// Gallery.Direction); a gallery that has a mean keeps it and its whitening.
func (g *Gallery) AddPhotos(ctx context.Context, e *Embedder, src *dataset.Source, photos []Entry, progress func(done int)) (skipped []error, err error) {
	if src.Size() != e.Model.Config.InputSize {
		return nil, fmt.Errorf("gallery: the photo source makes %d-pixel pictures, the model takes %d", src.Size(), e.Model.Config.InputSize)
	}
	batch := e.BatchSize
	if batch <= 0 {
		batch = 32
	}
	// A name or path the gallery cannot store is skipped before any work is spent on it.
	var storable []Entry
	for _, p := range photos {
		if err := CheckEntry(p); err != nil {
			skipped = append(skipped, err)
			continue
		}
		storable = append(storable, p)
	}
	photos = storable
	var kept []Entry
	var raw [][]float32
	for start := 0; start < len(photos); start += batch {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		group := photos[start:min(start+batch, len(photos))]
		pictures, errs := loadPictures(src, group)
		var loaded []*image.RGBA
		for i, err := range errs {
			if err != nil {
				skipped = append(skipped, err)
				continue
			}
			kept = append(kept, group[i])
			loaded = append(loaded, pictures[i])
		}
		outs, err := e.Run(loaded)
		if err != nil {
			return nil, err
		}
		for _, o := range outs {
			raw = append(raw, o.Embedding)
		}
		if progress != nil {
			progress(start + len(group))
		}
	}
	added := &Gallery{ModelSHA256: g.ModelSHA256, Dim: g.Dim, Mean: g.Mean, Whitening: g.Whitening}
	if g.Len() == 0 && g.Mean == nil && len(raw) > 1 {
		if err := added.SetMean(raw); err != nil {
			return nil, err
		}
		if g.Whiten {
			if added.Whitening, err = fitOn(added, raw, kept); err != nil {
				return nil, err
			}
		}
	}
	for i, r := range raw {
		if err := added.Add(kept[i], r); errors.Is(err, ErrSilent) {
			skipped = append(skipped, fmt.Errorf("%s: %w", kept[i].Path, ErrSilent))
		} else if err != nil {
			return nil, err
		}
	}
	g.Mean, g.Whitening = added.Mean, added.Whitening
	g.Entries = append(g.Entries, added.Entries...)
	g.vectors = append(g.vectors, added.vectors...)
	g.separation = nil
	return skipped, nil
}

// loadPictures loads a batch of photos, one goroutine each: JPEG decoding is the slow part of
// indexing on a GPU machine, and the batch is small enough to decode all at once.
func loadPictures(src *dataset.Source, photos []Entry) ([]*image.RGBA, []error) {
	pictures := make([]*image.RGBA, len(photos))
	errs := make([]error, len(photos))
	var wg sync.WaitGroup
	for i, p := range photos {
		wg.Go(func() { pictures[i], errs[i] = src.Image(p.Path) })
	}
	wg.Wait()
	return pictures, errs
}

// fitOn fits a whitening (fitWhitening) on the centred unit directions of the raw embeddings
// of photos under g's mean; those with no direction are left out.
func fitOn(g *Gallery, raw [][]float32, photos []Entry) ([]float32, error) {
	var dirs [][]float32
	var identities []string
	for i, r := range raw {
		if d, err := g.Direction(r); err == nil {
			dirs = append(dirs, d)
			identities = append(identities, photos[i].Identity)
		}
	}
	return fitWhitening(dirs, identities, g.Dim)
}
