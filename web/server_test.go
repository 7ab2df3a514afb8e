package web

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"image"
	"image/draw"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/vgglab/vgg/gallery"
	"github.com/vgglab/vgg/kernels"
	"github.com/vgglab/vgg/lookalike"
	"github.com/vgglab/vgg/nn"
	"github.com/vgglab/vgg/vision"
	"github.com/vgglab/vgg/vision/synth"

	_ "github.com/vgglab/vgg/kernels/cpu"
)

var people = []string{"Ann Ash", "Bob Birch", "Cyd Cedar"}

// groupPNG is three synthetic people side by side, 96 pixels each (the Haar cascade finds
// each face), as PNG bytes.
func groupPNG(t *testing.T) []byte {
	t.Helper()
	const side = 96
	group := image.NewRGBA(image.Rect(0, 0, 3*side, side))
	for k := range 3 {
		draw.Draw(group, image.Rect(k*side, 0, (k+1)*side, side), synth.Render(5, k, 1, side), image.Point{}, draw.Src)
	}
	return pngBytes(t, group)
}

func pngBytes(t *testing.T, img image.Image) []byte {
	t.Helper()
	path := filepath.Join(t.TempDir(), "p.png")
	if err := vision.WritePNG(path, img); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// testMatcher opens an untrained narrow model of the three people, with a gallery of two
// synthetic photos of each, answering every face with heatmaps.
func testMatcher(t *testing.T) *lookalike.Matcher {
	t.Helper()
	b, err := kernels.Open("cpu")
	if err != nil {
		t.Fatal(err)
	}
	net, err := nn.New(b, nn.Config{Classes: len(people), InputSize: 32, WidthDivisor: 16}, 7)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	modelPath := filepath.Join(dir, "model.safetensors")
	err = nn.SaveModel(modelPath, net, nn.ModelInfo{ClassNames: people, Mean: [3]float32{0.5, 0.5, 0.5}, Std: [3]float32{0.25, 0.25, 0.25}})
	b.Close()
	if err != nil {
		t.Fatal(err)
	}
	m, err := lookalike.Open("cpu", modelPath, false)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(m.Close)
	var entries []gallery.Entry
	for id, name := range people {
		for k := range 2 {
			path := filepath.Join(dir, fmt.Sprintf("%s-%d.png", name, k))
			if err := vision.WritePNG(path, synth.Render(5, id, 10+k, 96)); err != nil {
				t.Fatal(err)
			}
			entries = append(entries, gallery.Entry{Identity: name, Path: path})
		}
	}
	g, err := m.LoadGallery(gallery.PathFor(modelPath), true)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := g.AddPhotos(context.Background(), m.Embedder(), m.Source(nil), entries, nil); err != nil {
		t.Fatal(err)
	}
	mt, err := lookalike.NewMatcher(m, g, lookalike.Options{Top: 3, Heatmaps: true})
	if err != nil {
		t.Fatal(err)
	}
	return mt
}

// upload posts data as the form field photo, named name.
func upload(t *testing.T, h http.Handler, path, name string, data []byte) *httptest.ResponseRecorder {
	t.Helper()
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	part, err := mw.CreateFormFile("photo", name)
	if err != nil {
		t.Fatal(err)
	}
	part.Write(data)
	mw.Close()
	req := httptest.NewRequest(http.MethodPost, path, &body)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

// A group photo gets every face answered, on the page and in JSON; each bad upload gets its
// status and a message a person understands, and the server goes on answering after each.
func TestServeAnswersEveryFaceAndRefusesBadUploads(t *testing.T) {
	s := New(testMatcher(t), Limits{MaxUploadBytes: 1 << 20, MaxRequests: 2, Timeout: time.Minute})
	group := groupPNG(t)

	get := httptest.NewRecorder()
	s.ServeHTTP(get, httptest.NewRequest(http.MethodGet, "/", nil))
	if get.Code != http.StatusOK || !strings.Contains(get.Body.String(), `enctype="multipart/form-data"`) || !strings.Contains(get.Body.String(), `name="photo"`) {
		t.Fatalf("GET /: %d\n%s", get.Code, get.Body.String())
	}
	js := httptest.NewRecorder()
	s.ServeHTTP(js, httptest.NewRequest(http.MethodGet, "/assets/drop.js", nil))
	if js.Code != http.StatusOK || !strings.Contains(js.Body.String(), "dataTransfer") {
		t.Errorf("GET /assets/drop.js: %d", js.Code)
	}

	good := func() {
		t.Helper()
		rec := upload(t, s, "/", "us <3>.png", group)
		page := rec.Body.String()
		if rec.Code != http.StatusOK {
			t.Fatalf("group photo: status %d\n%s", rec.Code, page)
		}
		for _, want := range []string{`id="answer-1"`, `id="answer-2"`, `id="answer-3"`, `id="heatmap-3"`, `class="closest"`, "us &lt;3&gt;.png", "Ann Ash", "Bob Birch", "Cyd Cedar"} {
			if !strings.Contains(page, want) {
				t.Errorf("the answer page lacks %q", want)
			}
		}
		if strings.Contains(page, `id="error"`) {
			t.Error("the answer page shows an error")
		}
	}
	good()

	rec := upload(t, s, "/api/match", "us.png", group)
	var res lookalike.Result
	if rec.Code != http.StatusOK || json.Unmarshal(rec.Body.Bytes(), &res) != nil {
		t.Fatalf("/api/match: %d %s", rec.Code, rec.Body.String())
	}
	if res.Photo != "us.png" || len(res.Faces) != 3 {
		t.Fatalf("/api/match answered %+v, want 3 faces", res)
	}
	for _, f := range res.Faces {
		if f.Box == nil || len(f.Matches) != 3 || f.Matches[0].ClosestPhoto == "" || f.Confidence == "" || f.CAMIdentity == "" {
			t.Errorf("face %d: %+v", f.Face, f)
		}
	}

	grey := image.NewGray(image.Rect(0, 0, 160, 160))
	for i := range grey.Pix {
		grey.Pix[i] = 128
	}
	bad := []struct {
		name   string
		file   string
		data   []byte
		status int
		want   string
	}{
		{"oversized", "big.png", bytes.Repeat([]byte{0}, 3<<20), http.StatusRequestEntityTooLarge, "larger than the 1 MB"},
		{"not an image", "notes.txt", []byte("hello, not a photo"), http.StatusUnsupportedMediaType, "notes.txt: not an image"},
		{"no face", "wall.png", pngBytes(t, grey), http.StatusUnprocessableEntity, "No face found in wall.png"},
		{"nothing chosen", "", nil, http.StatusBadRequest, "No photo was sent"},
	}
	for _, c := range bad {
		for _, path := range []string{"/", "/api/match"} {
			rec := upload(t, s, path, c.file, c.data)
			if rec.Code != c.status || !strings.Contains(rec.Body.String(), c.want) {
				t.Errorf("%s to %s: status %d, body lacks %q:\n%.500s", c.name, path, rec.Code, c.want, rec.Body.String())
			}
			if path == "/" && !strings.Contains(rec.Body.String(), `id="error"`) {
				t.Errorf("%s: the page does not show the error", c.name)
			}
			if path == "/api/match" {
				var e map[string]string
				if json.Unmarshal(rec.Body.Bytes(), &e) != nil || e["error"] == "" {
					t.Errorf("%s to /api/match: not a JSON error: %s", c.name, rec.Body.String())
				}
			}
		}
		good() // still serving
	}
	notForm := httptest.NewRecorder()
	s.ServeHTTP(notForm, httptest.NewRequest(http.MethodPost, "/api/match", strings.NewReader("{}")))
	if notForm.Code != http.StatusBadRequest || !strings.Contains(notForm.Body.String(), "multipart/form-data") {
		t.Errorf("a JSON body: %d %s", notForm.Code, notForm.Body.String())
	}
}

// More photos at once than the limit are told the server is busy; a photo that waits for the
// model longer than the timeout is told so; neither stops the server.
func TestServeLimitsConcurrencyAndTime(t *testing.T) {
	s := New(testMatcher(t), Limits{MaxRequests: 1, Timeout: 50 * time.Millisecond})
	group := groupPNG(t)
	s.slots <- struct{}{} // one photo in hand
	rec := upload(t, s, "/api/match", "us.png", group)
	if rec.Code != http.StatusServiceUnavailable || !strings.Contains(rec.Body.String(), "busy") {
		t.Errorf("over the request limit: %d %s", rec.Code, rec.Body.String())
	}
	<-s.slots
	s.model <- struct{}{} // the model is answering another photo
	rec = upload(t, s, "/", "us.png", group)
	if rec.Code != http.StatusServiceUnavailable || !strings.Contains(rec.Body.String(), "not answered within 50ms") {
		t.Errorf("past the timeout: %d %.300s", rec.Code, rec.Body.String())
	}
	<-s.model
	s.lim.Timeout = time.Minute
	if rec := upload(t, s, "/api/match", "us.png", group); rec.Code != http.StatusOK {
		t.Errorf("after the limits: %d %s", rec.Code, rec.Body.String())
	}
}

// Many uploads at once: each is answered or told the server is busy, nothing else, and the
// server answers again once they are done.
func TestServeConcurrentUploads(t *testing.T) {
	s := New(testMatcher(t), Limits{MaxRequests: 2, Timeout: time.Minute})
	group := groupPNG(t)
	codes := make(chan int, 8)
	for range cap(codes) {
		go func() { codes <- upload(t, s, "/api/match", "us.png", group).Code }()
	}
	answered := 0
	for range cap(codes) {
		switch code := <-codes; code {
		case http.StatusOK:
			answered++
		case http.StatusServiceUnavailable:
		default:
			t.Errorf("a concurrent upload got status %d", code)
		}
	}
	if answered == 0 {
		t.Error("none of the concurrent uploads was answered")
	}
	if len(s.slots) != 0 || len(s.model) != 0 {
		t.Errorf("%d request slots and %d model locks still held", len(s.slots), len(s.model))
	}
	if rec := upload(t, s, "/api/match", "us.png", group); rec.Code != http.StatusOK {
		t.Errorf("after the rush: %d %s", rec.Code, rec.Body.String())
	}
}
