package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"image"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/vgglab/vgg/explain"
	"github.com/vgglab/vgg/gallery"
	"github.com/vgglab/vgg/report"
	"github.com/vgglab/vgg/safefile"
	"github.com/vgglab/vgg/tensor"
	"github.com/vgglab/vgg/train"
	"github.com/vgglab/vgg/vision"
)

func init() {
	addCommand(&cli.Command{
		Name:      "match",
		Usage:     "tell whom each photo looks like, with a trained model",
		ArgsUsage: "PHOTO|FOLDER...",
		Description: "match finds and aligns the face in each photo (or every photo in a folder) unless the model's training report says it was trained on photos as they are (or --aligned says so), runs it through the model and prints " +
			"the identities it resembles most, with their probabilities and, when the model has a gallery ('vgg index'), " +
			"the gallery photo of each that is most like the face. --by embedding ranks every gallery identity, enrolled " +
			"ones included, by the mean cosine similarity of its three gallery photos closest to the face. --report DIR " +
			"writes a page (HTML, with a PNG montage) showing the photo, the face, a Grad-CAM heatmap of where the network " +
			"found the top identity (or --cam NAME) and the matches. A file that cannot be read is " +
			"reported and skipped; the others are still matched, and the exit status is non-zero.",
		Flags: []cli.Flag{
			modelFlag(),
			&cli.IntFlag{Name: "top", Value: 5, Usage: "how many identities to list per photo"},
			&cli.BoolFlag{Name: "json", Usage: "print JSON instead of a table"},
			&cli.StringFlag{Name: "by", Value: string(gallery.ByClassifier), Usage: "what ranks the identities: classifier (its probability) or embedding (gallery similarity, which knows enrolled people too)"},
			galleryFlag(),
			&cli.StringFlag{Name: "report", Usage: "write an HTML page and a PNG montage of the answer into `DIR` (a sub-folder per photo when there are several)"},
			&cli.StringFlag{Name: "cam", Usage: "the identity `NAME` the report's Grad-CAM heatmap explains (default: the classifier's top identity)"},
			alignedFlag(),
			deviceFlag(),
			forceFlag(),
		},
		Action: runMatch,
	})
}

// matchResult is one photo's line of the JSON output. Confidence is train.Confidence's level
// ("confident", "fairly sure", "unsure", "chance") and ConfidenceNote says it with the numbers;
// Warnings are about the model or its gallery (see matchWarnings), the same for every photo.
type matchResult struct {
	Photo          string       `json:"photo"`
	Matches        []matchEntry `json:"matches,omitempty"`
	Confidence     string       `json:"confidence,omitempty"`
	ConfidenceNote string       `json:"confidence_note,omitempty"`
	Warnings       []string     `json:"warnings,omitempty"`
	Note           string       `json:"note,omitempty"`
	Error          string       `json:"error,omitempty"`
	Report         string       `json:"report,omitempty"`
	// words is the confidence in words, for the table.
	words string
}

// matchEntry is one identity a photo resembles. Probability is missing for an identity enrolled
// after training (the classifier does not know it), the gallery fields when there is no gallery
// photo of the identity.
type matchEntry struct {
	Identity     string   `json:"identity"`
	Probability  *float64 `json:"probability,omitempty"`
	GalleryScore *float64 `json:"gallery_score,omitempty"`
	ClosestPhoto string   `json:"closest_photo,omitempty"`
	Similarity   *float64 `json:"similarity,omitempty"`
}

// matchOptions are the flags that shape the answers, and what is known about the model.
type matchOptions struct {
	top       int
	by        gallery.Ranking
	reportDir string
	camClass  int // -1: each photo's top classifier identity
	// warnings are about the model and its gallery; collapsed is set when the gallery's
	// embeddings no longer separate people, so its closest photos are not shown.
	warnings  []string
	collapsed bool
}

func runMatch(c *cli.Context) error {
	if c.NArg() == 0 {
		return fmt.Errorf("match: no photos given: vgg match --model MODEL PHOTO|FOLDER...")
	}
	opts := matchOptions{top: c.Int("top"), reportDir: c.String("report"), camClass: -1}
	if opts.top < 1 {
		return fmt.Errorf("match: --top %d must be at least 1", opts.top)
	}
	by, err := gallery.ParseRanking(c.String("by"))
	if err != nil {
		return fmt.Errorf("match: --by: %w", err)
	}
	opts.by = by
	if c.IsSet("cam") && opts.reportDir == "" {
		return fmt.Errorf("match: --cam chooses the heatmap of a report; give --report DIR too")
	}
	// An unwritable report folder is an error before anything is loaded.
	if opts.reportDir != "" {
		if err := report.PrepareDir(opts.reportDir); err != nil {
			return fmt.Errorf("match: report: %w", err)
		}
	}
	photos, problems := expandPhotos(c.Args().Slice())
	if opts.reportDir != "" {
		if err := checkMatchReports(opts.reportDir, photos, c.Args().Slice(), c.Bool("force")); err != nil {
			return fmt.Errorf("match: --report: %w", err)
		}
	}
	em, err := openEmbeddingModel(c.String("device"), c.String("model"), photosAligned(c))
	if err != nil {
		return fmt.Errorf("match: %w", err)
	}
	defer em.Close()
	g, err := matchGallery(c, em, by)
	if err != nil {
		return fmt.Errorf("match: %w", err)
	}
	if c.IsSet("cam") {
		if opts.camClass, err = camClass(em, g, c.String("cam")); err != nil {
			return fmt.Errorf("match: --cam: %w", err)
		}
	}
	opts.warnings, opts.collapsed = matchWarnings(c.String("model"), g)
	for _, w := range opts.warnings {
		fmt.Fprintf(c.App.ErrWriter, "vgg: match: WARNING: %s\n", w)
	}
	ctx, stop := interruptible(c.Context)
	defer stop()

	var results []matchResult
	for _, err := range problems {
		results = append(results, matchResult{Error: err.Error()})
	}
	answered, err := matchPhotos(ctx, c.String("model"), em, g, photos, opts)
	if err != nil {
		return fmt.Errorf("match: %w", err)
	}
	results = append(results, answered...)
	failed := 0
	for _, r := range results {
		if r.Error != "" {
			failed++
			fmt.Fprintf(c.App.ErrWriter, "vgg: match: skipped: %s\n", safefile.Printable(r.Error))
		}
	}
	if c.Bool("json") {
		err = writeMatchJSON(c.App.Writer, results)
	} else {
		err = writeMatchTable(c.App.Writer, results)
	}
	if err != nil {
		return err
	}
	if failed > 0 {
		return fmt.Errorf("match: %d of %d photos could not be matched", failed, len(results))
	}
	return nil
}

// matchReportDir is the folder of photo i's report: --report itself for one photo, a
// sub-folder per photo for several.
func matchReportDir(reportDir string, i int, photos []string) string {
	if len(photos) == 1 {
		return reportDir
	}
	return filepath.Join(reportDir, reportFolderName(i, photos[i]))
}

// checkMatchReports applies the output rule to every report file before any photo is
// matched: a page or montage vgg did not write (a person's own index.html) is left alone
// unless force, and none may be one of the photos or inside a folder of them.
func checkMatchReports(reportDir string, photos, args []string, force bool) error {
	var inputs []safefile.Input
	for _, a := range args {
		inputs = append(inputs, safefile.Input{Path: a, Flag: "the argument"})
	}
	for i := range photos {
		if err := checkReportOutputs(matchReportDir(reportDir, i, photos), force, inputs...); err != nil {
			return err
		}
	}
	return nil
}

// matchGallery loads the model's gallery: required when ranking by embedding, otherwise used
// when it exists. A gallery computed by another model is refused either way: its photos would
// be compared in the wrong space.
func matchGallery(c *cli.Context, em *embeddingModel, by gallery.Ranking) (*gallery.Gallery, error) {
	path, err := galleryPath(c)
	if err != nil {
		return nil, err
	}
	if _, err := os.Stat(path); errors.Is(err, os.ErrNotExist) && by == gallery.ByClassifier && !c.IsSet("gallery") {
		return nil, nil
	}
	return gallery.Load(path, em.fingerprint)
}

// matchWarnings are what makes every answer of this model doubtful: a training report beside
// the model that says it has not learned, and a gallery whose embeddings have collapsed
// (collapsed is then set).
func matchWarnings(model string, g *gallery.Gallery) (warnings []string, collapsed bool) {
	path := train.PathsFor(model).Report
	if r, err := train.ReadReport(path); err == nil && r.Verdict != nil && !r.Verdict.Learned {
		warnings = append(warnings, fmt.Sprintf("the model's training report (%s) says it has not learned to tell these people apart: %s. Its answers are guesses",
			path, r.Verdict.Reason))
	}
	if g != nil {
		var why string
		if collapsed, why = g.Separation().Collapsed(); collapsed {
			warnings = append(warnings, fmt.Sprintf("%s: 'most similar photo' is meaningless for this model, and is not shown", why))
		}
	}
	return warnings, collapsed
}

// camClass resolves --cam to a classifier output. Grad-CAM explains a logit, so an identity
// enrolled after training, which has none, is refused with that reason.
func camClass(em *embeddingModel, g *gallery.Gallery, name string) (int, error) {
	class, err := gallery.Lookup(em.Info.ClassNames, name)
	if err == nil {
		return class, nil
	}
	if g != nil {
		if _, inGallery := gallery.Lookup(g.Names(), name); inGallery == nil {
			return -1, fmt.Errorf("%q was enrolled after training: the classifier has no output for them, so there is no Grad-CAM to draw", name)
		}
	}
	return -1, err
}

// matchBatch is how many photos go through the network at once.
const matchBatch = 32

// matchPhotos answers each photo, in order. A photo that cannot be read gets its error in its
// result and the others go on; the returned error is for what stops everything.
func matchPhotos(ctx context.Context, modelPath string, em *embeddingModel, g *gallery.Gallery, photos []string, opts matchOptions) ([]matchResult, error) {
	finder := newFaceFinder(em.aligned, em.Model.Config.InputSize)
	emb := em.embedder()
	results := make([]matchResult, len(photos))
	for start := 0; start < len(photos); start += matchBatch {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		var rows []int
		var faces []*foundFace
		var pictures []*image.RGBA
		for i := start; i < min(start+matchBatch, len(photos)); i++ {
			results[i].Photo = photos[i]
			f, err := finder.find(photos[i])
			if err != nil {
				results[i].Error = err.Error()
				continue
			}
			results[i].Note = f.note()
			rows, faces, pictures = append(rows, i), append(faces, f), append(pictures, f.picture)
		}
		outs, err := emb.Run(pictures)
		if err != nil {
			return nil, err
		}
		for k, i := range rows {
			cands, err := gallery.Answer(outs[k], em.Info.ClassNames, g, opts.by, opts.top)
			if err != nil {
				results[i].Error = fmt.Sprintf("%s: %v", photos[i], err)
				continue
			}
			results[i].Matches = matchEntries(cands, opts.by, opts.collapsed)
			conf := train.JudgeAnswer(outs[k].Probabilities, em.Info.ClassNames)
			results[i].Confidence, results[i].ConfidenceNote, results[i].words = conf.Level, conf.Note, conf.Words
			results[i].Warnings = opts.warnings
			if opts.reportDir == "" {
				continue
			}
			dir := matchReportDir(opts.reportDir, i, photos)
			if err := writeMatchReport(dir, modelPath, em, faces[k], outs[k], cands, conf, opts); err != nil {
				return nil, err
			}
			results[i].Report = filepath.Join(dir, report.HTMLFile)
		}
	}
	return results, nil
}

// note says what is worth knowing about how the face was taken from the photo.
func (f *foundFace) note() string {
	switch {
	case f.wholePhoto:
		return "no face found: the whole photo is taken as a face crop"
	case f.faces > 1:
		return fmt.Sprintf("%d faces found: the most confident is used", f.faces)
	}
	return ""
}

// matchEntries are the JSON form of the candidates; without their closest gallery photos when
// the gallery's embeddings have collapsed.
func matchEntries(cands []gallery.Candidate, by gallery.Ranking, collapsed bool) []matchEntry {
	var out []matchEntry
	for _, cd := range cands {
		e := matchEntry{Identity: cd.Identity}
		if cd.Known {
			p := float64(cd.Probability)
			e.Probability = &p
		}
		if by == gallery.ByEmbedding {
			s := float64(cd.Score)
			e.GalleryScore = &s
		}
		if cd.HasClosest && !collapsed {
			s := float64(cd.Closest.Similarity)
			e.ClosestPhoto, e.Similarity = cd.Closest.Entry.Path, &s
		}
		out = append(out, e)
	}
	return out
}

// reportFolderName is the sub-folder of photo i's report: its number, so names never clash,
// and its file name, so a person finds it.
func reportFolderName(i int, photo string) string {
	base := strings.TrimSuffix(filepath.Base(photo), filepath.Ext(photo))
	return fmt.Sprintf("%03d-%s", i+1, base)
}

// writeMatchReport draws the report of one photo: its Grad-CAM, how far to trust the answer,
// the warnings about the model, and its matches with their closest gallery photos.
func writeMatchReport(dir, modelPath string, em *embeddingModel, f *foundFace, out gallery.Output, cands []gallery.Candidate, conf train.Confidence, opts matchOptions) error {
	if err := report.PrepareDir(dir); err != nil {
		return err
	}
	class := opts.camClass
	if class < 0 {
		class = 0
		for i, p := range out.Probabilities {
			if p > out.Probabilities[class] {
				class = i
			}
		}
	}
	size := em.Model.Config.InputSize
	x := tensor.Zeros(em.Model.InputShape(1)...)
	vision.ToCHW(f.picture, vision.Normalization{Mean: em.Info.Mean, Std: em.Info.Std}, x.Float32s())
	cam, err := explain.GradCAM(em.Model, x, class)
	if err != nil {
		return err
	}
	r := &report.Report{
		PhotoPath:   f.path,
		Photo:       f.photo,
		FaceBox:     f.box,
		Face:        f.picture,
		Heatmap:     explain.Overlay(f.picture, cam.Upsample(size, size), 0.5),
		CAMIdentity: em.Info.ClassNames[class],
		RankedBy:    string(opts.by),
		Model:       modelPath,
		Confidence:  conf.Note,
		Doubtful:    conf.Doubtful(),
		Warnings:    opts.warnings,
		NoClosest:   opts.collapsed,
	}
	switch {
	case em.aligned:
		r.Framing = "Taken as a face crop, the centre square: the model was trained on face crops, or --aligned said so."
	case f.wholePhoto:
		r.Framing = "No face found: the whole photo was matched as if it were a face crop."
	default:
		r.Framing = fmt.Sprintf("The face found (green box; %d in the photo), aligned by the eyes.", f.faces)
	}
	for _, cd := range cands {
		m := report.Match{Identity: cd.Identity, Probability: cd.Probability, HasProbability: cd.Known,
			Score: cd.Score, HasScore: opts.by == gallery.ByEmbedding}
		if cd.HasClosest && !opts.collapsed {
			m.ClosestPath, m.Similarity = cd.Closest.Entry.Path, cd.Closest.Similarity
			// A gallery photo that has moved since indexing leaves a gap on the page, not an error.
			if img, err := vision.Load(cd.Closest.Entry.Path); err == nil {
				m.Closest = img
			}
		}
		r.Matches = append(r.Matches, m)
	}
	return report.Write(dir, r)
}

func writeMatchJSON(w io.Writer, results []matchResult) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(results)
}

// writeMatchTable prints each matched photo and its ranked identities, with the gallery photo
// of each most like the face when there is a gallery:
//
//	photos/me.jpg
//	   1. Keanu Reeves   83.2%  like gallery/Keanu Reeves/0012.jpg (0.914)
//	   2. Tom Hanks       9.1%  like gallery/Tom Hanks/0003.jpg (0.702)
func writeMatchTable(w io.Writer, results []matchResult) error {
	width := 0
	for _, r := range results {
		for _, m := range r.Matches {
			width = max(width, len([]rune(safefile.Printable(m.Identity))))
		}
	}
	for _, r := range results {
		if r.Error != "" {
			continue
		}
		heading := safefile.Printable(r.Photo)
		if r.Note != "" {
			heading += "  (" + r.Note + ")"
		}
		if r.words != "" {
			heading += "  answer: " + r.words
		}
		if r.Report != "" {
			heading += "  report: " + safefile.Printable(r.Report)
		}
		if _, err := fmt.Fprintln(w, heading); err != nil {
			return err
		}
		for i, m := range r.Matches {
			name := safefile.Printable(m.Identity)
			line := fmt.Sprintf("  %2d. %s%*s", i+1, name, width-len([]rune(name)), "")
			if m.GalleryScore != nil {
				line += fmt.Sprintf("  score %.3f", *m.GalleryScore)
			}
			if m.Probability != nil {
				line += fmt.Sprintf("  %5.1f%%", 100**m.Probability)
			} else {
				line += "  enrolled"
			}
			if m.Similarity != nil {
				line += fmt.Sprintf("  like %s (%.3f)", safefile.Printable(m.ClosestPhoto), *m.Similarity)
			}
			if _, err := fmt.Fprintln(w, line); err != nil {
				return err
			}
		}
	}
	return nil
}
