package synth

import (
	"bytes"
	"image"
	"os"
	"testing"

	"github.com/vgglab/vgg/vision"
)

// TestContactSheet checks the layout: each row holds the identity's renderings, and its
// name is drawn to their left. Set SYNTH_SHEET=sheet.png to also write the sheet to look at.
func TestContactSheet(t *testing.T) {
	const ids, photos, cell = 3, 4, 40
	sheet := ContactSheet(5, ids, photos, cell)
	b := sheet.Bounds()
	if b.Dy() != 4+ids*(cell+4) {
		t.Errorf("height %d, want %d", b.Dy(), 4+ids*(cell+4))
	}
	labelW := b.Dx() - photos*(cell+4)
	for id := range ids {
		top := 4 + id*(cell+4)
		for p := range photos {
			left := labelW + p*(cell+4)
			got := sheet.SubImage(image.Rect(left, top, left+cell, top+cell)).(*image.RGBA)
			want := Render(5, id, p, cell)
			for y := range cell {
				if !bytes.Equal(got.Pix[got.PixOffset(left, top+y):got.PixOffset(left+cell, top+y)], want.Pix[want.PixOffset(0, y):want.PixOffset(cell, y)]) {
					t.Fatalf("identity %d photo %d: cell differs from Render", id, p)
				}
			}
		}
		dark := 0
		label := sheet.SubImage(image.Rect(0, top, labelW, top+cell)).(*image.RGBA)
		for y := top; y < top+cell; y++ {
			for x := 0; x < labelW; x++ {
				if label.RGBAAt(x, y).R < 100 {
					dark++
				}
			}
		}
		if dark < 20 {
			t.Errorf("row %d: no name drawn (%d dark pixels)", id, dark)
		}
	}
	if out := os.Getenv("SYNTH_SHEET"); out != "" {
		if err := vision.WritePNG(out, ContactSheet(1, 10, 8, 96)); err != nil {
			t.Fatal(err)
		}
	}
}
