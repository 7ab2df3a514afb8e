package dataset

import (
	"errors"
	"fmt"
	"image"
	"sync"

	"github.com/vgglab/vgg/dataset/framecache"
	"github.com/vgglab/vgg/vision"
)

// SourceOptions configures how a photo becomes a network-sized picture.
type SourceOptions struct {
	// Size is the side of the square pictures produced (the model input, e.g. 128).
	Size int
	// Decoder decodes the files (its zero value: the default pixel budget).
	Decoder vision.Decoder
	// Frame frames the decoded photo before it is resized, for example a face aligner that
	// returns the aligned face, and may return a remark worth telling the user ("no face
	// found: ..."), which Remarks keeps by photo. Nil means the centre square of the photo.
	// Whatever it returns is centre-squared and resized to Size.
	Frame func(image.Image) (framed image.Image, remark string, err error)
	// FrameID names everything that shapes Frame's output (for the face aligner, its
	// Fingerprint: cascades, version, settings). The disk cache tells framings apart by it
	// alone, so two framings that can crop a photo differently must have different IDs. It
	// is required when Frame and FrameCache are both set.
	FrameID string
	// FrameCache keeps the framed pictures on disk across runs, keyed by each photo's bytes,
	// FrameID and Size (nil: no disk cache, every photo is framed).
	FrameCache *framecache.Cache
	// Cache keeps every picture in memory after its first load (4*Size*Size bytes each:
	// 64 KiB at 128, 270 MB for 4,000 photos), so later epochs skip JPEG decoding and
	// preprocessing. The cached pictures are before augmentation, which differs each epoch.
	Cache bool
}

// sourceVersion is the version of what Source does between decoding and Frame's output:
// decoding, centre-squaring and resizing. Raise it with any change that alters the pictures,
// so that the disk cache misses instead of giving the old ones.
const sourceVersion = 1

// Source loads photos as Size x Size RGBA pictures: decode, frame, centre-square, resize,
// with framed pictures kept on disk (FrameCache) and in memory (Cache). It is safe for
// concurrent use.
type Source struct {
	opts  SourceOptions
	mu    sync.Mutex
	cache map[string]*image.RGBA
	// What the source has done, for Stats, and each photo's framing remark.
	stats   FramingStats
	remarks map[string]string
}

// FramingStats count the pictures a source has made (memory-cache hits are not counted).
type FramingStats struct {
	// FromCache came from the disk cache; Framed were framed now.
	FromCache, Framed int
	// CacheDir is the disk cache's folder ("" when there is none).
	CacheDir string
	// CacheWriteErrors counts framed pictures that could not be stored in the disk cache,
	// and CacheWriteError is the first such error. They only cost time on a later run.
	CacheWriteErrors int
	CacheWriteError  error
}

// NewSource returns a Source; it panics on a non-positive Size, or a disk cache for a Frame
// without FrameID: programming errors.
func NewSource(opts SourceOptions) *Source {
	if opts.Size <= 0 {
		panic(fmt.Sprintf("dataset: source picture size %d must be positive", opts.Size))
	}
	if opts.FrameCache != nil && opts.Frame != nil && opts.FrameID == "" {
		panic("dataset: a source with a framing cache needs the framing's FrameID")
	}
	s := &Source{opts: opts, remarks: make(map[string]string)}
	if opts.Cache {
		s.cache = make(map[string]*image.RGBA)
	}
	if opts.FrameCache != nil {
		s.stats.CacheDir = opts.FrameCache.Dir()
	}
	return s
}

// Size is the side of the pictures the source produces.
func (s *Source) Size() int { return s.opts.Size }

// Stats says how many pictures the source has made, and how many came from the disk cache.
func (s *Source) Stats() FramingStats {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.stats
}

// Remarks are the framing remarks of the photos loaded so far, by path (photos without one
// are left out).
func (s *Source) Remarks() map[string]string {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make(map[string]string, len(s.remarks))
	for path, remark := range s.remarks {
		out[path] = remark
	}
	return out
}

// Image returns the picture for the photo at path. Callers must not modify it: with the
// cache on, it is shared.
func (s *Source) Image(path string) (*image.RGBA, error) {
	if s.cache != nil {
		s.mu.Lock()
		img, ok := s.cache[path]
		s.mu.Unlock()
		if ok {
			return img, nil
		}
	}
	img, remark, fromCache, writeErr, err := s.load(path)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cache != nil {
		s.cache[path] = img
	}
	if remark != "" {
		s.remarks[path] = remark
	}
	if fromCache {
		s.stats.FromCache++
	} else {
		s.stats.Framed++
	}
	if writeErr != nil {
		s.stats.CacheWriteErrors++
		if s.stats.CacheWriteError == nil {
			s.stats.CacheWriteError = writeErr
		}
	}
	return img, nil
}

// load makes the picture of one photo: from the disk cache when it holds it, else framed now
// and stored there. A cache that cannot be written is not the photo's error: writeErr says so.
func (s *Source) load(path string) (img *image.RGBA, remark string, fromCache bool, writeErr, err error) {
	data, err := s.opts.Decoder.Read(path) // the header checks of every load, cached or not
	if err != nil {
		return nil, "", false, nil, err
	}
	var key framecache.Key
	if s.opts.FrameCache != nil {
		key = framecache.NewKey(data, s.cacheSettings())
		if img, remark, ok := s.opts.FrameCache.Get(key, s.opts.Size); ok {
			return img, remark, true, nil, nil
		}
	}
	if img, remark, err = s.frame(path, data); err != nil {
		return nil, "", false, nil, err
	}
	if s.opts.FrameCache != nil {
		if err := s.opts.FrameCache.Put(key, img, remark); err != nil && !errors.Is(err, framecache.ErrNotOpaque) {
			writeErr = err
		}
	}
	return img, remark, false, writeErr, nil
}

// cacheSettings describes, for the disk cache's key, everything besides the photo's bytes that
// the picture depends on.
func (s *Source) cacheSettings() string {
	framing := "centre square"
	if s.opts.Frame != nil {
		framing = "framed by " + s.opts.FrameID
	}
	return fmt.Sprintf("dataset source %d; size %d; %s", sourceVersion, s.opts.Size, framing)
}

// frame decodes, frames and resizes one photo whose file holds data; the full-size photo is
// dropped as soon as the small picture is made (see vision.DecodeFramed), so memory is bounded
// by the pixel budget however many workers load photos.
func (s *Source) frame(path string, data []byte) (*image.RGBA, string, error) {
	type framed struct {
		img    *image.RGBA
		remark string
	}
	f, err := vision.DecodeFramed(s.opts.Decoder, path, data, func(photo image.Image) (framed, error) {
		remark := ""
		if s.opts.Frame != nil {
			var err error
			if photo, remark, err = s.opts.Frame(photo); err != nil {
				return framed{}, err
			}
			if photo.Bounds().Empty() {
				return framed{}, fmt.Errorf("framing left an empty picture")
			}
		}
		return framed{vision.SquareResize(photo, s.opts.Size), remark}, nil
	})
	return f.img, f.remark, err
}

// Summary says how the photos were framed, for example "framed 4083 photos: 4083 from the
// cache (/root/.cache/vgg/frames), 0 framed now".
func (st FramingStats) Summary() string {
	total := st.FromCache + st.Framed
	if st.CacheDir == "" {
		return fmt.Sprintf("framed %d photos (no framing cache)", total)
	}
	return fmt.Sprintf("framed %d photos: %d from the cache (%s), %d framed now", total, st.FromCache, st.CacheDir, st.Framed)
}

// CacheProblem says why the disk cache did not fill, or "" when it did.
func (st FramingStats) CacheProblem() string {
	if st.CacheWriteErrors == 0 {
		return ""
	}
	return fmt.Sprintf("%d framed photos could not be stored in the framing cache, so a later run frames them again: %v",
		st.CacheWriteErrors, st.CacheWriteError)
}
