package report

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"html/template"
	"image"
	"image/color"
	"image/draw"
	"image/png"
	"path/filepath"

	"golang.org/x/image/font"
	"golang.org/x/image/math/fixed"

	"github.com/vgglab/vgg/vision"
)

// Sizes of the pictures on the page, in pixels: large enough to see a face, small enough that a
// page with ten matches stays a few hundred kilobytes. A photo with several faces is shown
// larger, so that each numbered box can be told apart.
const (
	photoSide   = 360
	groupSide   = 720
	faceSide    = 192
	gallerySide = 128
)

// Style is the page's CSS, shared with pages that show the answer inside their own (vgg serve).
const Style = `body { font-family: system-ui, sans-serif; margin: 24px; background: #fafafa; color: #222; }
h1 { font-size: 22px; margin: 0 0 16px; }
h2 { font-size: 18px; margin: 24px 0 8px; }
.row { display: flex; gap: 20px; flex-wrap: wrap; align-items: flex-start; }
figure { margin: 0; background: #fff; padding: 8px; border: 1px solid #ddd; border-radius: 6px; }
figcaption { font-size: 13px; color: #555; margin-top: 6px; max-width: 360px; }
figure.group figcaption { max-width: 720px; }
figure.face figcaption { max-width: 192px; }
section.face-answer { margin-top: 12px; padding-top: 4px; border-top: 1px solid #ddd; }
table { border-collapse: collapse; margin-top: 12px; background: #fff; }
th, td { border: 1px solid #ddd; padding: 6px 10px; text-align: left; vertical-align: middle; font-size: 14px; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
.bar { background: #e3e3e3; width: 120px; height: 10px; border-radius: 5px; }
.bar span { display: block; height: 10px; border-radius: 5px; background: #3b7dd8; }
footer { margin-top: 20px; font-size: 12px; color: #666; max-width: 900px; }
.warning { background: #fdecea; border: 2px solid #d62728; border-radius: 6px; padding: 10px 14px; margin: 0 0 16px; max-width: 900px; }
.warning strong { color: #b71c1c; }
.warning ul { margin: 6px 0 0; padding-left: 20px; }
p.confidence { margin: 0 0 12px; font-size: 15px; }
p.confidence.doubtful { color: #b71c1c; }
`

// The answer is a template of its own, so that a page of another shape (vgg serve's, with its
// upload form) shows the very same answer.
var pageTemplate = template.Must(template.New("page").Parse(`{{define "answer"}}{{if or .Warnings .Doubtful}}<div class="warning" id="warning"><strong>This is not a trustworthy answer.</strong><ul>
{{range .Faces}}{{if .Doubtful}}<li>{{if $.Several}}Face {{.Number}}: {{end}}{{.Confidence}}</li>
{{end}}{{end}}{{range .Warnings}}<li>{{.}}</li>
{{end}}</ul></div>
{{end}}<div class="row">
<figure{{if .Several}} class="group"{{end}}><img id="photo" src="{{.Photo}}" alt="the photo"><figcaption>The photo. {{.Framing}}</figcaption></figure>
</div>
{{range .Faces}}<section class="face-answer" id="answer-{{.Number}}">
<h2>Face {{.Number}}{{if .Best}}: looks most like <span class="best">{{.Best}}</span>{{end}}</h2>
{{if .Confidence}}<p class="confidence{{if .Doubtful}} doubtful{{end}}" id="confidence-{{.Number}}">{{.Confidence}}</p>
{{end}}<div class="row">
<figure class="face"><img id="face-{{.Number}}" src="{{.Picture}}" alt="face {{.Number}} as the network saw it" width="{{$.FaceSide}}" height="{{$.FaceSide}}"><figcaption>Face {{.Number}} as the network saw it.</figcaption></figure>
{{if .Heatmap}}<figure class="face"><img id="heatmap-{{.Number}}" src="{{.Heatmap}}" alt="Grad-CAM heatmap of face {{.Number}}" width="{{$.FaceSide}}" height="{{$.FaceSide}}"><figcaption>Where the network found {{.CAMIdentity}}: Grad-CAM, red = strong evidence.</figcaption></figure>{{end}}
</div>
<table class="matches" id="matches-{{.Number}}">
<tr><th>#</th><th>identity</th><th>probability</th>{{if $.HasScore}}<th>gallery score</th>{{end}}<th>most similar gallery photo</th><th>cosine similarity</th></tr>
{{range .Matches}}<tr>
<td class="num">{{.Rank}}</td>
<td class="identity">{{.Identity}}</td>
<td>{{if .HasProbability}}<div class="bar"><span style="width: {{.ProbabilityPercent}}%"></span></div>{{.Probability}}{{else}}not in the classifier{{end}}</td>
{{if $.HasScore}}<td class="num">{{.Score}}</td>{{end}}
<td>{{if .Closest}}<img class="closest" src="{{.Closest}}" alt="{{.ClosestName}}" title="{{.ClosestPath}}" width="{{$.GallerySide}}" height="{{$.GallerySide}}"><br><small>{{.ClosestName}}</small>{{else if $.NoClosest}}not shown: the embeddings have collapsed{{else}}no gallery photo{{end}}</td>
<td class="num">{{if .Closest}}{{.Similarity}}{{end}}</td>
</tr>
{{end}}</table>
</section>
{{end}}<footer>Ranked by {{.RankedByText}}. Similarity is the cosine of the angle between the two faces' embeddings (the network's convolutional features, or its penultimate layer fc.4 for older models, less the gallery's mean face): 1 means the same picture, 0 nothing in particular in common, below 0 unlike. Model: {{.Model}}.</footer>
{{end}}<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="generator" content="vgg">
<title>Look-alike: {{.Title}}</title>
<style>
{{.Style}}</style>
</head>
<body>
<h1>Whom does {{.Title}} look like?</h1>
{{template "answer" .}}</body>
</html>
`))

type pageMatch struct {
	Rank                           int
	Identity                       string
	HasProbability                 bool
	Probability, Score, Similarity string
	ProbabilityPercent             string
	Closest                        template.URL
	ClosestName, ClosestPath       string
}

type pageFace struct {
	Number            int
	Best, CAMIdentity string
	Picture, Heatmap  template.URL
	Matches           []pageMatch
	Confidence        string
	Doubtful          bool
}

type page struct {
	Title, Framing, Model, RankedByText string
	Style                               template.CSS
	Photo                               template.URL
	FaceSide, GallerySide               int
	HasScore, NoClosest, Doubtful       bool
	Several                             bool
	Faces                               []pageFace
	Warnings                            []string
}

// HTML renders the whole page of a report.
func HTML(r *Report) ([]byte, error) {
	p, err := newPage(r)
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	if err := pageTemplate.ExecuteTemplate(&buf, "page", p); err != nil {
		return nil, fmt.Errorf("report: %w", err)
	}
	return buf.Bytes(), nil
}

// Answer renders the answer alone (warnings, the photo with its faces outlined, and each face
// with its matches), for a page that holds it with Style in its head.
func Answer(r *Report) (template.HTML, error) {
	p, err := newPage(r)
	if err != nil {
		return "", err
	}
	var buf bytes.Buffer
	if err := pageTemplate.ExecuteTemplate(&buf, "answer", p); err != nil {
		return "", fmt.Errorf("report: %w", err)
	}
	// The template escaped every value that went into it.
	return template.HTML(buf.String()), nil
}

// newPage turns the report into what the template shows: numbers as text, pictures as data: URIs.
func newPage(r *Report) (*page, error) {
	if r.Photo == nil || len(r.Faces) == 0 {
		return nil, fmt.Errorf("report: the photo and at least one face are needed")
	}
	p := &page{
		Title:       filepath.Base(r.PhotoPath),
		Framing:     r.Framing,
		Model:       r.Model,
		Style:       template.CSS(Style),
		NoClosest:   r.NoClosest,
		Warnings:    r.Warnings,
		FaceSide:    faceSide,
		GallerySide: gallerySide,
		Several:     len(r.Faces) > 1,
	}
	var err error
	side := photoSide
	if p.Several {
		side = groupSide
	}
	if p.Photo, err = dataURI(annotatedPhoto(r, side)); err != nil {
		return nil, err
	}
	switch r.RankedBy {
	case "embedding":
		p.RankedByText = "gallery score: the mean cosine similarity of each identity's three gallery photos closest to this face"
	default:
		p.RankedByText = "the classifier's probability"
	}
	for _, f := range r.Faces {
		if f.Picture == nil {
			return nil, fmt.Errorf("report: face %d has no picture", f.Number)
		}
		pf := pageFace{Number: f.Number, CAMIdentity: f.CAMIdentity, Confidence: f.Confidence, Doubtful: f.Doubtful}
		p.Doubtful = p.Doubtful || f.Doubtful
		if len(f.Matches) > 0 {
			pf.Best = f.Matches[0].Identity
		}
		if pf.Picture, err = dataURI(f.Picture); err != nil {
			return nil, err
		}
		if f.Heatmap != nil {
			if pf.Heatmap, err = dataURI(f.Heatmap); err != nil {
				return nil, err
			}
		}
		for i, m := range f.Matches {
			pm := pageMatch{
				Rank:               i + 1,
				Identity:           m.Identity,
				HasProbability:     m.HasProbability,
				Probability:        fmt.Sprintf("%.3f", m.Probability),
				ProbabilityPercent: fmt.Sprintf("%.1f", 100*m.Probability),
				Score:              fmt.Sprintf("%.3f", m.Score),
				Similarity:         fmt.Sprintf("%.3f", m.Similarity),
				ClosestName:        filepath.Base(m.ClosestPath),
				ClosestPath:        m.ClosestPath,
			}
			p.HasScore = p.HasScore || m.HasScore
			if m.Closest != nil {
				if pm.Closest, err = dataURI(vision.SquareResize(m.Closest, gallerySide)); err != nil {
					return nil, err
				}
			}
			pf.Matches = append(pf.Matches, pm)
		}
		p.Faces = append(p.Faces, pf)
	}
	return p, nil
}

// dataURI encodes a picture as a PNG data: URI, so the page needs no other file.
func dataURI(img image.Image) (template.URL, error) {
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		return "", fmt.Errorf("report: encoding a picture: %w", err)
	}
	return template.URL("data:image/png;base64," + base64.StdEncoding.EncodeToString(buf.Bytes())), nil
}

// faceBoxColour outlines the detected face: a saturated green that no skin tone or Turbo colour
// is near.
var faceBoxColour = color.RGBA{R: 0, G: 230, B: 64, A: 255}

// annotatedPhoto is the photo scaled to fit maxSide with each detected face outlined and, when
// there are several, numbered. A small photo (a 112-pixel crop) is enlarged, but at most twice,
// so it is not blown up into blur.
func annotatedPhoto(r *Report, maxSide int) *image.RGBA {
	b := r.Photo.Bounds()
	scale := min(2, float64(maxSide)/float64(max(b.Dx(), b.Dy())))
	w, h := max(1, int(float64(b.Dx())*scale+0.5)), max(1, int(float64(b.Dy())*scale+0.5))
	out := vision.Resize(r.Photo, w, h)
	for _, f := range r.Faces {
		if f.Box.Empty() {
			continue
		}
		box := image.Rect(
			int(float64(f.Box.Min.X-b.Min.X)*scale), int(float64(f.Box.Min.Y-b.Min.Y)*scale),
			int(float64(f.Box.Max.X-b.Min.X)*scale), int(float64(f.Box.Max.Y-b.Min.Y)*scale))
		vision.Outline(out, box, 3, faceBoxColour)
		if len(r.Faces) > 1 {
			numberBox(out, box, f.Number)
		}
	}
	return out
}

// numberBox writes a face's number in a green tag on the top left corner of its box, outside
// it (above, or below where the box touches the top), so that the tag hides none of a small
// face.
func numberBox(out *image.RGBA, box image.Rectangle, n int) {
	face, err := labelFace()
	if err != nil {
		return // the boxes alone still show the faces
	}
	const tagHeight = 16
	label := fmt.Sprint(n)
	width := font.MeasureString(face, label).Ceil() + 6
	top := box.Min.Y - tagHeight
	if top < out.Bounds().Min.Y {
		top = box.Max.Y
	}
	tag := image.Rect(box.Min.X, top, box.Min.X+width, top+tagHeight).Intersect(out.Bounds())
	draw.Draw(out, tag, image.NewUniform(faceBoxColour), image.Point{}, draw.Src)
	d := &font.Drawer{Dst: out, Src: image.Black, Face: face, Dot: fixed.P(box.Min.X+3, top+13)}
	d.DrawString(label)
}
