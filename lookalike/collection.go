package lookalike

import (
	"context"
	"path/filepath"
	"slices"

	"github.com/vgglab/vgg/dataset"
	"github.com/vgglab/vgg/dataset/framecache"
	"github.com/vgglab/vgg/gallery"
)

// CollectionOptions say how a gallery is built from a collection's photos.
type CollectionOptions struct {
	// Cache keeps the framed photos (nil: none).
	Cache *framecache.Cache
	// OwnCentre centres and whitens the embeddings as the model's own gallery (beside the
	// model) does when it has one, as every embedding it compares is, enrolled people's
	// included: for scoring photos of people it does not know. Without it the photos' own mean
	// is the centre and their own identities fit the whitening (a model's own gallery); with
	// it but without a gallery there, their mean is the centre and nothing is whitened, since
	// the identities being scored must not shape the space they are scored in.
	OwnCentre bool
	// Progress, when not nil, is told how many photos are embedded after each batch.
	Progress func(done int)
}

// CollectionGallery is the gallery of a collection's photos.
type CollectionGallery struct {
	*gallery.Gallery
	// Framing says how many photos were framed now and how many came from the cache.
	Framing dataset.FramingStats
	// Skipped are the photos left out, each error naming the file: those the scan found
	// unusable, then those that could not be loaded.
	Skipped []error
}

// GalleryOf embeds every photo of a scanned collection into a new gallery of the model, each
// under its identity and its absolute path: what 'vgg index' saves beside the model and what
// 'vgg evaluate' scores enrolment on.
func (m *Model) GalleryOf(ctx context.Context, set *dataset.Dataset, opts CollectionOptions) (*CollectionGallery, error) {
	var photos []gallery.Entry
	for _, s := range set.Samples {
		path, err := filepath.Abs(s.Path)
		if err != nil {
			return nil, err
		}
		photos = append(photos, gallery.Entry{Identity: set.Classes[s.Label], Path: path})
	}
	g := gallery.New(m.Fingerprint, m.Net.EmbeddingWidth())
	g.Whiten = !opts.OwnCentre
	if opts.OwnCentre {
		if own, err := gallery.Load(gallery.PathFor(m.Path), m.Fingerprint); err == nil {
			g.Mean, g.Whitening = own.Mean, own.Whitening
		}
	}
	src := m.Source(opts.Cache)
	skipped, err := g.AddPhotos(ctx, m.Embedder(), src, photos, opts.Progress)
	if err != nil {
		return nil, err
	}
	return &CollectionGallery{Gallery: g, Framing: src.Stats(), Skipped: slices.Concat(set.Skipped, skipped)}, nil
}
