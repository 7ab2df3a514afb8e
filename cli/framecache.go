package cli

import (
	"fmt"
	"io"

	"github.com/urfave/cli/v2"

	"github.com/vgglab/vgg/dataset"
	"github.com/vgglab/vgg/dataset/framecache"
	"github.com/vgglab/vgg/safefile"
)

// cacheFlags are the framing cache's flags, for the commands that frame collections of photos.
func cacheFlags() []cli.Flag {
	return []cli.Flag{
		&cli.StringFlag{Name: "cache", Usage: "keep framed photos in `DIR` between runs (default: $" + framecache.EnvVar +
			"/frames, else vgg/frames in the user's cache folder, such as ~/.cache/vgg/frames)"},
		&cli.BoolFlag{Name: "no-cache", Usage: "frame every photo afresh, neither reading nor writing the framing cache"},
	}
}

// frameCache opens the framing cache the flags choose, or returns nil with --no-cache. A cache
// that cannot be opened costs time, not the run: it is a warning on the error output, and the
// photos are framed without it. So is a cache that is one of the command's inputs or inside
// one (safefile.CheckNotInput): it is never written into the photos the command reads.
func frameCache(c *cli.Context, inputs ...safefile.Input) *framecache.Cache {
	if c.Bool("no-cache") {
		return nil
	}
	dir := c.String("cache")
	if dir == "" {
		var err error
		if dir, err = framecache.DefaultDir(); err != nil {
			fmt.Fprintf(c.App.ErrWriter, "vgg: warning: framing without a cache: %v\n", err)
			return nil
		}
	}
	if err := safefile.CheckNotInput(dir, inputs...); err != nil {
		fmt.Fprintf(c.App.ErrWriter, "vgg: warning: framing without a cache: %v\n", err)
		return nil
	}
	cache, err := framecache.Open(dir)
	if err != nil {
		fmt.Fprintf(c.App.ErrWriter, "vgg: warning: framing without a cache: %v\n", err)
		return nil
	}
	return cache
}

// printFramingStats says, on w, how many photos src framed and how many came from the cache.
func printFramingStats(w io.Writer, command string, src *dataset.Source) {
	st := src.Stats()
	printFramingSummary(w, command, st)
}

// printFramingSummary says, on w, how many photos were framed and how many came from the
// cache, and why the cache did not fill if it did not; the cache's folder and the error
// are printed with their control characters escaped.
func printFramingSummary(w io.Writer, command string, st dataset.FramingStats) {
	fmt.Fprintf(w, "vgg: %s: %s\n", command, safefile.Printable(st.Summary()))
	if problem := st.CacheProblem(); problem != "" {
		fmt.Fprintf(w, "vgg: %s: warning: %s\n", command, safefile.Printable(problem))
	}
}
