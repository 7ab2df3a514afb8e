package cli

import (
	"encoding/json"
	"fmt"
	"io"

	"github.com/urfave/cli/v2"

	"github.com/vgglab/vgg/train"
)

func init() {
	addCommand(&cli.Command{
		Name:      "match",
		Usage:     "tell whom each photo looks like, with a trained model",
		ArgsUsage: "PHOTO|FOLDER...",
		Description: "match finds and aligns the face in each photo (or every photo in a folder) unless the model's training report says it was trained on photos as they are (or --aligned says so), runs it through the model and prints " +
			"the identities it resembles most, with their probabilities. A file that cannot be read is " +
			"reported and skipped; the others are still matched, and the exit status is non-zero.",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "model", Required: true, Usage: "the model file `vgg train` wrote"},
			&cli.IntFlag{Name: "top", Value: 5, Usage: "how many identities to list per photo"},
			&cli.BoolFlag{Name: "json", Usage: "print JSON instead of a table"},
			alignedFlag(),
			deviceFlag(),
		},
		Action: runMatch,
	})
}

// matchResult is one photo's line of the JSON output.
type matchResult struct {
	Photo   string        `json:"photo"`
	Matches []train.Match `json:"matches,omitempty"`
	Note    string        `json:"note,omitempty"`
	Error   string        `json:"error,omitempty"`
}

func runMatch(c *cli.Context) error {
	if c.NArg() == 0 {
		return fmt.Errorf("match: no photos given: vgg match --model MODEL PHOTO|FOLDER...")
	}
	if c.Int("top") < 1 {
		return fmt.Errorf("match: --top %d must be at least 1", c.Int("top"))
	}
	photos, problems := expandPhotos(c.Args().Slice())
	model := c.String("model")
	aligned := c.Bool("aligned")
	if !c.IsSet("aligned") {
		// Frame the photos as the model's training run did, when its report says how.
		if report, err := train.ReadReport(train.PathsFor(model).Report); err == nil {
			aligned = report.Settings.Preprocessing == train.CentreSquare
		}
	}
	_, frame := framing(aligned)
	p, err := train.OpenPredictor(c.String("device"), model, frame)
	if err != nil {
		return fmt.Errorf("match: %w", err)
	}
	defer p.Close()
	ctx, stop := interruptible(c.Context)
	defer stop()
	preds, err := p.Predict(ctx, photos, c.Int("top"))
	if err != nil {
		return fmt.Errorf("match: %w", err)
	}

	var results []matchResult
	for _, err := range problems {
		results = append(results, matchResult{Error: err.Error()})
	}
	failed := len(problems)
	for _, pr := range preds {
		r := matchResult{Photo: pr.Path, Matches: pr.Matches, Note: pr.Note}
		if pr.Err != nil {
			r.Error = pr.Err.Error()
			failed++
		}
		results = append(results, r)
	}
	for _, r := range results {
		if r.Error != "" {
			fmt.Fprintf(c.App.ErrWriter, "vgg: match: skipped: %s\n", r.Error)
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

func writeMatchJSON(w io.Writer, results []matchResult) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(results)
}

// writeMatchTable prints each matched photo and its ranked identities:
//
//	photos/me.jpg
//	   1. Keanu Reeves          83.2%
//	   2. Tom Hanks              9.1%
func writeMatchTable(w io.Writer, results []matchResult) error {
	width := 0
	for _, r := range results {
		for _, m := range r.Matches {
			width = max(width, len([]rune(m.Identity)))
		}
	}
	for _, r := range results {
		if r.Error != "" {
			continue
		}
		heading := r.Photo
		if r.Note != "" {
			heading += "  (" + r.Note + ")"
		}
		if _, err := fmt.Fprintln(w, heading); err != nil {
			return err
		}
		for i, m := range r.Matches {
			pad := width - len([]rune(m.Identity))
			if _, err := fmt.Fprintf(w, "  %2d. %s%*s  %5.1f%%\n", i+1, m.Identity, pad, "", 100*m.Probability); err != nil {
				return err
			}
		}
	}
	return nil
}
