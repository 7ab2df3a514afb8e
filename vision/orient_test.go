package vision

import (
	"bytes"
	"encoding/binary"
	"image"
	"image/color"
	"testing"
)

// TestOrient checks all eight orientations on a 3x2 picture whose pixels are numbered
//
//	1 2 3
//	4 5 6
//
// against the upright pictures the EXIF standard describes (row 0 / column 0 of the stored
// picture is the visual top/left, top/right, bottom/right, ...).
func TestOrient(t *testing.T) {
	stored := image.NewRGBA(image.Rect(0, 0, 3, 2))
	for i := 0; i < 6; i++ {
		stored.SetRGBA(i%3, i/3, color.RGBA{uint8(i + 1), 0, 0, 255})
	}
	want := map[int][][]uint8{
		1: {{1, 2, 3}, {4, 5, 6}},
		2: {{3, 2, 1}, {6, 5, 4}},   // mirrored
		3: {{6, 5, 4}, {3, 2, 1}},   // upside down
		4: {{4, 5, 6}, {1, 2, 3}},   // mirrored upside down
		5: {{1, 4}, {2, 5}, {3, 6}}, // transposed
		6: {{4, 1}, {5, 2}, {6, 3}}, // needs a quarter turn clockwise
		7: {{6, 3}, {5, 2}, {4, 1}}, // transversed
		8: {{3, 6}, {2, 5}, {1, 4}}, // needs a quarter turn anticlockwise
		0: {{1, 2, 3}, {4, 5, 6}},   // invalid values leave the picture alone
		9: {{1, 2, 3}, {4, 5, 6}},
	}
	for o, rows := range want {
		got := Orient(stored, o)
		if b := got.Bounds(); b.Dx() != len(rows[0]) || b.Dy() != len(rows) {
			t.Errorf("orientation %d: %dx%d, want %dx%d", o, b.Dx(), b.Dy(), len(rows[0]), len(rows))
			continue
		}
		for y, row := range rows {
			for x, v := range row {
				if p := got.RGBAAt(x, y).R; p != v {
					t.Errorf("orientation %d: pixel (%d,%d) = %d, want %d", o, x, y, p, v)
				}
			}
		}
	}
}

// exifSegment builds a JPEG APP1 segment holding EXIF IFD0 with an Orientation tag, in
// either byte order, with another tag before it as real cameras write.
func exifSegment(orientation uint16, order binary.ByteOrder) []byte {
	var tiff bytes.Buffer
	if order == binary.LittleEndian {
		tiff.WriteString("II")
	} else {
		tiff.WriteString("MM")
	}
	put16 := func(v uint16) { binary.Write(&tiff, order, v) }
	put32 := func(v uint32) { binary.Write(&tiff, order, v) }
	put16(42)
	put32(8) // IFD0 right after the header
	put16(2) // two entries
	// 0x010f Make, ASCII, 4 bytes "Go!\0" stored inline.
	put16(0x010f)
	put16(2)
	put32(4)
	tiff.WriteString("Go!\x00")
	// 0x0112 Orientation, SHORT, 1 value, padded to 4 bytes.
	put16(0x0112)
	put16(3)
	put32(1)
	put16(orientation)
	put16(0)
	put32(0) // no next IFD

	return segment(0xe1, append([]byte("Exif\x00\x00"), tiff.Bytes()...))
}

// segment builds a JPEG marker segment: the marker, the big-endian length, the payload.
func segment(marker byte, payload []byte) []byte {
	seg := []byte{0xff, marker, 0, 0}
	binary.BigEndian.PutUint16(seg[2:], uint16(len(payload)+2))
	return append(seg, payload...)
}

// insertSegment inserts a segment after the JPEG's SOI and APP0 (JFIF) markers, where
// cameras put EXIF.
func insertSegment(jpegData, segment []byte) []byte {
	at := 2
	if jpegData[2] == 0xff && jpegData[3] == 0xe0 {
		at += 2 + int(binary.BigEndian.Uint16(jpegData[4:]))
	}
	out := append([]byte(nil), jpegData[:at]...)
	out = append(out, segment...)
	return append(out, jpegData[at:]...)
}

func TestEXIFOrientation(t *testing.T) {
	plain := jpegBytes(t, quadrants(64, 32))
	stored, err := Decoder{}.Decode("plain.jpg", plain)
	if err != nil {
		t.Fatal(err)
	}
	if o := jpegOrientation(plain); o != 1 {
		t.Fatalf("a JPEG without EXIF has orientation %d, want 1", o)
	}
	for o := 1; o <= 8; o++ {
		for _, order := range []binary.ByteOrder{binary.LittleEndian, binary.BigEndian} {
			data := insertSegment(plain, exifSegment(uint16(o), order))
			if got := jpegOrientation(data); got != o {
				t.Errorf("%v orientation %d read as %d", order, o, got)
			}
			img, err := Decoder{}.Decode("exif.jpg", data)
			if err != nil {
				t.Fatalf("%v orientation %d: %v", order, o, err)
			}
			if want := Orient(stored.(*image.RGBA), o); !bytes.Equal(img.(*image.RGBA).Pix, want.Pix) || img.Bounds() != want.Bounds() {
				t.Errorf("%v orientation %d: the decoded picture is not the stored one turned upright", order, o)
			}
		}
	}
	// Quarter-turned portrait: the stored 64x32 landscape comes out 32x64, red on top right.
	img, _ := Decoder{}.Decode("turned.jpg", insertSegment(plain, exifSegment(6, binary.BigEndian)))
	if b := img.Bounds(); b.Dx() != 32 || b.Dy() != 64 {
		t.Fatalf("orientation 6 gives %v, want 32x64", b)
	}
	if c := img.(*image.RGBA).RGBAAt(24, 16); c.R < 200 || c.G > 60 {
		t.Errorf("orientation 6: top right is %v, want the red quadrant", c)
	}
}

func TestEXIFMalformed(t *testing.T) {
	plain := jpegBytes(t, quadrants(16, 16))
	good := exifSegment(6, binary.LittleEndian)
	cutIFD := append([]byte(nil), good...)
	binary.LittleEndian.PutUint32(cutIFD[4+6+4:], 5000) // IFD0 offset far past the end
	badOrder := append([]byte(nil), good...)
	copy(badOrder[4+6:], "XX")
	badValue := exifSegment(42, binary.LittleEndian)
	for name, seg := range map[string][]byte{"IFD offset past the end": cutIFD, "unknown byte order": badOrder, "value 42": badValue} {
		data := insertSegment(plain, seg)
		if o := jpegOrientation(data); o != 1 {
			t.Errorf("%s: orientation %d, want 1", name, o)
		}
		if _, err := (Decoder{}).Decode("x.jpg", data); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
}
