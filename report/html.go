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

	"github.com/vgglab/vgg/vision"
)

// Sizes of the pictures on the page, in pixels: large enough to see a face, small enough that a
// page with ten matches stays a few hundred kilobytes.
const (
	photoSide   = 360
	faceSide    = 192
	gallerySide = 128
)

var pageTemplate = template.Must(template.New("page").Parse(`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="generator" content="vgg">
<title>Look-alike: {{.Title}}</title>
<style>
body { font-family: system-ui, sans-serif; margin: 24px; background: #fafafa; color: #222; }
h1 { font-size: 22px; margin: 0 0 16px; }
.row { display: flex; gap: 20px; flex-wrap: wrap; align-items: flex-start; }
figure { margin: 0; background: #fff; padding: 8px; border: 1px solid #ddd; border-radius: 6px; }
figcaption { font-size: 13px; color: #555; margin-top: 6px; max-width: 360px; }
figure.face figcaption { max-width: {{.FaceSide}}px; }
table { border-collapse: collapse; margin-top: 24px; background: #fff; }
th, td { border: 1px solid #ddd; padding: 6px 10px; text-align: left; vertical-align: middle; font-size: 14px; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
.bar { background: #e3e3e3; width: 120px; height: 10px; border-radius: 5px; }
.bar span { display: block; height: 10px; border-radius: 5px; background: #3b7dd8; }
footer { margin-top: 20px; font-size: 12px; color: #666; max-width: 900px; }
.warning { background: #fdecea; border: 2px solid #d62728; border-radius: 6px; padding: 10px 14px; margin: 0 0 16px; max-width: 900px; }
.warning strong { color: #b71c1c; }
.warning ul { margin: 6px 0 0; padding-left: 20px; }
p.confidence { margin: -8px 0 16px; font-size: 15px; }
</style>
</head>
<body>
<h1>Whom does {{.Title}} look like?</h1>
{{if or .Warnings .Doubtful}}<div class="warning" id="warning"><strong>This is not a trustworthy answer.</strong><ul>
{{if .Doubtful}}<li>{{.Confidence}}</li>
{{end}}{{range .Warnings}}<li>{{.}}</li>
{{end}}</ul></div>
{{else if .Confidence}}<p class="confidence" id="confidence">{{.Confidence}}</p>
{{end}}<div class="row">
<figure><img id="photo" src="{{.Photo}}" alt="the photo"><figcaption>The photo. {{.Framing}}</figcaption></figure>
<figure class="face"><img id="face" src="{{.Face}}" alt="the face the network saw" width="{{.FaceSide}}" height="{{.FaceSide}}"><figcaption>The face the network saw.</figcaption></figure>
{{if .Heatmap}}<figure class="face"><img id="heatmap" src="{{.Heatmap}}" alt="Grad-CAM heatmap" width="{{.FaceSide}}" height="{{.FaceSide}}"><figcaption>Where the network found {{.CAMIdentity}}: Grad-CAM, red = strong evidence.</figcaption></figure>{{end}}
</div>
<table id="matches">
<tr><th>#</th><th>identity</th><th>probability</th>{{if .HasScore}}<th>gallery score</th>{{end}}<th>most similar gallery photo</th><th>cosine similarity</th></tr>
{{range .Matches}}<tr>
<td class="num">{{.Rank}}</td>
<td>{{.Identity}}</td>
<td>{{if .HasProbability}}<div class="bar"><span style="width: {{.ProbabilityPercent}}%"></span></div>{{.Probability}}{{else}}not in the classifier{{end}}</td>
{{if $.HasScore}}<td class="num">{{.Score}}</td>{{end}}
<td>{{if .Closest}}<img class="closest" src="{{.Closest}}" alt="{{.ClosestName}}" title="{{.ClosestPath}}" width="{{$.GallerySide}}" height="{{$.GallerySide}}"><br><small>{{.ClosestName}}</small>{{else if $.NoClosest}}not shown: the embeddings have collapsed{{else}}no gallery photo{{end}}</td>
<td class="num">{{if .Closest}}{{.Similarity}}{{end}}</td>
</tr>
{{end}}</table>
<footer>Ranked by {{.RankedByText}}. Similarity is the cosine of the angle between the two faces' embeddings (the network's penultimate layer, fc.4, less the gallery's mean face): 1 means the same picture, 0 nothing in particular in common, below 0 unlike. Model: {{.Model}}.</footer>
</body>
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

type page struct {
	Title, Framing, CAMIdentity, Model, RankedByText string
	Photo, Face, Heatmap                             template.URL
	FaceSide, GallerySide                            int
	HasScore                                         bool
	Matches                                          []pageMatch
	Confidence                                       string
	Doubtful, NoClosest                              bool
	Warnings                                         []string
}

// renderHTML fills the page template.
func renderHTML(r *Report) ([]byte, error) {
	p := page{
		Title:       filepath.Base(r.PhotoPath),
		Framing:     r.Framing,
		CAMIdentity: r.CAMIdentity,
		Model:       r.Model,
		Confidence:  r.Confidence,
		Doubtful:    r.Doubtful,
		NoClosest:   r.NoClosest,
		Warnings:    r.Warnings,
		FaceSide:    faceSide,
		GallerySide: gallerySide,
	}
	var err error
	if p.Photo, err = dataURI(annotatedPhoto(r, photoSide)); err != nil {
		return nil, err
	}
	if p.Face, err = dataURI(r.Face); err != nil {
		return nil, err
	}
	if r.Heatmap != nil {
		if p.Heatmap, err = dataURI(r.Heatmap); err != nil {
			return nil, err
		}
	}
	switch r.RankedBy {
	case "embedding":
		p.RankedByText = "gallery score: the mean cosine similarity of each identity's three gallery photos closest to this face"
	default:
		p.RankedByText = "the classifier's probability"
	}
	for i, m := range r.Matches {
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
		p.Matches = append(p.Matches, pm)
	}
	var buf bytes.Buffer
	if err := pageTemplate.Execute(&buf, p); err != nil {
		return nil, fmt.Errorf("report: %w", err)
	}
	return buf.Bytes(), nil
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

// annotatedPhoto is the photo scaled to fit maxSide with the detected face outlined. A small
// photo (a 112-pixel crop) is enlarged, but at most twice, so it is not blown up into blur.
func annotatedPhoto(r *Report, maxSide int) *image.RGBA {
	b := r.Photo.Bounds()
	scale := min(2, float64(maxSide)/float64(max(b.Dx(), b.Dy())))
	w, h := max(1, int(float64(b.Dx())*scale+0.5)), max(1, int(float64(b.Dy())*scale+0.5))
	out := vision.Resize(r.Photo, w, h)
	if r.FaceBox.Empty() {
		return out
	}
	box := image.Rect(
		int(float64(r.FaceBox.Min.X-b.Min.X)*scale), int(float64(r.FaceBox.Min.Y-b.Min.Y)*scale),
		int(float64(r.FaceBox.Max.X-b.Min.X)*scale), int(float64(r.FaceBox.Max.Y-b.Min.Y)*scale))
	const thick = 3
	for _, edge := range []image.Rectangle{
		{box.Min, image.Pt(box.Max.X, box.Min.Y+thick)},
		{image.Pt(box.Min.X, box.Max.Y-thick), box.Max},
		{box.Min, image.Pt(box.Min.X+thick, box.Max.Y)},
		{image.Pt(box.Max.X-thick, box.Min.Y), box.Max},
	} {
		draw.Draw(out, edge.Intersect(out.Bounds()), image.NewUniform(faceBoxColour), image.Point{}, draw.Src)
	}
	return out
}
