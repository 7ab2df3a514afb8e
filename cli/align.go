package cli

import (
	"encoding/json"
	"errors"
	"fmt"
	"image"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"sync"

	"github.com/urfave/cli/v2"

	"github.com/vgglab/vgg/dataset"
	"github.com/vgglab/vgg/dataset/framecache"
	"github.com/vgglab/vgg/lookalike"
	"github.com/vgglab/vgg/safefile"
	"github.com/vgglab/vgg/train"
	"github.com/vgglab/vgg/vision"
	"github.com/vgglab/vgg/vision/align"
)

func init() {
	addCommand(&cli.Command{
		Name:  "align",
		Usage: "turn a folder of people's photos into aligned 128x128 face crops",
		Description: "align reads --in (one folder per person, photos inside), finds the face in every " +
			"photo (the most confident when there are several), finds its eyes and warps it so the eyes " +
			"sit at fixed places of a 128x128 PNG written under --out with the same folder layout. " +
			"Photos where no face or no eyes are found are still aligned as well as the face box or " +
			"the whole photo allows, and counted in the report (printed, and saved as " +
			"align-report.json in --out). Photos that cannot be read (named pipes and other " +
			"special files included) are named, the others still aligned, and the exit status is " +
			"non-zero. Photos whose names differ only by extension (x.jpg, x.png) keep their whole " +
			"name (x.jpg.png, x.png.png). --out may not be --in or inside it, and PNGs there that " +
			"vgg did not write are left alone unless --force. Aligned faces are kept in the framing " +
			"cache (--cache, --no-cache), so aligning the same photos again with the same cascades takes no time.",
		Flags: append([]cli.Flag{
			&cli.StringFlag{Name: "in", Required: true, Usage: "folder of folders of photos"},
			&cli.StringFlag{Name: "out", Required: true, Usage: "folder for the aligned faces"},
			&cli.StringFlag{Name: "cascade", Usage: "face cascade XML instead of the built-in one"},
			&cli.StringFlag{Name: "eye-cascade", Usage: "find the eyes with this eye cascade XML instead of the built-in eye locator network"},
			forceFlag(),
		}, cacheFlags()...),
		Action: runAlign,
	})
}

// alignReport is what vgg align found, saved as align-report.json.
type alignReport struct {
	Photos     int `json:"photos"`
	OneFace    int `json:"one_face"`
	Several    int `json:"several_faces"` // the most confident was kept
	NoFace     int `json:"no_face"`       // the whole photo was taken as a tight face crop
	NoEyes     int `json:"no_eyes"`       // a face was found but not both eyes: aligned from its box
	Unreadable int `json:"unreadable"`
	// Problems lists each photo that was not a clean single face with both eyes.
	Problems map[string]string `json:"problems"`
}

func runAlign(c *cli.Context) error {
	in, out := c.String("in"), c.String("out")
	jobs, err := alignJobs(in, out, c.Bool("force"))
	if err != nil {
		return fmt.Errorf("align: %w", err)
	}
	faces, eyes, err := loadCascades(c.String("cascade"), c.String("eye-cascade"))
	if err != nil {
		return fmt.Errorf("align: %w", err)
	}
	al := newCachedAligner(lookalike.NewFaceFraming(faces, eyes), frameCache(c, safefile.Input{Path: in, Flag: "--in"}))
	rep := alignReport{Problems: map[string]string{}}
	bar := train.NewPhotoBar(c.App.ErrWriter, len(jobs), "aligning")
	var mu sync.Mutex
	var firstWriteErr error
	work := make(chan alignJob)
	var wg sync.WaitGroup
	for range runtime.GOMAXPROCS(0) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range work {
				problem, writeErr := alignOne(al, j)
				mu.Lock()
				rep.Photos++
				switch {
				case writeErr != nil:
					if firstWriteErr == nil {
						firstWriteErr = writeErr
					}
				case problem.kind == "unreadable":
					rep.Unreadable++
				case problem.kind == "no face":
					rep.NoFace++
				case problem.kind == "several":
					rep.Several++
				default:
					rep.OneFace++
				}
				if problem.eyesMissing {
					rep.NoEyes++
				}
				if msg := problem.String(); msg != "" {
					rep.Problems[j.src] = msg
				}
				bar.Add(1)
				mu.Unlock()
			}
		}()
	}
	for _, j := range jobs {
		mu.Lock()
		stop := firstWriteErr != nil
		mu.Unlock()
		if stop {
			break
		}
		work <- j
	}
	close(work)
	wg.Wait()
	bar.Finish()
	if firstWriteErr != nil {
		return fmt.Errorf("align: %w", firstWriteErr)
	}
	printFramingSummary(c.App.ErrWriter, "align", al.stats)
	printAlignReport(c.App.Writer, rep)
	reportPath := filepath.Join(out, "align-report.json")
	if err := vision.WriteAtomic(reportPath, func(w io.Writer) error {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(rep)
	}); err != nil {
		return err
	}
	if unreadable := rep.unreadable(); len(unreadable) > 0 {
		// The other photos are aligned; the run still fails so that a script notices.
		return fmt.Errorf("align: %d of %d photos could not be read (the rest are aligned; see %s):\n  %s",
			len(unreadable), rep.Photos, reportPath, strings.Join(unreadable, "\n  "))
	}
	return nil
}

// unreadable lists the photos that could not be read, with why, in path order.
func (r alignReport) unreadable() []string {
	var out []string
	for src, msg := range r.Problems {
		if strings.HasPrefix(msg, "unreadable") {
			out = append(out, src+": "+msg)
		}
	}
	sort.Strings(out)
	return out
}

type alignJob struct{ src, dst string }

// alignReportKind recognises an align-report.json that vgg align wrote.
var alignReportKind = safefile.Kind{Name: "align report", Made: func(path string) bool {
	data, err := safefile.ReadFile(path)
	var r struct {
		Photos   *int              `json:"photos"`
		Problems map[string]string `json:"problems"`
	}
	return err == nil && json.Unmarshal(data, &r) == nil && r.Photos != nil && r.Problems != nil
}}

// alignJobs lists in/PERSON/PHOTO -> out/PERSON/PHOTO.png (the folders as dataset.Scan reads
// them: dataset.ListIdentities), checks that each output may be
// written (safefile.CheckOutput: not inside --in, not a file vgg did not make unless force)
// and creates the output folders. Anything in a person's folder that is not a folder is a
// job (an empty person's folder is none): one that is not a regular file (a named pipe) is then reported unreadable, not
// skipped in silence.
func alignJobs(in, out string, force bool) ([]alignJob, error) {
	folders, _, err := dataset.ListIdentities(in)
	if err != nil {
		return nil, err
	}
	var jobs []alignJob
	for _, folder := range folders {
		names := make([]string, len(folder.Files))
		for i, path := range folder.Files {
			names[i] = filepath.Base(path)
		}
		for i, name := range alignedNames(names) {
			j := alignJob{src: folder.Files[i], dst: filepath.Join(out, filepath.Base(folder.Dir), name)}
			if err := safefile.CheckOutput(j.dst, pngKind, force, safefile.Input{Path: in, Flag: "--in"}); err != nil {
				return nil, err
			}
			jobs = append(jobs, j)
		}
	}
	if len(jobs) == 0 {
		return nil, fmt.Errorf("%s holds no photos in per-person folders (want %s/NAME/PHOTO.jpg)", in, in)
	}
	if err := safefile.CheckOutput(filepath.Join(out, "align-report.json"), alignReportKind, force,
		safefile.Input{Path: in, Flag: "--in"}); err != nil {
		return nil, err
	}
	// Folders are made once every output has passed its check, so a refused run makes none.
	for _, j := range jobs {
		if err := os.MkdirAll(filepath.Dir(j.dst), 0o755); err != nil {
			return nil, err
		}
	}
	sort.Slice(jobs, func(i, j int) bool { return jobs[i].src < jobs[j].src })
	return jobs, nil
}

// alignedNames names the crop of each photo of one folder: PHOTO.png for photo PHOTO.jpg, or,
// when two photos share a name but for the extension (x.jpg and x.png, or x.jpg and x.JPG on
// any file system), the whole name, x.jpg.png; a clash that remains gets a number. Names are
// compared without case, so no two crops collide on a case-insensitive file system either.
func alignedNames(photos []string) []string {
	stem := func(name string) string { return strings.TrimSuffix(name, filepath.Ext(name)) }
	sharing := map[string]int{}
	for _, ph := range photos {
		sharing[strings.ToLower(stem(ph))]++
	}
	taken := map[string]bool{}
	names := make([]string, len(photos))
	for i, ph := range photos {
		base := stem(ph)
		if sharing[strings.ToLower(base)] > 1 {
			base = ph
		}
		name := base + ".png"
		for n := 2; taken[strings.ToLower(name)]; n++ {
			name = fmt.Sprintf("%s-%d.png", base, n)
		}
		taken[strings.ToLower(name)] = true
		names[i] = name
	}
	return names
}

// alignProblem describes what was unusual about one photo.
type alignProblem struct {
	kind        string // "", "unreadable", "no face", "several"
	detail      string
	eyesMissing bool
}

func (p alignProblem) String() string {
	var parts []string
	if p.kind != "" {
		parts = append(parts, p.kind)
	}
	if p.detail != "" {
		parts = append(parts, p.detail)
	}
	if p.eyesMissing {
		parts = append(parts, "eyes not found, aligned from the face box")
	}
	return strings.Join(parts, ": ")
}

// cachedAligner aligns photos through the framing cache: an entry holds the aligned face and,
// as its remark, what was unusual about the photo (an alignProblem in JSON).
type cachedAligner struct {
	framing *lookalike.FaceFraming
	cache   *framecache.Cache // nil: no cache
	// settings names the aligner for the cache's keys.
	settings string
	mu       sync.Mutex
	stats    dataset.FramingStats
}

func newCachedAligner(framing *lookalike.FaceFraming, cache *framecache.Cache) *cachedAligner {
	a := &cachedAligner{framing: framing, cache: cache, settings: "vgg align; aligner " + framing.Fingerprint()}
	if cache != nil {
		a.stats.CacheDir = cache.Dir()
	}
	return a
}

// cachedProblem is an alignProblem as the cache keeps it.
type cachedProblem struct {
	Kind, Detail string
	EyesMissing  bool
}

// face returns the aligned face of the photo whose file holds data, and what was unusual about
// it: from the cache when it holds them, else aligned now and stored there.
func (a *cachedAligner) face(path string, data []byte) (*image.RGBA, alignProblem, error) {
	var key framecache.Key
	if a.cache != nil {
		key = framecache.NewKey(data, a.settings)
		if face, remark, ok := a.cache.Get(key, align.Size); ok {
			var cp cachedProblem
			if json.Unmarshal([]byte(remark), &cp) == nil {
				a.count(true, nil)
				return face, alignProblem{kind: cp.Kind, detail: cp.Detail, eyesMissing: cp.EyesMissing}, nil
			}
		}
	}
	img, err := vision.Decoder{}.Decode(path, data)
	if err != nil {
		return nil, alignProblem{}, err
	}
	face, err := a.framing.Frame(img)
	if err != nil {
		return nil, alignProblem{}, err
	}
	var p alignProblem
	switch {
	case face.WholePhoto:
		p.kind = "no face"
	case face.Found > 1:
		p.kind, p.detail = "several", fmt.Sprintf("%d faces, kept the most confident", face.Found)
	}
	p.eyesMissing = face.EyesMissing
	var putErr error
	if a.cache != nil {
		remark, _ := json.Marshal(cachedProblem{Kind: p.kind, Detail: p.detail, EyesMissing: p.eyesMissing})
		if err := a.cache.Put(key, face.Aligned, string(remark)); err != nil && !errors.Is(err, framecache.ErrNotOpaque) {
			putErr = err
		}
	}
	a.count(false, putErr)
	return face.Aligned, p, nil
}

func (a *cachedAligner) count(fromCache bool, putErr error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if fromCache {
		a.stats.FromCache++
	} else {
		a.stats.Framed++
	}
	if putErr != nil {
		a.stats.CacheWriteErrors++
		if a.stats.CacheWriteError == nil {
			a.stats.CacheWriteError = putErr
		}
	}
}

// alignOne aligns one photo and writes the most confident face. Only a failure to write is an error;
// a bad photo is reported as a problem and skipped.
func alignOne(al *cachedAligner, j alignJob) (alignProblem, error) {
	data, err := vision.Decoder{}.Read(j.src)
	if err != nil {
		return alignProblem{kind: "unreadable", detail: err.Error()}, nil
	}
	face, p, err := al.face(j.src, data)
	if err != nil {
		return alignProblem{kind: "unreadable", detail: err.Error()}, nil
	}
	return p, vision.WritePNG(j.dst, face)
}

func printAlignReport(w io.Writer, r alignReport) {
	fmt.Fprintf(w, "%d photos: %d with one face, %d with several (kept the most confident), %d with no face found (whole photo used), %d unreadable\n",
		r.Photos, r.OneFace, r.Several, r.NoFace, r.Unreadable)
	fmt.Fprintf(w, "eyes not found in %d detected faces (aligned from the face box)\n", r.NoEyes)
}
