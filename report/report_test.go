package report

import (
	"bytes"
	"context"
	"image"
	"image/color"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// Distinct flat colours for the test pictures, so the screenshot test can find each one.
var (
	photoColour   = color.RGBA{R: 200, G: 40, B: 160, A: 255}
	faceColour    = color.RGBA{R: 30, G: 170, B: 200, A: 255}
	galleryColour = color.RGBA{R: 240, G: 200, B: 20, A: 255}
)

func flat(w, h int, c color.RGBA) *image.RGBA {
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for i := 0; i < len(img.Pix); i += 4 {
		img.Pix[i], img.Pix[i+1], img.Pix[i+2], img.Pix[i+3] = c.R, c.G, c.B, c.A
	}
	return img
}

func sampleReport() *Report {
	return &Report{
		PhotoPath: "/photos/holiday <1>.jpg",
		Photo:     flat(400, 300, photoColour),
		Framing:   "Face found by the detector (green box) and aligned.",
		RankedBy:  "classifier",
		Model:     "run/model.safetensors",
		Faces: []Face{{
			Number:      1,
			Box:         image.Rect(150, 80, 250, 180),
			Picture:     flat(128, 128, faceColour),
			Heatmap:     flat(128, 128, color.RGBA{R: 180, G: 20, B: 10, A: 255}),
			CAMIdentity: "Barack_Obama",
			Matches: []Match{
				{Identity: "Barack_Obama", Probability: 0.83, HasProbability: true, Closest: flat(250, 250, galleryColour), ClosestPath: "/g/Barack_Obama/0007.jpg", Similarity: 0.912},
				{Identity: "Colin_Powell", Probability: 0.11, HasProbability: true, Closest: flat(112, 112, galleryColour), ClosestPath: "/g/Colin_Powell/0002.jpg", Similarity: 0.702},
				{Identity: "An Enrolled Friend With A Very Long Name", Closest: flat(160, 160, galleryColour), ClosestPath: "/g/friend.jpg", Similarity: 0.654},
				{Identity: "Arin", Probability: 0.01, HasProbability: true},
			},
		}},
	}
}

func TestWriteReport(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "new", "report")
	if err := PrepareDir(dir); err != nil {
		t.Fatal(err)
	}
	if err := Write(dir, sampleReport()); err != nil {
		t.Fatal(err)
	}
	page, err := os.ReadFile(filepath.Join(dir, HTMLFile))
	if err != nil {
		t.Fatal(err)
	}
	html := string(page)
	for _, want := range []string{"Barack_Obama", "Colin_Powell", "An Enrolled Friend", "not in the classifier", "0.912", "0.830", "no gallery photo", "holiday &lt;1&gt;.jpg"} {
		if !strings.Contains(html, want) {
			t.Errorf("the page does not contain %q", want)
		}
	}
	// Self-contained: every picture is inline, nothing is fetched from elsewhere.
	if n := strings.Count(html, `src="data:image/png;base64,`); n != 6 {
		t.Errorf("%d inline pictures, want 6 (photo, face, heatmap, 3 gallery photos)", n)
	}
	if strings.Contains(html, `src="http`) || strings.Contains(html, `src="/`) || strings.Contains(html, `src="file:`) {
		t.Error("the page refers to a picture outside itself")
	}
	f, err := os.Open(filepath.Join(dir, MontageFile))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	m, err := png.Decode(f)
	if err != nil {
		t.Fatal(err)
	}
	if b := m.Bounds(); b.Dx() < 600 || b.Dy() < 400 {
		t.Errorf("montage is only %v", b)
	}
	// Nothing but the two files: no temporary left behind.
	entries, _ := os.ReadDir(dir)
	if len(entries) != 2 {
		t.Errorf("report folder holds %d entries, want 2", len(entries))
	}
}

// A doubtful answer, or a model or gallery that cannot be trusted, gets a banner above
// everything; a confident one a plain line; collapsed embeddings hide the gallery photos.
func TestWarningBanner(t *testing.T) {
	page := func(r *Report) string {
		t.Helper()
		html, err := HTML(r)
		if err != nil {
			t.Fatal(err)
		}
		return string(html)
	}
	sure := sampleReport()
	sure.Faces[0].Confidence = "confident: 83.0% for Barack_Obama"
	html := page(sure)
	if strings.Contains(html, `id="warning"`) || !strings.Contains(html, `<p class="confidence" id="confidence-1">confident: 83.0%`) {
		t.Errorf("a confident answer: a banner, or no confidence line:\n%s", html)
	}

	guess := sampleReport()
	guess.Faces[0].Confidence, guess.Faces[0].Doubtful = "not a real answer: the model is at chance (16.8% for Barack_Obama)", true
	guess.Warnings = []string{"the model's training report says it has not learned", "the embeddings have collapsed"}
	guess.NoClosest = true
	for i := range guess.Faces[0].Matches {
		guess.Faces[0].Matches[i].Closest = nil
	}
	html = page(guess)
	for _, want := range []string{`id="warning"`, "not a trustworthy answer", "<li>not a real answer: the model is at chance", "<li>the embeddings have collapsed",
		"has not learned", "not shown: the embeddings have collapsed"} {
		if !strings.Contains(html, want) {
			t.Errorf("a guess from a model at chance: the page lacks %q", want)
		}
	}
	if strings.Index(html, `id="warning"`) > strings.Index(html, `id="photo"`) {
		t.Error("the banner is not above the photo")
	}
}

// A photo with two faces: each has its own section with its own matches and heatmap, a doubtful
// one is named in the banner by its number, and the montage grows a row for each.
func TestReportOfSeveralFaces(t *testing.T) {
	one := sampleReport()
	two := sampleReport()
	second := two.Faces[0]
	second.Number, second.Box = 2, image.Rect(20, 20, 90, 90)
	second.Matches = []Match{{Identity: "Zed Zelkova", Probability: 0.4, HasProbability: true}}
	second.Confidence, second.Doubtful = "unsure — a guess: only 40.0% for Zed Zelkova", true
	two.Faces = append(two.Faces, second)
	html, err := HTML(two)
	if err != nil {
		t.Fatal(err)
	}
	page := string(html)
	for _, want := range []string{`id="answer-1"`, `id="answer-2"`, `id="matches-2"`, `id="heatmap-2"`, "Face 2: unsure",
		`looks most like <span class="best">Barack_Obama</span>`, `looks most like <span class="best">Zed Zelkova</span>`} {
		if !strings.Contains(page, want) {
			t.Errorf("the page of two faces lacks %q", want)
		}
	}
	if strings.Index(page, `<td class="identity">Zed Zelkova</td>`) < strings.Index(page, `id="answer-2"`) {
		t.Error("face 2's match is not in face 2's section")
	}
	m1, err := montage(one)
	if err != nil {
		t.Fatal(err)
	}
	m2, err := montage(two)
	if err != nil {
		t.Fatal(err)
	}
	if m2.Bounds().Dy() <= m1.Bounds().Dy() {
		t.Errorf("the montage of two faces (%v) is no taller than that of one (%v)", m2.Bounds(), m1.Bounds())
	}
	if _, err := HTML(&Report{Photo: one.Photo}); err == nil {
		t.Error("a report without faces was rendered")
	}
}

func TestPrepareDirRefusesUnwritable(t *testing.T) {
	file := filepath.Join(t.TempDir(), "plain-file")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	err := PrepareDir(filepath.Join(file, "report"))
	if err == nil || !strings.Contains(err.Error(), "not a directory") || !strings.Contains(err.Error(), file) {
		t.Fatalf("PrepareDir under a file = %v, want an error naming it", err)
	}
	if os.Geteuid() != 0 { // root writes anywhere: the permission case only means something for others
		ro := filepath.Join(t.TempDir(), "read-only")
		if err := os.Mkdir(ro, 0o555); err != nil {
			t.Fatal(err)
		}
		if err := PrepareDir(ro); err == nil || !strings.Contains(err.Error(), "not writable") {
			t.Fatalf("PrepareDir of a read-only folder = %v", err)
		}
	}
}

// findBrowser returns a headless-capable Chromium, or "" when none is installed.
func findBrowser() string {
	if p := os.Getenv("VGG_CHROMIUM"); p != "" {
		return p
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	return ""
}

// runBrowser runs headless Chromium on a page with a private profile and no network chatter.
func runBrowser(t *testing.T, browser string, args ...string) []byte {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	base := []string{"--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
		"--disable-background-networking", "--disable-component-update", "--disable-sync",
		"--user-data-dir=" + t.TempDir(), "--window-size=1200,1600"}
	cmd := exec.CommandContext(ctx, browser, append(base, args...)...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("%s: %v\n%s", browser, err, stderr.String())
	}
	return stdout.Bytes()
}

// The page renders in a real browser: the screenshot shows the photo, the face and the gallery
// photos (found by their colours), and the DOM holds every picture and name.
func TestReportInChromium(t *testing.T) {
	browser := findBrowser()
	if browser == "" {
		t.Skip("no chromium installed (apt-get install chromium, or set VGG_CHROMIUM)")
	}
	dir := t.TempDir()
	if err := Write(dir, sampleReport()); err != nil {
		t.Fatal(err)
	}
	url := "file://" + filepath.Join(dir, HTMLFile)
	shot := filepath.Join(t.TempDir(), "shot.png")
	runBrowser(t, browser, "--screenshot="+shot, url)
	f, err := os.Open(shot)
	if err != nil {
		t.Fatalf("no screenshot: %v", err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatal(err)
	}
	counts := map[color.RGBA]int{}
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			r, g, bl, _ := img.At(x, y).RGBA()
			counts[color.RGBA{R: uint8(r >> 8), G: uint8(g >> 8), B: uint8(bl >> 8), A: 255}]++
		}
	}
	t.Logf("screenshot %v, %d distinct colours", b, len(counts))
	if len(counts) < 20 {
		t.Fatalf("the screenshot is blank: %d distinct colours", len(counts))
	}
	for name, c := range map[string]color.RGBA{"photo": photoColour, "face": faceColour, "gallery photos": galleryColour} {
		// The photo is shown at 360x270 minus its box, the face at 192x192, three gallery
		// photos at 128x128: each covers well over 10,000 pixels.
		if counts[c] < 10000 {
			t.Errorf("the %s's colour %v covers only %d pixels of the screenshot", name, c, counts[c])
		}
	}
	dom := string(runBrowser(t, browser, "--dump-dom", url))
	for _, want := range []string{`id="photo"`, `id="face-1"`, `id="heatmap-1"`, "Colin_Powell", "not in the classifier"} {
		if !strings.Contains(dom, want) {
			t.Errorf("the rendered DOM lacks %q", want)
		}
	}
}
