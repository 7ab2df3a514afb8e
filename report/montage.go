package report

import (
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"path/filepath"
	"sync"

	"golang.org/x/image/font"
	"golang.org/x/image/font/gofont/goregular"
	"golang.org/x/image/font/opentype"
	"golang.org/x/image/math/fixed"

	"github.com/vgglab/vgg/vision"
)

// Montage layout, in pixels.
const (
	montagePad     = 12
	montageFace    = 192 // the photo's height and the face and heatmap sides
	montageThumb   = 128
	montageCell    = 168 // width of one match column
	montagePerRow  = 5
	montageLineGap = 17
)

var (
	montageBackground = color.RGBA{R: 250, G: 250, B: 250, A: 255}
	montageText       = color.RGBA{R: 34, G: 34, B: 34, A: 255}
)

// labelFace is the Go font at 13 pixels, parsed once.
var labelFace = sync.OnceValues(func() (font.Face, error) {
	f, err := opentype.Parse(goregular.TTF)
	if err != nil {
		return nil, err
	}
	return opentype.NewFace(f, &opentype.FaceOptions{Size: 13, DPI: 72, Hinting: font.HintingFull})
})

// montage draws the report as one picture: the photo with its faces outlined in a first row,
// then for each face a row with what the network saw and its heatmap, then its matches, each
// its closest gallery photo above its name and scores.
func montage(r *Report) (*image.RGBA, error) {
	face, err := labelFace()
	if err != nil {
		return nil, fmt.Errorf("report: font: %w", err)
	}
	photo := annotatedPhoto(r, montageFace)
	// Scale the photo to the row height; annotatedPhoto fits its longer side.
	pw := photo.Bounds().Dx() * montageFace / photo.Bounds().Dy()
	photo = vision.Resize(photo, pw, montageFace)

	type picture struct {
		img     image.Image
		caption string
	}
	width := 2*montagePad + max(pw, montageFace)
	rowHeight := montageThumb + 4*montageLineGap + montagePad
	pictureRow := montageFace + montageLineGap + montagePad
	height := montagePad + pictureRow
	for _, f := range r.Faces {
		rows := (len(f.Matches) + montagePerRow - 1) / montagePerRow
		width = max(width, montagePad+2*(montageFace+montagePad), montagePad+min(len(f.Matches), montagePerRow)*montageCell)
		height += pictureRow + rows*rowHeight
	}

	out := image.NewRGBA(image.Rect(0, 0, width, height))
	draw.Draw(out, out.Bounds(), image.NewUniform(montageBackground), image.Point{}, draw.Src)
	text := &font.Drawer{Dst: out, Src: image.NewUniform(montageText), Face: face}
	say := func(x, y, width int, s string) {
		text.Dot = fixed.P(x, y)
		text.DrawString(fit(face, s, width))
	}
	// drawRow draws pictures side by side at height y, each captioned below.
	drawRow := func(y int, pictures []picture) {
		x := montagePad
		for _, t := range pictures {
			img := t.img
			if img.Bounds().Dy() != montageFace {
				img = vision.Resize(img, montageFace, montageFace)
			}
			draw.Draw(out, image.Rect(x, y, x+img.Bounds().Dx(), y+montageFace), img, img.Bounds().Min, draw.Src)
			say(x, y+montageFace+montageLineGap-3, max(img.Bounds().Dx(), montageFace), t.caption)
			x += max(img.Bounds().Dx(), montageFace) + montagePad
		}
	}

	drawRow(montagePad, []picture{{photo, "photo: " + filepath.Base(r.PhotoPath)}})
	y := montagePad + pictureRow
	for _, f := range r.Faces {
		row := []picture{{f.Picture, fmt.Sprintf("face %d seen", f.Number)}}
		if f.Heatmap != nil {
			row = append(row, picture{f.Heatmap, "Grad-CAM: " + f.CAMIdentity})
		}
		drawRow(y, row)
		y += pictureRow
		for i, m := range f.Matches {
			cx := montagePad + (i%montagePerRow)*montageCell
			cy := y + (i/montagePerRow)*rowHeight
			if m.Closest != nil {
				thumb := vision.SquareResize(m.Closest, montageThumb)
				draw.Draw(out, image.Rect(cx, cy, cx+montageThumb, cy+montageThumb), thumb, image.Point{}, draw.Src)
			}
			lines := []string{fmt.Sprintf("%d. %s", i+1, m.Identity)}
			if m.HasProbability {
				lines = append(lines, fmt.Sprintf("probability %.3f", m.Probability))
			} else {
				lines = append(lines, "not in the classifier")
			}
			if m.HasScore {
				lines = append(lines, fmt.Sprintf("gallery score %.3f", m.Score))
			}
			if m.Closest != nil {
				lines = append(lines, fmt.Sprintf("similarity %.3f", m.Similarity))
			}
			for j, l := range lines {
				say(cx, cy+montageThumb+(j+1)*montageLineGap-3, montageCell-8, l)
			}
		}
		y += (len(f.Matches) + montagePerRow - 1) / montagePerRow * rowHeight
	}
	return out, nil
}

// fit shortens s with an ellipsis until it is at most width pixels wide, so a long name does
// not run into the next column.
func fit(face font.Face, s string, width int) string {
	limit := fixed.I(width)
	if font.MeasureString(face, s) <= limit {
		return s
	}
	r := []rune(s)
	for len(r) > 0 && font.MeasureString(face, string(r)+"…") > limit {
		r = r[:len(r)-1]
	}
	return string(r) + "…"
}
