package vision

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"image"
	"image/jpeg"
	"image/png"
	"io"
	"os"
	"path/filepath"

	"github.com/vgglab/vgg/safefile"
)

// WritePNG writes img to path as PNG, atomically: readers see the old file or the whole new
// one, never half an image, even if the program dies mid-write. The file carries vgg's mark
// (see MadePNG), so a later run knows it may replace it.
func WritePNG(path string, img image.Image) error {
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return WritePNGBytes(path, buf.Bytes())
}

// WritePNGBytes writes an encoded PNG to path atomically, with vgg's mark added.
func WritePNGBytes(path string, encoded []byte) error {
	marked, err := markPNG(encoded)
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return WriteAtomic(path, func(w io.Writer) error {
		_, err := w.Write(marked)
		return err
	})
}

// pngMark is the tEXt chunk vgg puts right after a PNG's IHDR chunk: "Software" = "vgg".
// Viewers ignore it; MadePNG finds it in the first bytes of the file.
var pngMark = func() []byte {
	text := []byte("Software\x00vgg")
	chunk := binary.BigEndian.AppendUint32(nil, uint32(len(text)))
	chunk = append(chunk, "tEXt"...)
	chunk = append(chunk, text...)
	return binary.BigEndian.AppendUint32(chunk, crc32.ChecksumIEEE(chunk[4:]))
}()

// pngMarkAt is where the mark goes: after the 8-byte signature and the 25-byte IHDR chunk,
// which every PNG starts with.
const pngMarkAt = 8 + 25

func markPNG(encoded []byte) ([]byte, error) {
	if len(encoded) < pngMarkAt || string(encoded[12:16]) != "IHDR" {
		return nil, fmt.Errorf("not a PNG")
	}
	out := make([]byte, 0, len(encoded)+len(pngMark))
	out = append(out, encoded[:pngMarkAt]...)
	out = append(out, pngMark...)
	return append(out, encoded[pngMarkAt:]...), nil
}

// MadePNG reports whether the file at path is a PNG that vgg wrote (it carries the mark).
func MadePNG(path string) bool {
	head := safefile.ReadHead(path, pngMarkAt+len(pngMark))
	return len(head) == pngMarkAt+len(pngMark) && string(head[1:4]) == "PNG" && bytes.Equal(head[pngMarkAt:], pngMark)
}

// WriteJPEG writes img to path as JPEG at quality 1..100, atomically like WritePNG.
func WriteJPEG(path string, img image.Image, quality int) error {
	return WriteAtomic(path, func(w io.Writer) error {
		return jpeg.Encode(w, img, &jpeg.Options{Quality: quality})
	})
}

// WriteAtomic writes a file by calling write on a temporary file in the same folder, then
// syncing it and renaming it over path (a rename within one file system is atomic). On any
// error the temporary file is removed and path is left as it was.
func WriteAtomic(path string, write func(io.Writer) error) (err error) {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
			err = fmt.Errorf("%s: %w", path, err)
		}
	}()
	if err = write(tmp); err != nil {
		return err
	}
	if err = tmp.Sync(); err != nil {
		return err
	}
	if err = tmp.Close(); err != nil {
		return err
	}
	// CreateTemp makes the file private (0600); an image is an ordinary file.
	if err = os.Chmod(tmp.Name(), 0o644); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}

// NamedImage is one picture of a folder written by WritePNGFolder.
type NamedImage struct {
	Name  string // file name inside the folder
	Image image.Image
}

// WritePNGFolder writes the pictures as PNG files into dir without ever leaving it half
// written: they go into a temporary folder beside dir first, which is then renamed to dir (when
// dir does not exist) or whose files are each renamed into dir (when it does). On any error the
// temporary folder is removed and dir is as it was.
func WritePNGFolder(dir string, files []NamedImage) (err error) {
	parent := filepath.Dir(filepath.Clean(dir))
	if err := os.MkdirAll(parent, 0o755); err != nil {
		return err
	}
	tmp, err := os.MkdirTemp(parent, "."+filepath.Base(dir)+".tmp-*")
	if err != nil {
		return fmt.Errorf("%s: %w", dir, err)
	}
	defer os.RemoveAll(tmp) // empty, or gone, once all went well
	for _, f := range files {
		if err := WritePNG(filepath.Join(tmp, f.Name), f.Image); err != nil {
			return fmt.Errorf("%s: %w", dir, err)
		}
	}
	// MkdirTemp makes the folder private (0700); an output folder is an ordinary one.
	if err := os.Chmod(tmp, 0o755); err != nil {
		return fmt.Errorf("%s: %w", dir, err)
	}
	if _, err := os.Stat(dir); errors.Is(err, os.ErrNotExist) {
		if err := os.Rename(tmp, dir); err != nil {
			return fmt.Errorf("%s: %w", dir, err)
		}
		return nil
	}
	for _, f := range files {
		if err := os.Rename(filepath.Join(tmp, f.Name), filepath.Join(dir, f.Name)); err != nil {
			return fmt.Errorf("%s: %w", dir, err)
		}
	}
	return nil
}
