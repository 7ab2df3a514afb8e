package cli

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net"
	"net/http"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/vgglab/vgg/gallery"
	"github.com/vgglab/vgg/lookalike"
	"github.com/vgglab/vgg/safefile"
	"github.com/vgglab/vgg/web"
)

func init() {
	d := web.DefaultLimits()
	addCommand(&cli.Command{
		Name:  "serve",
		Usage: "answer photos on a local web page: drop a photo, see whom each face looks like",
		Description: "serve opens the model (and its gallery, when it has one) and answers on a web page, by " +
			"default at http://127.0.0.1:8080/, reachable from this computer only: a person picks or drops a photo " +
			"and sees it with a box per face, and for each face its look-alikes with their closest gallery photos, " +
			"its Grad-CAM heatmap and how sure the model is. POST /api/match (a multipart/form-data upload in a " +
			"field named photo) gives the same answer as JSON. Uploads are read into memory and answered " +
			"inline: nothing is written to disk. Ctrl-C stops it, letting answers under way finish.",
		Flags: []cli.Flag{
			modelFlag(),
			&cli.StringFlag{Name: "addr", Value: "127.0.0.1:8080", Usage: "the `HOST:PORT` to listen on (port 0: any free port); another host than 127.0.0.1 or localhost opens it to the network"},
			&cli.IntFlag{Name: "top", Value: 5, Usage: "how many identities to list per face"},
			&cli.StringFlag{Name: "by", Value: string(gallery.ByClassifier), Usage: "what ranks the identities: classifier or embedding (see 'vgg match')"},
			galleryFlag(),
			alignedFlag(),
			&cli.IntFlag{Name: "max-upload-mb", Value: int(d.MaxUploadBytes >> 20), Usage: "refuse uploads larger than this many megabytes"},
			&cli.IntFlag{Name: "max-requests", Value: d.MaxRequests, Usage: "photos answered (or waiting) at once; more are told the server is busy"},
			&cli.DurationFlag{Name: "timeout", Value: d.Timeout, Usage: "the longest one photo may take"},
			deviceFlag(),
		},
		Action: runServe,
	})
}

func runServe(c *cli.Context) error {
	if err := checkAtLeast(c, map[string]int{"top": 1, "max-upload-mb": 1, "max-requests": 1}); err != nil {
		return fmt.Errorf("serve: %w", err)
	}
	opts := lookalike.Options{Top: c.Int("top"), Heatmaps: true, Faces: lookalike.AllFaces}
	var err error
	if opts.By, err = gallery.ParseRanking(c.String("by")); err != nil {
		return fmt.Errorf("serve: --by: %w", err)
	}
	lim := web.Limits{MaxUploadBytes: int64(c.Int("max-upload-mb")) << 20, MaxRequests: c.Int("max-requests"), Timeout: c.Duration("timeout")}
	if mb := c.Int("max-upload-mb"); mb > math.MaxInt64>>20 {
		return fmt.Errorf("serve: --max-upload-mb %d is more megabytes than can be counted", mb)
	}
	if lim.Timeout <= 0 {
		return fmt.Errorf("serve: --timeout %v must be positive", lim.Timeout)
	}
	mt, err := openMatcher(c, opts)
	if err != nil {
		return fmt.Errorf("serve: %w", err)
	}
	defer mt.Close()
	for _, w := range mt.Warnings {
		fmt.Fprintf(c.App.ErrWriter, "vgg: serve: WARNING: %s\n", safefile.Printable(w))
	}
	ln, err := net.Listen("tcp", c.String("addr"))
	if err != nil {
		return fmt.Errorf("serve: %w", err)
	}
	// A client that sends its photo slowly holds a request slot: the whole request must arrive
	// within the time one photo may take, and the answer leave within twice that.
	srv := &http.Server{Handler: web.New(mt, lim), ReadHeaderTimeout: 10 * time.Second, ReadTimeout: lim.Timeout, WriteTimeout: 2 * lim.Timeout}
	ctx, stop := interruptible(c.Context)
	defer stop()
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	fmt.Fprintf(c.App.Writer, "vgg serve: answering at http://%s/ (Ctrl-C stops)\n", ln.Addr())
	if addr, ok := ln.Addr().(*net.TCPAddr); ok && !addr.IP.IsLoopback() {
		fmt.Fprintf(c.App.ErrWriter, "vgg: serve: WARNING: listening on %s, not on this computer only: anyone who can reach it can send photos\n", ln.Addr())
	}
	select {
	case err := <-done:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	// Let the answers under way finish, within the time one may take.
	shutdown, cancel := context.WithTimeout(context.Background(), lim.Timeout)
	defer cancel()
	if err := srv.Shutdown(shutdown); err != nil {
		return fmt.Errorf("serve: stopping: %w", err)
	}
	if err := <-done; !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("serve: %w", err)
	}
	_, err = fmt.Fprintln(c.App.Writer, "vgg serve: stopped")
	return err
}
