package synth

import (
	"image"
	"image/color"
	"image/draw"
	"sync"

	"golang.org/x/image/font"
	"golang.org/x/image/font/gofont/goregular"
	"golang.org/x/image/font/opentype"
	"golang.org/x/image/math/fixed"
)

// labelFace is Go Regular at 13 pixels: unlike the bitmap basicfont, which is ASCII only,
// it has the accented letters of names such as "Chloé" and "Søren".
var labelFace = sync.OnceValue(func() font.Face {
	f, err := opentype.Parse(goregular.TTF)
	if err != nil {
		panic(err) // the font is compiled in: failing to parse it is a broken build
	}
	face, err := opentype.NewFace(f, &opentype.FaceOptions{Size: 13, DPI: 72, Hinting: font.HintingFull})
	if err != nil {
		panic(err)
	}
	return face
})

// ContactSheet draws a grid with one row per identity: its name, then its first photos
// photos at cell x cell pixels. Write it with vision.WritePNG.
func ContactSheet(seed uint64, identities, photos, cell int) *image.RGBA {
	const gap = 4 // pixels between cells
	face := labelFace()
	labelW := 0
	for id := range identities {
		labelW = max(labelW, font.MeasureString(face, Name(id)).Ceil())
	}
	labelW += 2 * gap
	width := labelW + photos*(cell+gap)
	height := gap + identities*(cell+gap)
	sheet := image.NewRGBA(image.Rect(0, 0, width, height))
	draw.Draw(sheet, sheet.Bounds(), image.NewUniform(color.RGBA{250, 250, 248, 255}), image.Point{}, draw.Src)
	for id := range identities {
		top := gap + id*(cell+gap)
		d := font.Drawer{Dst: sheet, Src: image.NewUniform(color.RGBA{20, 20, 20, 255}), Face: face,
			Dot: fixed.P(gap, top+cell/2+face.Metrics().Ascent.Ceil()/2)}
		d.DrawString(Name(id))
		for photo := range photos {
			left := labelW + photo*(cell+gap)
			img := Render(seed, id, photo, cell)
			draw.Draw(sheet, image.Rect(left, top, left+cell, top+cell), img, image.Point{}, draw.Src)
		}
	}
	return sheet
}
