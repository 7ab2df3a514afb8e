package vision

import (
	"encoding/binary"
	"image"
)

// Cameras store the sensor's pixels as they came and record how the phone was held in the
// EXIF Orientation tag (1 to 8) instead of rotating the JPEG. A face photo taken in portrait
// is therefore often stored sideways; without honouring the tag the network would be shown
// faces lying on their side.

// jpegOrientation returns the EXIF Orientation (1 to 8) of a JPEG file, or 1 (upright) when
// the file has no EXIF, no such tag, or a malformed one. It walks the JPEG marker segments
// before the image data, finds the APP1 "Exif" segment, and reads tag 0x0112 from IFD0 of
// the TIFF structure inside it.
func jpegOrientation(data []byte) int {
	if len(data) < 4 || data[0] != 0xff || data[1] != 0xd8 {
		return 1
	}
	for i := 2; i+4 <= len(data); {
		if data[i] != 0xff {
			return 1
		}
		marker := data[i+1]
		if marker == 0xff { // fill byte before a marker
			i++
			continue
		}
		if marker == 0xda || marker == 0xd9 { // start of scan or end of image: no EXIF ahead
			return 1
		}
		length := int(binary.BigEndian.Uint16(data[i+2:]))
		if length < 2 || i+2+length > len(data) {
			return 1
		}
		segment := data[i+4 : i+2+length]
		if marker == 0xe1 && len(segment) >= 6 && string(segment[:6]) == "Exif\x00\x00" {
			return exifOrientation(segment[6:])
		}
		i += 2 + length
	}
	return 1
}

// exifOrientation reads the Orientation tag from a TIFF-structured EXIF block.
func exifOrientation(tiff []byte) int {
	if len(tiff) < 8 {
		return 1
	}
	var order binary.ByteOrder
	switch string(tiff[:2]) {
	case "II":
		order = binary.LittleEndian
	case "MM":
		order = binary.BigEndian
	default:
		return 1
	}
	if order.Uint16(tiff[2:]) != 42 {
		return 1
	}
	ifd := int(order.Uint32(tiff[4:]))
	if ifd < 8 || ifd+2 > len(tiff) {
		return 1
	}
	entries := int(order.Uint16(tiff[ifd:]))
	for e := 0; e < entries; e++ {
		at := ifd + 2 + 12*e
		if at+12 > len(tiff) {
			return 1
		}
		const tagOrientation, typeShort = 0x0112, 3
		if order.Uint16(tiff[at:]) != tagOrientation {
			continue
		}
		if order.Uint16(tiff[at+2:]) != typeShort || order.Uint32(tiff[at+4:]) != 1 {
			return 1
		}
		// A single SHORT sits in the first two bytes of the value field.
		if v := int(order.Uint16(tiff[at+8:])); v >= 1 && v <= 8 {
			return v
		}
		return 1
	}
	return 1
}

// Orient returns img turned upright according to an EXIF orientation value: 1 upright,
// 2 mirrored, 3 upside down, 4 mirrored upside down, 5 transposed, 6 to be turned 90°
// clockwise, 7 transversed, 8 to be turned 90° anticlockwise. Values outside 2..8 return
// img itself.
func Orient(img *image.RGBA, orientation int) *image.RGBA {
	if orientation < 2 || orientation > 8 {
		return img
	}
	w, h := img.Bounds().Dx(), img.Bounds().Dy()
	outW, outH := w, h
	if orientation >= 5 { // the four orientations that swap width and height
		outW, outH = h, w
	}
	// source gives the stored pixel that lands at (x, y) of the upright picture.
	source := func(x, y int) (int, int) {
		switch orientation {
		case 2:
			return w - 1 - x, y
		case 3:
			return w - 1 - x, h - 1 - y
		case 4:
			return x, h - 1 - y
		case 5:
			return y, x
		case 6:
			return y, h - 1 - x
		case 7:
			return w - 1 - y, h - 1 - x
		default: // 8
			return w - 1 - y, x
		}
	}
	out := image.NewRGBA(image.Rect(0, 0, outW, outH))
	origin := img.Bounds().Min
	for y := 0; y < outH; y++ {
		for x := 0; x < outW; x++ {
			sx, sy := source(x, y)
			si := img.PixOffset(origin.X+sx, origin.Y+sy)
			di := out.PixOffset(x, y)
			copy(out.Pix[di:di+4], img.Pix[si:si+4])
		}
	}
	return out
}
