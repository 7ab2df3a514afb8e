package cli

import (
	"fmt"
	"image"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/vgglab/vgg/safefile"
	"github.com/vgglab/vgg/vision"
	"github.com/vgglab/vgg/vision/haar"
)

func init() {
	addCommand(&cli.Command{
		Name:  "cascade",
		Usage: "build Haar cascades",
		Subcommands: []*cli.Command{{
			Name:  "train",
			Usage: "train a Haar cascade with AdaBoost and write it as OpenCV XML",
			Description: "train learns a cascade from object photos (--pos: each photo is one example, " +
				"scaled to the window) and from negatives: photos that contain no such object " +
				"(--bg, mined for windows the cascade still accepts, at random scales) and/or " +
				"ready-made non-object patches (--neg). Each stage keeps --min-hit of the examples " +
				"and passes at most --max-false-alarm of the negatives. The result is an OpenCV-style " +
				"XML cascade that vgg detect --cascade and OpenCV's CascadeClassifier both read.",
			Flags: []cli.Flag{
				&cli.StringFlag{Name: "pos", Required: true, Usage: "folder of positive examples (any size; scaled to the window)"},
				&cli.StringFlag{Name: "neg", Usage: "folder of negative patches (scaled to the window)"},
				&cli.StringFlag{Name: "bg", Usage: "folder of object-free photos to mine negatives from"},
				&cli.StringFlag{Name: "out", Required: true, Usage: "cascade XML to write"},
				&cli.IntFlag{Name: "width", Value: 24, Usage: "window width"},
				&cli.IntFlag{Name: "height", Value: 24, Usage: "window height"},
				&cli.IntFlag{Name: "stages", Value: 20, Usage: "most stages"},
				&cli.Float64Flag{Name: "min-hit", Value: 0.995, Usage: "examples each stage keeps"},
				&cli.Float64Flag{Name: "max-false-alarm", Value: 0.5, Usage: "negatives each stage may pass"},
				&cli.IntFlag{Name: "max-weak", Value: 100, Usage: "most weak classifiers in a stage"},
				&cli.IntFlag{Name: "negatives", Usage: "negatives per stage (default: as many as examples)"},
				&cli.IntFlag{Name: "features", Value: 6000, Usage: "features sampled from the pool per stage"},
				&cli.BoolFlag{Name: "tilted", Usage: "add 45-degree features to the pool"},
				&cli.StringFlag{Name: "boost", Value: "gentle", Usage: "gentle or discrete AdaBoost"},
				&cli.BoolFlag{Name: "mirror", Usage: "also learn each example mirrored left-right"},
				&cli.Uint64Flag{Name: "seed", Value: 1, Usage: "random seed"},
				forceFlag(),
			},
			Action: runCascadeTrain,
		}},
	})
}

func runCascadeTrain(c *cli.Context) error {
	cfg := haar.TrainConfig{
		Width: c.Int("width"), Height: c.Int("height"), Stages: c.Int("stages"),
		MinHitRate: c.Float64("min-hit"), MaxFalseAlarm: c.Float64("max-false-alarm"),
		MaxWeak: c.Int("max-weak"), Negatives: c.Int("negatives"), FeatureSample: c.Int("features"),
		Tilted: c.Bool("tilted"), Seed: c.Uint64("seed"),
		Progress: func(format string, args ...any) { fmt.Fprintf(c.App.ErrWriter, format+"\n", args...) },
	}
	if err := checkAtLeast(c, map[string]int{"stages": 1, "max-weak": 1, "negatives": 0, "features": 1}); err != nil {
		return fmt.Errorf("cascade train: %w", err)
	}
	switch c.String("boost") {
	case "gentle":
	case "discrete":
		cfg.Discrete = true
	default:
		return fmt.Errorf("cascade train: --boost %q: want gentle or discrete", c.String("boost"))
	}
	if cfg.Width < 8 || cfg.Height < 8 || cfg.Width > 64 || cfg.Height > 64 {
		return fmt.Errorf("cascade train: window %dx%d: want sides from 8 to 64", cfg.Width, cfg.Height)
	}
	if cfg.MinHitRate <= 0 || cfg.MinHitRate > 1 || cfg.MaxFalseAlarm <= 0 || cfg.MaxFalseAlarm >= 1 {
		return fmt.Errorf("cascade train: --min-hit must be in (0, 1] and --max-false-alarm in (0, 1)")
	}
	var inputs []safefile.Input
	for _, flag := range []string{"pos", "neg", "bg"} {
		if c.String(flag) != "" {
			inputs = append(inputs, safefile.Input{Path: c.String(flag), Flag: "--" + flag})
		}
	}
	if err := safefile.CheckOutput(c.String("out"), cascadeKind, c.Bool("force"), inputs...); err != nil {
		return fmt.Errorf("cascade train: --out: %w", err)
	}
	pos, err := loadPatches(c.String("pos"), cfg.Width, cfg.Height)
	if err != nil {
		return fmt.Errorf("cascade train: --pos: %w", err)
	}
	if c.Bool("mirror") {
		for _, p := range pos {
			pos = append(pos, haar.Mirror(p))
		}
	}
	var neg []*image.Gray
	if dir := c.String("neg"); dir != "" {
		if neg, err = loadPatches(dir, cfg.Width, cfg.Height); err != nil {
			return fmt.Errorf("cascade train: --neg: %w", err)
		}
	}
	var bgs []haar.Background
	if dir := c.String("bg"); dir != "" {
		imgs, err := loadGreys(dir)
		if err != nil {
			return fmt.Errorf("cascade train: --bg: %w", err)
		}
		for _, g := range imgs {
			bgs = append(bgs, haar.Background{Img: g})
		}
	}
	if len(neg) == 0 && len(bgs) == 0 {
		return fmt.Errorf("cascade train: give negatives with --bg (object-free photos) or --neg (patches)")
	}
	fmt.Fprintf(c.App.ErrWriter, "%d examples, %d negative patches, %d background photos\n", len(pos), len(neg), len(bgs))
	cascade, reports, err := haar.Train(pos, neg, bgs, cfg)
	if err != nil {
		return fmt.Errorf("cascade train: %w", err)
	}
	if err := cascade.SaveFile(c.String("out")); err != nil {
		return fmt.Errorf("cascade train: %w", err)
	}
	weak := 0
	for _, r := range reports {
		weak += r.Weak
	}
	fmt.Fprintf(c.App.Writer, "wrote %s: %d stages, %d weak classifiers\n", c.String("out"), len(cascade.Stages), weak)
	return nil
}

// loadGreys decodes every image file directly inside dir, in name order, as grey.
func loadGreys(dir string) ([]*image.Gray, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var names []string
	for _, e := range entries {
		if e.Type().IsRegular() && !strings.HasPrefix(e.Name(), ".") {
			names = append(names, e.Name())
		}
	}
	sort.Strings(names)
	var out []*image.Gray
	for _, n := range names {
		img, err := vision.Load(filepath.Join(dir, n))
		if err != nil {
			return nil, err
		}
		out = append(out, haar.Grey(img))
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%s holds no images", dir)
	}
	return out, nil
}

// loadPatches decodes the images in dir and scales each whole image to w x h.
func loadPatches(dir string, w, h int) ([]*image.Gray, error) {
	imgs, err := loadGreys(dir)
	if err != nil {
		return nil, err
	}
	for i, g := range imgs {
		imgs[i] = haar.Patch(g, g.Rect, w, h)
	}
	return imgs, nil
}

// cascadeKind recognises a cascade 'vgg cascade train' wrote, by the start haar.Write gives
// it (OpenCV's own files carry a licence comment there).
var cascadeKind = safefile.Kind{Name: "cascade XML", Made: func(path string) bool {
	return strings.HasPrefix(string(safefile.ReadHead(path, 64)), "<?xml version=\"1.0\"?>\n<opencv_storage>\n<cascade>\n")
}}
