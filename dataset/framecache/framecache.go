// Package framecache keeps framed photos on disk, so that a photo is framed once (found,
// aligned and resized, which takes most of a minute per thousand photos) and every later
// 'vgg train', 'index' or 'evaluate' over it reads the framed picture back at once.
//
// An entry is keyed by the photo's bytes and a description of every setting that shapes the
// crop (see NewKey): a changed photo, or a change of any setting, looks up another key and
// misses. Entries are written to a temporary file in the same folder and renamed into place,
// so two processes can share the cache and a process killed mid-write leaves no partial entry
// under an entry's name. Each entry carries a checksum: a damaged one (a disk fault, a file cut
// short by a crash after the rename) reads as a miss and is replaced by the next Put. The
// folder can be deleted at any time; it is only ever a copy of what framing computes.
package framecache

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"hash/crc32"
	"image"
	"image/png"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/vgglab/vgg/safefile"
	"github.com/vgglab/vgg/vision"
)

// EnvVar names the environment variable that moves vgg's cache folder; framed photos go in
// its "frames" sub-folder.
const EnvVar = "VGG_CACHE"

// DefaultDir is the folder of framed photos: $VGG_CACHE/frames when VGG_CACHE is set, else
// vgg/frames in the user's cache folder (~/.cache/vgg/frames on Linux, ~/Library/Caches on a
// Mac, %LocalAppData% on Windows).
func DefaultDir() (string, error) {
	if dir := os.Getenv(EnvVar); dir != "" {
		return filepath.Join(dir, "frames"), nil
	}
	base, err := os.UserCacheDir()
	if err != nil {
		return "", fmt.Errorf("no user cache folder (%v); set %s to choose one", err, EnvVar)
	}
	return filepath.Join(base, "vgg", "frames"), nil
}

// Cache is a folder of framed photos. It is safe for concurrent use, within a process and
// between processes.
type Cache struct {
	dir string
}

// Open returns the cache in dir, creating the folder if needed, and sweeps away what writers
// killed mid-write left behind (see sweep).
func Open(dir string) (*Cache, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("framing cache: %w", err)
	}
	c := &Cache{dir: dir}
	c.sweep(time.Now().Add(-staleAfter))
	return c, nil
}

// staleAfter is how old a temporary entry file must be before sweep removes it: far longer
// than any write takes, so that a writer at work in another process never loses its file.
const staleAfter = time.Hour

// sweep removes the temporary files of entries (".NAME.frame.tmp-*", see Put) last changed
// before cutoff: a process killed between writing one and renaming it leaves it behind, and
// nothing ever reads it. Entries themselves are never touched; errors are ignored, as a file
// left over costs only its bytes.
func (c *Cache) sweep(cutoff time.Time) {
	folders, _ := os.ReadDir(c.dir)
	for _, folder := range folders {
		if !folder.IsDir() {
			continue
		}
		sub := filepath.Join(c.dir, folder.Name())
		files, _ := os.ReadDir(sub)
		for _, f := range files {
			if !strings.HasPrefix(f.Name(), ".") || !strings.Contains(f.Name(), ".frame.tmp-") {
				continue
			}
			if info, err := f.Info(); err == nil && info.Mode().IsRegular() && info.ModTime().Before(cutoff) {
				os.Remove(filepath.Join(sub, f.Name()))
			}
		}
	}
}

// Dir is the cache's folder.
func (c *Cache) Dir() string { return c.dir }

// Key identifies one framed picture: a photo's content under one set of framing settings.
type Key [sha256.Size]byte

// NewKey is the key of the photo whose file holds content, framed as settings describes.
// settings must name everything the framed picture depends on (the framing method and its
// version, the detector's cascades, the picture size): the cache can tell two settings apart
// only by this text.
func NewKey(content []byte, settings string) Key {
	photo := sha256.Sum256(content)
	h := sha256.New()
	// The settings' length first, so that no settings text can run into the photo's hash.
	fmt.Fprintf(h, "vgg frame key 1\x00%d\x00%s\x00", len(settings), settings)
	h.Write(photo[:])
	var k Key
	h.Sum(k[:0])
	return k
}

func (k Key) String() string { return hex.EncodeToString(k[:]) }

// path spreads the entries over 256 sub-folders, so that no folder holds more than a few
// hundred files even for a hundred thousand photos.
func (c *Cache) path(k Key) string {
	name := k.String()
	return filepath.Join(c.dir, name[:2], name[2:]+".frame")
}

// An entry file is
//
//	magic, the key (32 bytes), the remark's length (uint32, little-endian), the remark,
//	the picture as PNG, and a CRC-32C of everything before it (4 bytes).
//
// The key inside guards against a file copied or renamed under another key's name; the
// checksum against a damaged or truncated file.
var magic = []byte("vgg-frame 1\n")

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// maxEntryBytes bounds what Get reads: far above any framed picture (a 512x512 PNG of noise is
// about 1 MB), far below what a stray large file could cost in memory.
const maxEntryBytes = 16 << 20

// Get returns the picture and remark stored under k, or ok false when there is no such entry,
// when it is damaged, or when its picture is not size x size. A miss is never an error: the
// caller frames the photo and Puts it, replacing a damaged entry.
func (c *Cache) Get(k Key, size int) (picture *image.RGBA, remark string, ok bool) {
	f, err := safefile.Open(c.path(k)) // a named pipe there would block a plain open forever
	if err != nil {
		return nil, "", false
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxEntryBytes+1))
	if err != nil || len(data) > maxEntryBytes {
		return nil, "", false
	}
	picture, remark, err = decodeEntry(data, k)
	if err != nil || picture.Rect != image.Rect(0, 0, size, size) {
		return nil, "", false
	}
	return picture, remark, true
}

// ErrNotOpaque is Put's answer to a picture with transparent pixels: an entry holds opaque
// pictures only, so that what it gives back is exactly what was put.
var ErrNotOpaque = errors.New("framing cache: the picture is not opaque")

// Put stores picture and remark under k, replacing any entry there. The entry appears whole
// or not at all: it is written to a temporary file beside it and renamed into place.
func (c *Cache) Put(k Key, picture *image.RGBA, remark string) error {
	if !picture.Opaque() {
		return ErrNotOpaque
	}
	data, err := encodeEntry(k, picture, remark)
	if err != nil {
		return fmt.Errorf("framing cache: %w", err)
	}
	path := c.path(k)
	// Each time, as the folder may have been deleted since Open: that is allowed.
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fmt.Errorf("framing cache: %w", err)
	}
	if err := vision.WriteAtomic(path, func(w io.Writer) error {
		_, err := w.Write(data)
		return err
	}); err != nil {
		return fmt.Errorf("framing cache: %w", err)
	}
	return nil
}

func encodeEntry(k Key, picture *image.RGBA, remark string) ([]byte, error) {
	var b bytes.Buffer
	b.Write(magic)
	b.Write(k[:])
	binary.Write(&b, binary.LittleEndian, uint32(len(remark)))
	b.WriteString(remark)
	// Framed pictures are small; the fastest compression keeps a first run's writes cheap.
	enc := png.Encoder{CompressionLevel: png.BestSpeed}
	if err := enc.Encode(&b, picture); err != nil {
		return nil, err
	}
	return binary.LittleEndian.AppendUint32(b.Bytes(), crc32.Checksum(b.Bytes(), castagnoli)), nil
}

var errDamaged = errors.New("damaged entry")

func decodeEntry(data []byte, k Key) (*image.RGBA, string, error) {
	head := len(magic) + len(k) + 4
	if len(data) < head+4 {
		return nil, "", errDamaged
	}
	body, sum := data[:len(data)-4], binary.LittleEndian.Uint32(data[len(data)-4:])
	if crc32.Checksum(body, castagnoli) != sum || !bytes.HasPrefix(body, magic) ||
		!bytes.Equal(body[len(magic):len(magic)+len(k)], k[:]) {
		return nil, "", errDamaged
	}
	n := int(binary.LittleEndian.Uint32(body[head-4 : head]))
	if n > len(body)-head {
		return nil, "", errDamaged
	}
	remark := string(body[head : head+n])
	img, err := png.Decode(bytes.NewReader(body[head+n:]))
	if err != nil {
		return nil, "", errDamaged
	}
	if rgba, ok := img.(*image.RGBA); ok && rgba.Rect.Min == (image.Point{}) {
		return rgba, remark, nil // what png.Decode gives for an opaque picture
	}
	return vision.ToRGBA(img), remark, nil
}
