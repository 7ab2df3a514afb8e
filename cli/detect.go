package cli

import (
	"encoding/json"
	"fmt"

	"github.com/urfave/cli/v2"

	"github.com/vgglab/vgg/safefile"
	"github.com/vgglab/vgg/vision"
	"github.com/vgglab/vgg/vision/align"
	"github.com/vgglab/vgg/vision/haar"
)

func init() {
	addCommand(&cli.Command{
		Name:      "detect",
		Usage:     "find faces and eyes in photos with the Haar cascade detector",
		ArgsUsage: "PHOTO...",
		Description: "detect lists the faces (box, confidence) and eyes in each photo, or draws them " +
			"with --out. It uses the cascades built into vgg unless --cascade names an OpenCV XML " +
			"cascade (OpenCV's stock haarcascade_*.xml files work unchanged). Every box is checked by a " +
			"small face-checking network, which drops the boxes it does not take for a face, and the photo " +
			"is also searched turned by -20 and +20 degrees for faces that lean to one side. A second small " +
			"network finds both eyes in every face box (eye_spread in the JSON says how unsure it is: 0.03 " +
			"to 0.06 for a clear face); --eye-cascade finds them with a Haar eye cascade instead.",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "out", Usage: "write the photo (one photo only) with faces in green and eyes in red to this PNG"},
			&cli.BoolFlag{Name: "json", Usage: "print the results as JSON"},
			&cli.StringFlag{Name: "cascade", Usage: "face cascade XML instead of the built-in one"},
			&cli.StringFlag{Name: "eye-cascade", Usage: "find the eyes with this eye cascade XML instead of the built-in eye locator network"},
			&cli.Float64Flag{Name: "scale", Value: 1.1, Usage: "window growth between scales, from 1.01 to 2"},
			&cli.IntFlag{Name: "neighbors", Value: 3, Usage: "hits a face needs to be reported"},
			&cli.IntFlag{Name: "min-size", Value: 20, Usage: "smallest face in pixels"},
			&cli.BoolFlag{Name: "no-check", Usage: "keep every box the cascade returns (no second look by the face checker)"},
			&cli.BoolFlag{Name: "upright", Usage: "look for upright faces only (no turned searches for tilted faces: about 4 times faster)"},
			forceFlag(),
		},
		Action: runDetect,
	})
}

// detectedFace is one face in vgg detect's JSON output.
type detectedFace struct {
	Box       [4]int         `json:"box"` // x, y, width, height
	Neighbors int            `json:"neighbors"`
	Tilt      float64        `json:"tilt"`  // degrees of the turned search that found it (0: upright)
	Score     float64        `json:"score"` // the face checker's probability (0 with --no-check)
	Eyes      *[2][2]float64 `json:"eyes"`  // image-left eye first; null when not found
	// EyeSpread is the eye locator's uncertainty, as a share of the distance between the eyes
	// (absent with --eye-cascade).
	EyeSpread float64 `json:"eye_spread,omitempty"`
}

type detectedPhoto struct {
	File  string         `json:"file"`
	Faces []detectedFace `json:"faces"`
}

func runDetect(c *cli.Context) error {
	photos := c.Args().Slice()
	if len(photos) == 0 {
		return fmt.Errorf("detect: give at least one photo")
	}
	if err := checkAtLeast(c, map[string]int{"neighbors": 0, "min-size": 0}); err != nil {
		return fmt.Errorf("detect: %w", err)
	}
	params := haar.Params{ScaleFactor: c.Float64("scale"), MinNeighbors: c.Int("neighbors"), MinSize: c.Int("min-size")}
	if err := params.Validate(); err != nil {
		return fmt.Errorf("detect: --scale %v: %w", c.Float64("scale"), err)
	}
	out := c.String("out")
	if out != "" && len(photos) > 1 {
		return fmt.Errorf("detect: --out draws one photo; %d were given", len(photos))
	}
	if out != "" {
		if err := safefile.CheckOutput(out, pngKind, c.Bool("force"), safefile.Input{Path: photos[0], Flag: "the photo"}); err != nil {
			return fmt.Errorf("detect: --out: %w", err)
		}
	}
	faces, eyes, err := loadCascades(c.String("cascade"), c.String("eye-cascade"))
	if err != nil {
		return fmt.Errorf("detect: %w", err)
	}
	al := align.New(faces, haar.Eye())
	if eyes != nil {
		al.UseEyeCascade(eyes)
	}
	al.FaceParams = params
	if c.Bool("no-check") {
		al.Check = nil
	}
	if c.Bool("upright") {
		al.Tilts = nil
	}
	var results []detectedPhoto
	for _, path := range photos {
		img, err := vision.Load(path)
		if err != nil {
			return fmt.Errorf("detect: %w", err)
		}
		found, err := al.Detect(img)
		if err != nil {
			return fmt.Errorf("detect: %s: %w", path, err)
		}
		res := detectedPhoto{File: path, Faces: []detectedFace{}}
		for _, f := range found {
			df := detectedFace{Box: [4]int{f.Box.Min.X, f.Box.Min.Y, f.Box.Dx(), f.Box.Dy()}, Neighbors: f.Neighbors, Tilt: f.Tilt, Score: f.Score, EyeSpread: f.EyeSpread}
			if !f.Fallback {
				df.Eyes = &[2][2]float64{{f.Eyes[0].X, f.Eyes[0].Y}, {f.Eyes[1].X, f.Eyes[1].Y}}
			}
			res.Faces = append(res.Faces, df)
		}
		results = append(results, res)
		if out != "" {
			if err := vision.WritePNG(out, align.Annotate(img, found)); err != nil {
				return fmt.Errorf("detect: %w", err)
			}
		}
	}
	w := c.App.Writer
	if c.Bool("json") {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(results)
	}
	for _, r := range results {
		fmt.Fprintf(w, "%s: %d face(s)\n", safefile.Printable(r.File), len(r.Faces))
		for _, f := range r.Faces {
			fmt.Fprintf(w, "  face x=%d y=%d w=%d h=%d confidence=%d", f.Box[0], f.Box[1], f.Box[2], f.Box[3], f.Neighbors)
			if f.Tilt != 0 {
				fmt.Fprintf(w, " tilt=%g", f.Tilt)
			}
			if f.Eyes != nil {
				fmt.Fprintf(w, " eyes=(%.0f,%.0f) (%.0f,%.0f)", f.Eyes[0][0], f.Eyes[0][1], f.Eyes[1][0], f.Eyes[1][1])
			} else {
				fmt.Fprint(w, " eyes not found")
			}
			fmt.Fprintln(w)
		}
	}
	return nil
}

// loadCascades returns the face cascade, the named XML file or the built-in one, and the eye
// cascade when one is named (nil: the eyes are found by the built-in eye locator).
func loadCascades(facePath, eyePath string) (faces, eyes *haar.Cascade, err error) {
	faces = haar.FrontalFace()
	if facePath != "" {
		if faces, err = haar.LoadFile(facePath); err != nil {
			return nil, nil, err
		}
	}
	if eyePath != "" {
		if eyes, err = haar.LoadFile(eyePath); err != nil {
			return nil, nil, err
		}
	}
	return faces, eyes, nil
}
