// Package web serves the look-alike answer as a local web page: a person drops or picks a
// photo and sees every face in it answered, with the closest gallery photos and the heatmaps.
// The page is a plain HTML form (a script only adds drag and drop), and /api/match gives the
// same answer as JSON. Nothing is written to disk: uploads are read into memory under a size
// limit and pictures go back inline as data: URIs.
package web

import (
	"bytes"
	"context"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"io"
	"io/fs"
	"mime"
	"net/http"
	"path/filepath"
	"time"

	"github.com/vgglab/vgg/lookalike"
	"github.com/vgglab/vgg/report"
	"github.com/vgglab/vgg/vision"
)

//go:embed assets
var assets embed.FS

var pageTemplate = template.Must(template.ParseFS(assets, "assets/page.html"))

// Limits bound what one request, and all of them together, may cost.
type Limits struct {
	// MaxUploadBytes is the largest request body accepted (the photo and its form).
	MaxUploadBytes int64
	// MaxRequests is how many photos may be in hand at once (being read, decoded, waiting for
	// the model or answered); one more is told the server is busy. With the upload limit and
	// the pixel budget (vision.SetMaxPixels) it bounds the memory the server uses.
	MaxRequests int
	// Timeout is how long one photo may take, waiting for the model included.
	Timeout time.Duration
}

// DefaultLimits: photos of up to 20 MB, 4 at once, a minute each.
func DefaultLimits() Limits {
	return Limits{MaxUploadBytes: 20 << 20, MaxRequests: 4, Timeout: time.Minute}
}

// Server answers photos with one matcher. The model answers one photo at a time; requests
// beyond Limits.MaxRequests are refused as busy rather than queued without end.
type Server struct {
	mt    *lookalike.Matcher
	lim   Limits
	slots chan struct{} // a token per photo in hand
	model chan struct{} // held while the model answers
	mux   *http.ServeMux
}

// New makes the server of a matcher (which should ask for heatmaps: the page shows them).
func New(mt *lookalike.Matcher, lim Limits) *Server {
	d := DefaultLimits()
	if lim.MaxUploadBytes <= 0 {
		lim.MaxUploadBytes = d.MaxUploadBytes
	}
	if lim.MaxRequests <= 0 {
		lim.MaxRequests = d.MaxRequests
	}
	if lim.Timeout <= 0 {
		lim.Timeout = d.Timeout
	}
	s := &Server{mt: mt, lim: lim, slots: make(chan struct{}, lim.MaxRequests), model: make(chan struct{}, 1), mux: http.NewServeMux()}
	static, _ := fs.Sub(assets, "assets")
	s.mux.Handle("GET /assets/", http.StripPrefix("/assets/", http.FileServerFS(static)))
	s.mux.HandleFunc("GET /{$}", s.page)
	s.mux.HandleFunc("POST /{$}", s.page)
	s.mux.HandleFunc("POST /api/match", s.api)
	return s
}

func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("X-Content-Type-Options", "nosniff")
	s.mux.ServeHTTP(w, r)
}

// problem is a request that cannot be answered: the HTTP status and what to tell the person.
type problem struct {
	status  int
	message string
}

func (p *problem) Error() string { return p.message }

// answered is a photo's answer, in both forms.
type answered struct {
	result lookalike.Result
	report *report.Report
}

// answer reads the uploaded photo and answers it, within the limits.
func (s *Server) answer(w http.ResponseWriter, r *http.Request) (*answered, *problem) {
	select {
	case s.slots <- struct{}{}:
		defer func() { <-s.slots }()
	default:
		return nil, &problem{http.StatusServiceUnavailable, fmt.Sprintf("The server is busy: %d photos are being answered. Try again in a moment.", s.lim.MaxRequests)}
	}
	ctx, cancel := context.WithTimeout(r.Context(), s.lim.Timeout)
	defer cancel()
	body := r.Body
	r.Body = http.MaxBytesReader(w, body, s.lim.MaxUploadBytes)
	name, data, prob := s.readUpload(r)
	if prob != nil {
		if prob.status == http.StatusRequestEntityTooLarge {
			// Read on (a bounded amount) so that the browser, still sending, gets to read the
			// answer instead of a connection closed under it.
			io.CopyN(io.Discard, body, 4*s.lim.MaxUploadBytes)
		}
		return nil, prob
	}
	img, err := vision.Decoder{}.Decode(name, data)
	switch {
	case errors.Is(err, vision.ErrTooLarge):
		return nil, &problem{http.StatusRequestEntityTooLarge, fmt.Sprintf("%v. Send a smaller photo.", err)}
	case err != nil:
		return nil, &problem{http.StatusUnsupportedMediaType, fmt.Sprintf("%v. Send a photo: JPEG, PNG, GIF, BMP, TIFF or WebP.", err)}
	}
	select {
	case s.model <- struct{}{}:
		defer func() { <-s.model }()
	case <-ctx.Done():
		return nil, s.late(ctx)
	}
	a, err := s.mt.MatchImage(ctx, name, img)
	switch {
	case ctx.Err() != nil:
		return nil, s.late(ctx)
	case err != nil:
		return nil, &problem{http.StatusUnprocessableEntity, err.Error()}
	case a.Photo.WholePhoto:
		return nil, &problem{http.StatusUnprocessableEntity, fmt.Sprintf("No face found in %s. Send a photo where a face shows, upright and not too small.", name)}
	}
	return &answered{result: s.mt.Result(a), report: s.mt.Report(a)}, nil
}

// late says why a request ran out of time: the person left, or it took too long.
func (s *Server) late(ctx context.Context) *problem {
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return &problem{http.StatusServiceUnavailable, fmt.Sprintf("The photo was not answered within %s: the server is busy or the photo is large. Try again.", s.lim.Timeout)}
	}
	return &problem{http.StatusServiceUnavailable, "The request was cancelled."}
}

// readUpload reads the form field "photo" of a multipart/form-data request into memory (the
// body is already limited in size), writing nothing to disk.
func (s *Server) readUpload(r *http.Request) (name string, data []byte, prob *problem) {
	tooLarge := &problem{http.StatusRequestEntityTooLarge, fmt.Sprintf("The photo is larger than the %d MB this server accepts. Send a smaller photo.", s.lim.MaxUploadBytes>>20)}
	mr, err := r.MultipartReader()
	if err != nil {
		return "", nil, &problem{http.StatusBadRequest, "Send the photo as a multipart/form-data upload, in a field named photo."}
	}
	for {
		part, err := mr.NextPart()
		var maxErr *http.MaxBytesError
		switch {
		case errors.As(err, &maxErr):
			return "", nil, tooLarge
		case errors.Is(err, io.EOF):
			return "", nil, &problem{http.StatusBadRequest, "No photo was sent: choose a photo first."}
		case err != nil:
			return "", nil, &problem{http.StatusBadRequest, fmt.Sprintf("The upload could not be read: %v.", err)}
		}
		if part.FormName() != "photo" {
			continue
		}
		data, err := io.ReadAll(part)
		if errors.As(err, &maxErr) {
			return "", nil, tooLarge
		}
		if err != nil {
			return "", nil, &problem{http.StatusBadRequest, fmt.Sprintf("The upload could not be read: %v.", err)}
		}
		name := filepath.Base(part.FileName())
		if part.FileName() == "" && len(data) == 0 {
			return "", nil, &problem{http.StatusBadRequest, "No photo was sent: choose a photo first."}
		}
		if name == "." || name == "/" {
			name = "the photo"
		}
		return name, data, nil
	}
}

// pageData fills the page template.
type pageData struct {
	Title, Model, Error string
	Style               template.CSS
	People, MaxMB       int64
	Answer              template.HTML
}

// page is the form, and after a POST the answer or what was wrong.
func (s *Server) page(w http.ResponseWriter, r *http.Request) {
	d := pageData{Model: filepath.Base(s.mt.Path), Style: template.CSS(report.Style), People: int64(len(s.mt.Info.ClassNames)), MaxMB: s.lim.MaxUploadBytes >> 20}
	if s.mt.Gallery != nil {
		d.People = int64(len(s.mt.Gallery.Identities()))
	}
	status := http.StatusOK
	if r.Method == http.MethodPost {
		a, prob := s.answer(w, r)
		if prob != nil {
			status, d.Error = prob.status, prob.message
		} else {
			d.Title = a.result.Photo
			html, err := report.Answer(a.report)
			if err != nil {
				status, d.Error = http.StatusInternalServerError, err.Error()
			}
			d.Answer = html
		}
	}
	var buf bytes.Buffer
	if err := pageTemplate.Execute(&buf, d); err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	w.Write(buf.Bytes())
}

// api is the same answer as JSON: lookalike.Result, or {"error": "..."} with the status.
func (s *Server) api(w http.ResponseWriter, r *http.Request) {
	a, prob := s.answer(w, r)
	w.Header().Set("Content-Type", mime.FormatMediaType("application/json", map[string]string{"charset": "utf-8"}))
	if prob != nil {
		w.WriteHeader(prob.status)
		json.NewEncoder(w).Encode(map[string]string{"error": prob.message})
		return
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.Encode(a.result)
}
