package cli

import (
	"encoding/json"
	"fmt"
	"io"
	"path/filepath"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/vgglab/vgg/gallery"
	"github.com/vgglab/vgg/lookalike"
	"github.com/vgglab/vgg/report"
	"github.com/vgglab/vgg/safefile"
)

func init() {
	addCommand(&cli.Command{
		Name:      "match",
		Usage:     "tell whom each photo looks like, with a trained model",
		ArgsUsage: "PHOTO|FOLDER...",
		Description: "match finds and aligns the faces in each photo (or every photo in a folder) unless the model's training report says it was trained on photos as they are (or --aligned says so), runs them through the model and prints " +
			"the identities each face resembles most (every face found, most confident first, unless --faces best), with their probabilities and, when the model has a gallery ('vgg index'), " +
			"the gallery photo of each that is most like the face. --by embedding ranks every gallery identity, enrolled " +
			"ones included, by the mean cosine similarity of its three gallery photos closest to the face. --report DIR " +
			"writes a page (HTML, with a PNG montage) showing the photo with each face outlined and, for each face, what the network saw, a Grad-CAM heatmap of where it " +
			"found the face's top identity (or --cam NAME) and the matches. A file that cannot be read is " +
			"reported and skipped; the others are still matched, and the exit status is non-zero.",
		Flags: []cli.Flag{
			modelFlag(),
			&cli.IntFlag{Name: "top", Value: 5, Usage: "how many identities to list per face"},
			&cli.BoolFlag{Name: "json", Usage: "print JSON instead of a table"},
			&cli.StringFlag{Name: "by", Value: string(gallery.ByClassifier), Usage: "what ranks the identities: classifier (its probability) or embedding (gallery similarity, which knows enrolled people too)"},
			galleryFlag(),
			&cli.StringFlag{Name: "report", Usage: "write an HTML page and a PNG montage of the answer into `DIR` (a sub-folder per photo when there are several)"},
			&cli.StringFlag{Name: "cam", Usage: "the identity `NAME` the report's Grad-CAM heatmaps explain (default: each face's top identity)"},
			&cli.StringFlag{Name: "faces", Value: string(lookalike.AllFaces), Usage: "which faces of a photo to answer: all (every face found, most confident first) or best (the most confident)"},
			alignedFlag(),
			deviceFlag(),
			forceFlag(),
		},
		Action: runMatch,
	})
}

// matchResult is one photo's answer, as the JSON prints it.
type matchResult = lookalike.Result

func runMatch(c *cli.Context) error {
	if c.NArg() == 0 {
		return fmt.Errorf("match: no photos given: vgg match --model MODEL PHOTO|FOLDER...")
	}
	opts := lookalike.Options{Top: c.Int("top"), CAM: c.String("cam")}
	if opts.Top < 1 {
		return fmt.Errorf("match: --top %d must be at least 1", opts.Top)
	}
	var err error
	if opts.By, err = gallery.ParseRanking(c.String("by")); err != nil {
		return fmt.Errorf("match: --by: %w", err)
	}
	if opts.Faces, err = lookalike.ParseChoice(c.String("faces")); err != nil {
		return fmt.Errorf("match: --faces: %w", err)
	}
	reportDir := c.String("report")
	if c.IsSet("cam") && reportDir == "" {
		return fmt.Errorf("match: --cam chooses the heatmap of a report; give --report DIR too")
	}
	opts.Heatmaps = reportDir != ""
	photos, problems := expandPhotos(c.Args().Slice())
	// A report that would replace a file vgg did not make, or land among the photos, and an
	// unwritable report folder, are errors before anything is loaded.
	if reportDir != "" {
		if err := checkMatchReports(reportDir, photos, c.Args().Slice(), c.Bool("force")); err != nil {
			return fmt.Errorf("match: --report: %w", err)
		}
		if err := report.PrepareDir(reportDir); err != nil {
			return fmt.Errorf("match: report: %w", err)
		}
	}
	mt, err := openMatcher(c, opts)
	if err != nil {
		return fmt.Errorf("match: %w", err)
	}
	defer mt.Close()
	for _, w := range mt.Warnings {
		fmt.Fprintf(c.App.ErrWriter, "vgg: match: WARNING: %s\n", safefile.Printable(w))
	}
	ctx, stop := interruptible(c.Context)
	defer stop()

	var results []matchResult
	for _, err := range problems {
		results = append(results, matchResult{Error: err.Error()})
	}
	answers, err := mt.MatchFiles(ctx, photos)
	if err != nil {
		return fmt.Errorf("match: %w", err)
	}
	for i := range answers {
		r := mt.Result(&answers[i])
		if reportDir != "" && answers[i].Err == nil {
			dir := matchReportDir(reportDir, i, photos)
			if err := writeMatchReport(dir, mt, &answers[i]); err != nil {
				return fmt.Errorf("match: %w", err)
			}
			r.Report = filepath.Join(dir, report.HTMLFile)
		}
		results = append(results, r)
	}
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

// openMatcher opens the model of --model on --device with its gallery, framing photos as
// --aligned or the model's training says: what 'vgg match' and 'vgg serve' answer with.
func openMatcher(c *cli.Context, opts lookalike.Options) (*lookalike.Matcher, error) {
	path, err := galleryPath(c)
	if err != nil {
		return nil, err
	}
	return lookalike.OpenMatcher(lookalike.Setup{Device: c.String("device"), Model: c.String("model"),
		Gallery: path, GalleryRequired: c.IsSet("gallery"), Aligned: photosAligned(c)}, opts)
}

// reportFolderName is the sub-folder of photo i's report: its number, so names never clash,
// and its file name, so a person finds it.
func reportFolderName(i int, photo string) string {
	base := strings.TrimSuffix(filepath.Base(photo), filepath.Ext(photo))
	return fmt.Sprintf("%03d-%s", i+1, base)
}

// writeMatchReport writes the page of one photo's answer into dir.
func writeMatchReport(dir string, mt *lookalike.Matcher, a *lookalike.Answer) error {
	if err := report.PrepareDir(dir); err != nil {
		return err
	}
	return report.Write(dir, mt.Report(a))
}

func writeMatchJSON(w io.Writer, results []matchResult) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(results)
}

// writeMatchTable prints each matched photo and, for each of its faces, the ranked
// identities, with the gallery photo of each most like the face when there is a gallery:
//
//	photos/me.jpg  answer: confident
//	   1. Keanu Reeves   83.2%  like gallery/Keanu Reeves/0012.jpg (0.914)
//	   2. Tom Hanks       9.1%  like gallery/Tom Hanks/0003.jpg (0.702)
//
// A photo with several faces answered gets a line per face before its identities:
//
//	photos/us.jpg  (2 faces found: each is answered, most confident first)
//	  face 1 at x=40 y=32 w=90 h=90  answer: fairly sure
//	   1. Keanu Reeves   63.2%
func writeMatchTable(w io.Writer, results []matchResult) error {
	width := 0
	for _, r := range results {
		for _, f := range r.Faces {
			for _, m := range f.Matches {
				width = max(width, len([]rune(safefile.Printable(m.Identity))))
			}
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
		several := len(r.Faces) > 1
		if !several && len(r.Faces) == 1 && r.Faces[0].ConfidenceWords != "" {
			heading += "  answer: " + r.Faces[0].ConfidenceWords
		}
		if r.Report != "" {
			heading += "  report: " + safefile.Printable(r.Report)
		}
		if _, err := fmt.Fprintln(w, heading); err != nil {
			return err
		}
		for _, f := range r.Faces {
			if several {
				line := fmt.Sprintf("  face %d", f.Face)
				if f.Box != nil {
					line += fmt.Sprintf(" at x=%d y=%d w=%d h=%d", f.Box[0], f.Box[1], f.Box[2], f.Box[3])
				}
				if f.ConfidenceWords != "" {
					line += "  answer: " + f.ConfidenceWords
				}
				if _, err := fmt.Fprintln(w, line); err != nil {
					return err
				}
			}
			for i, m := range f.Matches {
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
	}
	return nil
}
