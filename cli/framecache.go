package cli

import (
	"fmt"
	"io"
	"os"

	"github.com/urfave/cli/v2"
	"golang.org/x/term"

	"github.com/vgglab/vgg/dataset"
	"github.com/vgglab/vgg/dataset/framecache"
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
// photos are framed without it.
func frameCache(c *cli.Context) *framecache.Cache {
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
	fmt.Fprintf(w, "vgg: %s: %s\n", command, st.Summary())
	if problem := st.CacheProblem(); problem != "" {
		fmt.Fprintf(w, "vgg: %s: warning: %s\n", command, problem)
	}
}

// terminal returns w when it is a terminal, else nil: a progress bar redraws itself in place,
// which belongs on a screen, not in a log file.
func terminal(w io.Writer) io.Writer {
	if f, ok := w.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		return w
	}
	return nil
}
