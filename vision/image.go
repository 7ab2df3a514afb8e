// Package vision turns image files into the RGB pictures and float32 tensors the network
// eats: safe decoding (every common format, EXIF orientation, a pixel budget against
// decompression bombs, no panics on corrupt files), centre-square crop and resize, CHW
// normalisation, and atomic image writing.
//
// The face detector and aligner live in vision/haar and vision/align; the synthetic demo
// faces in vision/synth.
package vision

import (
	"bytes"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"image/gif"
	"image/jpeg"
	"image/png"
	"io"
	"io/fs"
	"os"
	"sync"
	"sync/atomic"
	"unicode/utf8"

	"github.com/vgglab/vgg/safefile"

	"golang.org/x/image/bmp"
	"golang.org/x/image/tiff"
	"golang.org/x/image/webp"
)

// DefaultMaxPixels is the pixel budget of a zero Decoder: 50 megapixels, more than any
// camera photo, far less than a decompression bomb (a few kilobytes of PNG can claim
// 30000x30000 pixels, 3.6 GB of RGBA).
const DefaultMaxPixels = 50_000_000

// The kinds of problem a file can have; test with errors.Is. The error text itself always
// names the file and says what is wrong in words.
var (
	ErrNotImage  = errors.New("not an image")
	ErrTooLarge  = errors.New("over the pixel budget")
	ErrTruncated = errors.New("truncated")
	ErrCorrupt   = errors.New("corrupt")
)

// FileError is a problem with one image file: Path and what is wrong with it.
type FileError struct {
	Path string
	Err  error
}

func (e *FileError) Error() string { return e.Path + ": " + e.Err.Error() }
func (e *FileError) Unwrap() error { return e.Err }

// fileError wraps err for path, dropping an *fs.PathError's own copy of the path so the
// message reads "a.jpg: permission denied", not "a.jpg: open a.jpg: permission denied".
func fileError(path string, err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		err = pe.Err
	}
	return &FileError{Path: path, Err: err}
}

// problem is an error whose text is a full sentence but which still matches one of the
// Err* kinds under errors.Is.
type problem struct {
	kind error
	text string
}

func (p *problem) Error() string { return p.text }
func (p *problem) Unwrap() error { return p.kind }

func newProblem(kind error, format string, args ...any) error {
	return &problem{kind: kind, text: fmt.Sprintf(format, args...)}
}

// A decoder for each format we accept, keyed by the name sniff gives it. Each is called
// directly (not through image.Decode and its registry) so that the format sniffed from the
// header is the one that decodes the pixels, and no other package's registration matters.
var decoders = map[string]struct {
	decode       func(io.Reader) (image.Image, error)
	decodeConfig func(io.Reader) (image.Config, error)
}{
	"jpeg": {jpeg.Decode, jpeg.DecodeConfig},
	"png":  {png.Decode, png.DecodeConfig},
	"gif":  {gif.Decode, gif.DecodeConfig},
	"bmp":  {bmp.Decode, bmp.DecodeConfig},
	"tiff": {tiff.Decode, tiff.DecodeConfig},
	"webp": {webp.Decode, webp.DecodeConfig},
}

// Decoder decodes image files under a pixel budget. The zero value uses the process's budget
// (DefaultMaxPixels unless SetMaxPixels changed it).
type Decoder struct {
	// MaxPixels is the largest width*height accepted; 0 means the process's budget.
	MaxPixels int
}

func (d Decoder) maxPixels() int {
	if d.MaxPixels > 0 {
		return d.MaxPixels
	}
	return int(processMaxPixels.Load())
}

// processMaxPixels is the budget of a zero Decoder: DefaultMaxPixels unless the program
// raised or lowered it (vgg --max-pixels).
var processMaxPixels atomic.Int64

func init() { processMaxPixels.Store(DefaultMaxPixels) }

// SetMaxPixels sets the pixel budget of every zero Decoder (and of Load) in this process;
// n <= 0 restores DefaultMaxPixels.
func SetMaxPixels(n int) {
	if n <= 0 {
		n = DefaultMaxPixels
	}
	processMaxPixels.Store(int64(n))
}

// Load decodes the image file at path with the process's pixel budget; see Decoder.Load.
func Load(path string) (image.Image, error) { return Decoder{}.Load(path) }

// Load reads and decodes the image file at path: JPEG, PNG, GIF (first frame), BMP, TIFF or
// WebP, picked by content, not by name. It returns an opaque *image.RGBA (grey, CMYK,
// paletted and 16-bit pictures converted; transparency flattened onto white) turned upright
// by the JPEG's EXIF orientation. Errors are *FileError naming the path.
func (d Decoder) Load(path string) (image.Image, error) {
	return LoadFramed(d, path, func(img image.Image) (image.Image, error) { return img, nil })
}

// LoadFramed decodes the photo at path as Decoder.Load does and hands it to frame, which
// returns what the caller keeps: a face crop, a network-sized picture. The full-size photo is
// dropped when frame returns, and until then it counts against a process-wide allowance of
// one pixel budget: however many goroutines load photos, the full-size photos held at once add
// up to at most one budget-sized photo (many small photos go in parallel, a budget-sized one
// alone), so memory is bounded by the budget, not by the number of workers. frame must not call
// LoadFramed. Its error is returned as a *FileError naming path.
func LoadFramed[T any](d Decoder, path string, frame func(image.Image) (T, error)) (T, error) {
	data, err := d.readFile(path)
	if err != nil {
		var zero T
		return zero, fileError(path, err)
	}
	return DecodeFramed(d, path, data, frame)
}

// DecodeFramed is LoadFramed for a photo file already read into memory (by Read, whose bytes
// key the framing cache): data is decoded under the same allowance of one pixel budget and
// the full-size photo handed to frame, then dropped. path names the file in errors.
func DecodeFramed[T any](d Decoder, path string, data []byte, frame func(image.Image) (T, error)) (T, error) {
	var zero T
	format, cfg, err := d.config(data, bytes.NewReader(data))
	if err != nil {
		return zero, fileError(path, err)
	}
	pixels := int64(cfg.Width) * int64(cfg.Height)
	decoding.acquire(pixels, int64(d.maxPixels()))
	defer decoding.release(pixels)
	img, err := d.decodePixels(format, data)
	data = nil // the file's bytes are not needed past here
	if err != nil {
		return zero, fileError(path, err)
	}
	out, err := frame(img)
	if err != nil {
		return zero, &FileError{Path: path, Err: err}
	}
	return out, nil
}

// decoding is the allowance of pixels that LoadFramed holds at full size at once.
var decoding = newPixelAllowance()

// pixelAllowance is a counting semaphore weighted by pixels.
type pixelAllowance struct {
	mu    sync.Mutex
	freed *sync.Cond
	inUse int64
}

func newPixelAllowance() *pixelAllowance {
	a := &pixelAllowance{}
	a.freed = sync.NewCond(&a.mu)
	return a
}

// acquire waits until n more pixels fit within capacity, or until nothing else is held.
func (a *pixelAllowance) acquire(n, capacity int64) {
	a.mu.Lock()
	defer a.mu.Unlock()
	for a.inUse > 0 && a.inUse+n > capacity {
		a.freed.Wait()
	}
	a.inUse += n
}

func (a *pixelAllowance) release(n int64) {
	a.mu.Lock()
	a.inUse -= n
	a.mu.Unlock()
	a.freed.Broadcast()
}

// Read reads the image file at path and checks its header as Check does (a format we read,
// within the pixel budget) without decoding the pixels, for callers that look the file's bytes
// up before decoding them with Decode (the framing cache is keyed by them). Errors are
// *FileError naming the path.
func (d Decoder) Read(path string) ([]byte, error) {
	data, err := d.readFile(path)
	if err != nil {
		return nil, fileError(path, err)
	}
	if _, _, err := d.config(data, bytes.NewReader(data)); err != nil {
		return nil, fileError(path, err)
	}
	return data, nil
}

// Decode decodes an in-memory image file like Load; name only labels the errors.
func (d Decoder) Decode(name string, data []byte) (image.Image, error) {
	img, err := d.decode(data)
	if err != nil {
		return nil, fileError(name, err)
	}
	return img, nil
}

// Check reads only the header of the file at path and reports its format and size, with
// the same errors as Load for files that are not images or are over the budget. It is
// cheap (the decoders read just the header, seeking where a format needs to, as TIFF does
// for an index stored at the end), so a dataset scan can vet thousands of files quickly; a
// file that passes may still be truncated or corrupt further in.
func (d Decoder) Check(path string) (format string, width, height int, err error) {
	f, err := openImage(path)
	if err != nil {
		return "", 0, 0, fileError(path, err)
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return "", 0, 0, fileError(path, err)
	}
	head := make([]byte, 512) // enough to sniff the format or recognise text
	n, err := io.ReadFull(f, head)
	if err != nil && err != io.ErrUnexpectedEOF && err != io.EOF {
		return "", 0, 0, fileError(path, err)
	}
	format, cfg, err := d.config(head[:n], io.NewSectionReader(f, 0, info.Size()))
	if err != nil {
		return "", 0, 0, fileError(path, err)
	}
	return format, cfg.Width, cfg.Height, nil
}

// readFile reads a whole file, refusing files so large that no image within the budget
// could need them (a guard against reading a huge non-image into memory).
func (d Decoder) readFile(path string) ([]byte, error) {
	f, err := openImage(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return nil, err
	}
	// Uncompressed 16-bit RGBA (8 bytes a pixel) plus headers is the most any of our
	// formats can spend on an image within the budget.
	if limit := int64(d.maxPixels())*8 + 1<<20; info.Size() > limit {
		return nil, newProblem(ErrTooLarge, "file of %d MB is larger than any image within the %s budget",
			info.Size()>>20, megapixels(int64(d.maxPixels())))
	}
	return io.ReadAll(f)
}

// openImage opens a regular file. A folder, a named pipe, a device is not an image (ErrNotImage)
// and is refused before it is opened: opening a named pipe would wait for a writer forever.
func openImage(path string) (*os.File, error) {
	f, err := safefile.Open(path)
	if errors.Is(err, safefile.ErrNotRegular) {
		var pe *fs.PathError
		if errors.As(err, &pe) {
			err = pe.Err
		}
		return nil, newProblem(ErrNotImage, "%v; not an image", err)
	}
	return f, err
}

// config sniffs the format from head, the first bytes of the file, and reads the
// dimensions from the header through file, a reader over the whole file, enforcing the
// budget.
func (d Decoder) config(head []byte, file io.Reader) (string, image.Config, error) {
	if len(head) == 0 {
		return "", image.Config{}, newProblem(ErrNotImage, "empty file, not an image")
	}
	format := sniff(head)
	if format == "" {
		if looksLikeText(head) {
			return "", image.Config{}, newProblem(ErrNotImage, "not an image (looks like text)")
		}
		return "", image.Config{}, newProblem(ErrNotImage, "not an image (unknown format)")
	}
	var cfg image.Config
	err := safely(func() error {
		var err error
		cfg, err = decoders[format].decodeConfig(file)
		return err
	})
	if err != nil {
		return "", cfg, describe(format, "header", err)
	}
	if cfg.Width <= 0 || cfg.Height <= 0 {
		return "", cfg, newProblem(ErrCorrupt, "corrupt %s: size %dx%d", formatName(format), cfg.Width, cfg.Height)
	}
	if n := int64(cfg.Width) * int64(cfg.Height); n > int64(d.maxPixels()) {
		return "", cfg, newProblem(ErrTooLarge, "%dx%d is %s, over the %s budget",
			cfg.Width, cfg.Height, megapixels(n), megapixels(int64(d.maxPixels())))
	}
	return format, cfg, nil
}

// decode checks the header against the budget first, and only then decodes the pixels.
func (d Decoder) decode(data []byte) (image.Image, error) {
	format, _, err := d.config(data, bytes.NewReader(data))
	if err != nil {
		return nil, err
	}
	return d.decodePixels(format, data)
}

// decodePixels decodes data, whose header config has vetted as format.
func (d Decoder) decodePixels(format string, data []byte) (image.Image, error) {
	var img image.Image
	err := safely(func() error {
		var err error
		img, err = decoders[format].decode(bytes.NewReader(data))
		return err
	})
	if err != nil {
		return nil, describe(format, "data", err)
	}
	rgba := ToRGBA(img)
	if format == "jpeg" {
		rgba = Orient(rgba, jpegOrientation(data))
	}
	return rgba, nil
}

// sniff names the format from the file's magic bytes, or "" when it is none we read.
func sniff(data []byte) string {
	has := func(prefix string) bool { return bytes.HasPrefix(data, []byte(prefix)) }
	switch {
	case has("\xff\xd8"):
		return "jpeg"
	case has("\x89PNG\r\n\x1a\n"):
		return "png"
	case has("GIF87a"), has("GIF89a"):
		return "gif"
	case has("BM"):
		return "bmp"
	case has("II*\x00"), has("MM\x00*"):
		return "tiff"
	case has("RIFF") && len(data) >= 12 && string(data[8:12]) == "WEBP":
		return "webp"
	}
	return ""
}

// looksLikeText reports whether the start of a file is printable UTF-8, the usual reason a
// ".jpg" is not a picture (an HTML error page saved by a scraper, a note, a CSV).
func looksLikeText(data []byte) bool {
	head := data[:min(len(data), 512)]
	for len(head) > 0 {
		r, size := utf8.DecodeRune(head)
		if r == utf8.RuneError && size <= 1 && len(head) >= utf8.UTFMax {
			return false
		}
		if r < ' ' && r != '\n' && r != '\r' && r != '\t' {
			return false
		}
		head = head[size:]
	}
	return true
}

// safely runs a third-party decoder, turning a panic on hostile input into an error.
func safely(f func() error) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("decoder crashed: %v", r)
		}
	}()
	return f()
}

// describe turns a decoder's error into a sentence of the right kind.
func describe(format, part string, err error) error {
	name := formatName(format)
	// image/jpeg reports running out of bytes inside the entropy-coded pixel data as this
	// format error rather than as io.ErrUnexpectedEOF.
	shortJPEG := errors.Is(err, jpeg.FormatError("short Huffman data"))
	if shortJPEG || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
		return newProblem(ErrTruncated, "truncated %s (the file ends inside the image %s)", name, part)
	}
	return newProblem(ErrCorrupt, "corrupt %s: %v", name, err)
}

// formatName is the name people know a format by.
func formatName(format string) string {
	return map[string]string{"jpeg": "JPEG", "png": "PNG", "gif": "GIF", "bmp": "BMP", "tiff": "TIFF", "webp": "WebP"}[format]
}

// megapixels writes a pixel count for people: "900 MP", "2.5 MP", "3072 pixels".
func megapixels(n int64) string {
	if n < 100_000 {
		return fmt.Sprintf("%d pixels", n)
	}
	mp := float64(n) / 1e6
	if mp >= 10 {
		return fmt.Sprintf("%.0f MP", mp)
	}
	return fmt.Sprintf("%.1f MP", mp)
}

// ToRGBA returns img as an opaque *image.RGBA with its origin at (0, 0): grey, CMYK,
// YCbCr, paletted and 16-bit pictures are converted, and transparent pixels are flattened
// onto white (a photo's transparent background is paper, not black). An img that is such an
// RGBA already (what Load returns) is returned itself, not copied: a 50 MP photo is 200 MB.
func ToRGBA(img image.Image) *image.RGBA {
	if rgba, ok := img.(*image.RGBA); ok && rgba.Rect.Min == (image.Point{}) && rgba.Opaque() {
		return rgba
	}
	b := img.Bounds()
	out := image.NewRGBA(image.Rect(0, 0, b.Dx(), b.Dy()))
	// Opaque pictures (every JPEG, most PNGs) are copied with draw.Src, which has fast
	// paths for YCbCr, grey and RGBA sources; only pictures with transparency take the
	// slower compositing path.
	if o, ok := img.(interface{ Opaque() bool }); ok && o.Opaque() {
		draw.Draw(out, out.Bounds(), img, b.Min, draw.Src)
		return out
	}
	draw.Draw(out, out.Bounds(), image.NewUniform(color.White), image.Point{}, draw.Src)
	draw.Draw(out, out.Bounds(), img, b.Min, draw.Over)
	return out
}
