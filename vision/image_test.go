package vision

import (
	"bytes"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"image"
	"image/color"
	"image/gif"
	"image/jpeg"
	"image/png"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"golang.org/x/image/bmp"
	"golang.org/x/image/tiff"
)

// The four quadrant colours of the test picture: any rotation, mirror or channel mix-up
// moves or changes one of them.
var quadrantColours = [4]color.RGBA{
	{220, 30, 30, 255},   // top left: red
	{30, 200, 40, 255},   // top right: green
	{40, 50, 210, 255},   // bottom left: blue
	{240, 240, 230, 255}, // bottom right: white
}

// quadrants draws a w x h picture of four flat colour quadrants.
func quadrants(w, h int) *image.RGBA {
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			q := 0
			if x >= w/2 {
				q++
			}
			if y >= h/2 {
				q += 2
			}
			img.SetRGBA(x, y, quadrantColours[q])
		}
	}
	return img
}

// checkQuadrants compares the centre of each quadrant of img with the expected colours,
// converted to grey when grey is set, within tol per channel.
func checkQuadrants(t *testing.T, name string, img image.Image, w, h int, grey bool, tol int) {
	t.Helper()
	rgba, ok := img.(*image.RGBA)
	if !ok {
		t.Fatalf("%s: decoded to %T, want *image.RGBA", name, img)
	}
	if b := rgba.Bounds(); b != image.Rect(0, 0, w, h) {
		t.Fatalf("%s: bounds %v, want %dx%d at the origin", name, b, w, h)
	}
	centres := [4]image.Point{{w / 4, h / 4}, {3 * w / 4, h / 4}, {w / 4, 3 * h / 4}, {3 * w / 4, 3 * h / 4}}
	for q, p := range centres {
		want := quadrantColours[q]
		if grey {
			g := color.GrayModel.Convert(want).(color.Gray).Y
			want = color.RGBA{g, g, g, 255}
		}
		got := rgba.RGBAAt(p.X, p.Y)
		for c, pair := range [][2]uint8{{got.R, want.R}, {got.G, want.G}, {got.B, want.B}, {got.A, want.A}} {
			if d := int(pair[0]) - int(pair[1]); d > tol || d < -tol {
				t.Errorf("%s: quadrant %d channel %d is %d, want %d±%d", name, q, c, pair[0], pair[1], tol)
			}
		}
	}
}

func encode(t *testing.T, enc func(*bytes.Buffer) error) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := enc(&buf); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func jpegBytes(t *testing.T, img image.Image) []byte {
	return encode(t, func(b *bytes.Buffer) error { return jpeg.Encode(b, img, &jpeg.Options{Quality: 95}) })
}

func TestDecodeFormats(t *testing.T) {
	const w, h = 32, 16
	src := quadrants(w, h)
	grey := image.NewGray(src.Bounds())
	grey16 := image.NewRGBA64(src.Bounds())
	paletted := image.NewPaletted(src.Bounds(), color.Palette{quadrantColours[0], quadrantColours[1], quadrantColours[2], quadrantColours[3]})
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			grey.Set(x, y, src.At(x, y))
			grey16.Set(x, y, src.At(x, y))
			paletted.Set(x, y, src.At(x, y))
		}
	}
	cases := []struct {
		name string
		data []byte
		grey bool
		tol  int
	}{
		{"rgba.png", encode(t, func(b *bytes.Buffer) error { return png.Encode(b, src) }), false, 0},
		{"grey.png", encode(t, func(b *bytes.Buffer) error { return png.Encode(b, grey) }), true, 1},
		{"16bit.png", encode(t, func(b *bytes.Buffer) error { return png.Encode(b, grey16) }), false, 0},
		{"paletted.png", encode(t, func(b *bytes.Buffer) error { return png.Encode(b, paletted) }), false, 0},
		{"palette.gif", encode(t, func(b *bytes.Buffer) error { return gif.Encode(b, paletted, nil) }), false, 0},
		{"rgb.bmp", encode(t, func(b *bytes.Buffer) error { return bmp.Encode(b, src) }), false, 0},
		{"rgb.tiff", encode(t, func(b *bytes.Buffer) error { return tiff.Encode(b, src, nil) }), false, 0},
		{"deflate.tiff", encode(t, func(b *bytes.Buffer) error {
			return tiff.Encode(b, src, &tiff.Options{Compression: tiff.Deflate})
		}), false, 0},
		{"colour.jpg", jpegBytes(t, src), false, 12},
		{"grey.jpg", jpegBytes(t, grey), true, 6},
	}
	for _, c := range cases {
		img, err := Decoder{}.Decode(c.name, c.data)
		if err != nil {
			t.Errorf("%s: %v", c.name, err)
			continue
		}
		checkQuadrants(t, c.name, img, w, h, c.grey, c.tol)
	}
}

// The WebP and CMYK JPEG fixtures cannot be written by Go's encoders; testdata/README.md
// says how they were made.
func TestDecodeFixtures(t *testing.T) {
	for _, name := range []string{"quadrants-lossless.webp", "quadrants-cmyk.jpg"} {
		img, err := Load(filepath.Join("..", "testdata", name))
		if err != nil {
			t.Fatal(err)
		}
		tol := 0
		if strings.HasSuffix(name, ".jpg") {
			tol = 16
		}
		checkQuadrants(t, name, img, 32, 16, false, tol)
	}
}

func TestTransparentFlattenedOntoWhite(t *testing.T) {
	img := image.NewNRGBA(image.Rect(0, 0, 2, 1))
	img.SetNRGBA(0, 0, color.NRGBA{0, 0, 0, 0})     // fully transparent
	img.SetNRGBA(1, 0, color.NRGBA{200, 0, 0, 128}) // half-transparent red
	data := encode(t, func(b *bytes.Buffer) error { return png.Encode(b, img) })
	out, err := Decoder{}.Decode("alpha.png", data)
	if err != nil {
		t.Fatal(err)
	}
	rgba := out.(*image.RGBA)
	if got := rgba.RGBAAt(0, 0); got != (color.RGBA{255, 255, 255, 255}) {
		t.Errorf("transparent pixel became %v, want white", got)
	}
	// 200*128/255 + 255*(1-128/255) = 100.4 + 127 ≈ 228 red; 127 in green and blue.
	if got := rgba.RGBAAt(1, 0); got.A != 255 || got.R < 226 || got.R > 229 || got.G < 126 || got.G > 128 {
		t.Errorf("half-transparent red became %v, want about {228 127 127 255}", got)
	}
}

// pngHeader returns just the signature and IHDR chunk of a PNG claiming w x h pixels: what
// a decompression bomb starts with.
func pngHeader(w, h uint32) []byte {
	var buf bytes.Buffer
	buf.WriteString("\x89PNG\r\n\x1a\n")
	ihdr := make([]byte, 13)
	binary.BigEndian.PutUint32(ihdr[0:], w)
	binary.BigEndian.PutUint32(ihdr[4:], h)
	ihdr[8], ihdr[9] = 8, 6 // 8 bits, RGBA
	chunk := append([]byte("IHDR"), ihdr...)
	binary.Write(&buf, binary.BigEndian, uint32(len(ihdr)))
	buf.Write(chunk)
	binary.Write(&buf, binary.BigEndian, crc32.ChecksumIEEE(chunk))
	return buf.Bytes()
}

func TestBadFiles(t *testing.T) {
	dir := t.TempDir()
	good := jpegBytes(t, quadrants(64, 64))
	cases := []struct {
		file string
		data []byte
		kind error
		text string
	}{
		{"photo.jpg", []byte("<html><body>403 Forbidden</body></html>\n"), ErrNotImage, "photo.jpg: not an image (looks like text)"},
		{"noise.jpg", []byte{0x00, 0x01, 0xfe, 0x80, 0x00, 0x17, 0x9c}, ErrNotImage, "noise.jpg: not an image (unknown format)"},
		{"empty.png", nil, ErrNotImage, "empty.png: empty file"},
		{"a.jpg", good[:len(good)/2], ErrTruncated, "a.jpg: truncated JPEG"},
		{"header.jpg", good[:40], ErrTruncated, "header.jpg: truncated JPEG"},
		// Only the header: if the pixels were decoded first this would fail as truncated.
		{"x.png", pngHeader(30000, 30000), ErrTooLarge, "x.png: 30000x30000 is 900 MP, over the 50 MP budget"},
		{"zero.png", pngHeader(0, 10), ErrCorrupt, "zero.png: corrupt PNG"},
	}
	for _, c := range cases {
		path := filepath.Join(dir, c.file)
		if err := os.WriteFile(path, c.data, 0o644); err != nil {
			t.Fatal(err)
		}
		for _, op := range []string{"Load", "Check"} {
			var err error
			if op == "Load" {
				_, err = Load(path)
			} else {
				_, _, _, err = Decoder{}.Check(path)
			}
			if c.kind == ErrTruncated && op == "Check" {
				continue // the header can be whole while the pixels are cut off
			}
			if err == nil {
				t.Errorf("%s(%s) succeeded, want an error", op, c.file)
				continue
			}
			var fe *FileError
			if !errors.As(err, &fe) || fe.Path != path {
				t.Errorf("%s(%s) = %v, want a *FileError for %s", op, c.file, err, path)
			}
			if !errors.Is(err, c.kind) {
				t.Errorf("%s(%s) = %v, want kind %v", op, c.file, err, c.kind)
			}
			if !strings.Contains(err.Error(), c.text) {
				t.Errorf("%s(%s) = %q, want it to contain %q", op, c.file, err, c.text)
			}
		}
	}

	if _, err := Load(filepath.Join(dir, "missing.jpg")); !errors.Is(err, os.ErrNotExist) || !strings.Contains(err.Error(), "missing.jpg") {
		t.Errorf("missing file: %v", err)
	}
	if _, err := Load(dir); !errors.Is(err, ErrNotImage) || !strings.Contains(err.Error(), "folder") {
		t.Errorf("folder: %v", err)
	}
}

// TestBombRefusedBeforeDecoding checks that a header claiming 900 MP costs next to no
// memory: the refusal comes from the header, before any pixel buffer is allocated.
func TestBombRefusedBeforeDecoding(t *testing.T) {
	bomb := pngHeader(30000, 30000)
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	_, err := Decoder{}.Decode("bomb.png", bomb)
	runtime.ReadMemStats(&after)
	if !errors.Is(err, ErrTooLarge) {
		t.Fatalf("bomb: %v", err)
	}
	if allocated := after.TotalAlloc - before.TotalAlloc; allocated > 1<<20 {
		t.Errorf("refusing the bomb allocated %d bytes", allocated)
	}
}

func TestPixelBudget(t *testing.T) {
	data := jpegBytes(t, quadrants(64, 48)) // 3,072 pixels
	if _, err := (Decoder{MaxPixels: 3072}).Decode("ok.jpg", data); err != nil {
		t.Errorf("an image exactly at the budget was refused: %v", err)
	}
	_, err := (Decoder{MaxPixels: 3071}).Decode("big.jpg", data)
	if !errors.Is(err, ErrTooLarge) || !strings.Contains(err.Error(), "big.jpg: 64x48 is 3072 pixels, over the 3071 pixels budget") {
		t.Errorf("over budget: %v", err)
	}
}

func FuzzDecode(f *testing.F) {
	small := quadrants(8, 6)
	var buf bytes.Buffer
	png.Encode(&buf, small)
	f.Add(buf.Bytes())
	buf.Reset()
	jpeg.Encode(&buf, small, nil)
	f.Add(buf.Bytes())
	buf.Reset()
	gif.Encode(&buf, small, nil)
	f.Add(buf.Bytes())
	buf.Reset()
	bmp.Encode(&buf, small)
	f.Add(buf.Bytes())
	buf.Reset()
	tiff.Encode(&buf, small, nil)
	f.Add(buf.Bytes())
	for _, name := range []string{"quadrants-lossless.webp", "quadrants-cmyk.jpg"} {
		if data, err := os.ReadFile(filepath.Join("..", "testdata", name)); err == nil {
			f.Add(data)
		}
	}
	f.Add([]byte("just some text"))
	const budget = 1 << 16
	f.Fuzz(func(t *testing.T, data []byte) {
		img, err := Decoder{MaxPixels: budget}.Decode("fuzz", data)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "fuzz: ") {
				t.Errorf("error %q does not name the file", err)
			}
			return
		}
		rgba, ok := img.(*image.RGBA)
		if !ok {
			t.Fatalf("decoded to %T", img)
		}
		if b := rgba.Bounds(); b.Min != (image.Point{}) || b.Dx()*b.Dy() > budget || b.Empty() {
			t.Fatalf("decoded bounds %v outside the budget", b)
		}
	})
}

// noise is a picture of random pixels: large once compressed, so cutting the file short
// cuts into the pixel data rather than the header.
func noise(w, h int) *image.RGBA {
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	state := uint32(1)
	for i := range img.Pix {
		state = state*1664525 + 1013904223
		img.Pix[i] = uint8(state >> 24)
	}
	for i := 3; i < len(img.Pix); i += 4 {
		img.Pix[i] = 255
	}
	return img
}

func TestCheckMatchesLoad(t *testing.T) {
	dir := t.TempDir()
	big := noise(200, 150)
	bigJPEG := jpegBytes(t, big)
	files := map[string][]byte{
		// Go's TIFF encoder puts the index after the 120 KB of pixels: Check must seek to it.
		"late-index.tiff": encode(t, func(b *bytes.Buffer) error { return tiff.Encode(b, big, nil) }),
		// A 60 KB APP2 segment before the frame header, as a camera's embedded profile is.
		"profile.jpg": insertSegment(bigJPEG, segment(0xe2, make([]byte, 60000))),
		"plain.png":   encode(t, func(b *bytes.Buffer) error { return png.Encode(b, big) }),
		"plain.gif":   encode(t, func(b *bytes.Buffer) error { return gif.Encode(b, big, nil) }),
	}
	for name, data := range files {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, data, 0o644); err != nil {
			t.Fatal(err)
		}
		format, w, h, err := Decoder{}.Check(path)
		wantFormat := map[string]string{".tiff": "tiff", ".jpg": "jpeg", ".png": "png", ".gif": "gif"}[filepath.Ext(name)]
		if err != nil || w != 200 || h != 150 || format != wantFormat {
			t.Errorf("Check(%s) = %s %dx%d %v, want its format and 200x150", name, format, w, h, err)
		}
		if _, err := Load(path); err != nil {
			t.Errorf("Load(%s): %v", name, err)
		}
	}

	// Cut short inside the pixel data: the header check passes, decoding says truncated.
	cut := filepath.Join(dir, "cut.jpg")
	os.WriteFile(cut, bigJPEG[:len(bigJPEG)*2/3], 0o644)
	if _, _, _, err := (Decoder{}).Check(cut); err != nil {
		t.Errorf("Check of a JPEG cut in its pixel data: %v", err)
	}
	if _, err := Load(cut); !errors.Is(err, ErrTruncated) || !strings.Contains(err.Error(), "cut.jpg: truncated JPEG") {
		t.Errorf("Load of a JPEG cut in its pixel data: %v", err)
	}
}

// Read returns a file's bytes only after the header checks Load makes (format, budget), so a
// caller that looks the bytes up in a cache refuses the same files Load refuses.
func TestReadChecksTheHeader(t *testing.T) {
	dir := t.TempDir()
	pic := filepath.Join(dir, "pic.png")
	data := encode(t, func(b *bytes.Buffer) error { return png.Encode(b, noise(40, 30)) })
	os.WriteFile(pic, data, 0o644)
	got, err := Decoder{}.Read(pic)
	if err != nil || !bytes.Equal(got, data) {
		t.Fatalf("Read(pic.png) = %d bytes, %v; want the file's %d bytes", len(got), err, len(data))
	}
	if _, err := (Decoder{MaxPixels: 100}).Read(pic); !errors.Is(err, ErrTooLarge) || !strings.Contains(err.Error(), "pic.png") {
		t.Errorf("Read over the budget: %v, want ErrTooLarge naming the file", err)
	}
	text := filepath.Join(dir, "note.jpg")
	os.WriteFile(text, []byte("not a picture"), 0o644)
	if _, err := (Decoder{}).Read(text); !errors.Is(err, ErrNotImage) {
		t.Errorf("Read of a text file: %v, want ErrNotImage", err)
	}
}
