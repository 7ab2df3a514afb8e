package cli

import (
	"context"
	"fmt"
	"image"
	"io/fs"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/urfave/cli/v2"

	"github.com/vgglab/vgg/train"
	"github.com/vgglab/vgg/vision/align"
	"github.com/vgglab/vgg/vision/haar"

	// The CPU backend is always there; kernels/cuda registers itself in builds tagged cuda.
	_ "github.com/vgglab/vgg/kernels/cpu"
)

// deviceFlag chooses the compute backend.
func deviceFlag() cli.Flag {
	return &cli.StringFlag{Name: "device", Value: "cpu", Usage: "compute on cpu, or cuda in a build with -tags cuda"}
}

// interruptible returns a context cancelled by Ctrl-C (SIGINT) or SIGTERM, so a long command
// can save its work and stop cleanly; a second Ctrl-C kills the program as usual.
func interruptible(parent context.Context) (context.Context, context.CancelFunc) {
	ctx, stop := signal.NotifyContext(parent, os.Interrupt, syscall.SIGTERM)
	go func() {
		<-ctx.Done()
		stop() // restore the default handlers: the next signal ends the program
	}()
	return ctx, stop
}

// expandPhotos turns the command line's files and folders into a list of photo paths: a file
// as it is, a folder as every file inside it and its sub-folders, sorted (hidden files such as
// .DS_Store left out). A path that does not exist is returned as a problem naming it.
func expandPhotos(args []string) (photos []string, problems []error) {
	for _, arg := range args {
		info, err := os.Stat(arg)
		if err != nil {
			problems = append(problems, err)
			continue
		}
		if !info.IsDir() {
			photos = append(photos, arg)
			continue
		}
		err = filepath.WalkDir(arg, func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				problems = append(problems, err)
				return nil
			}
			hidden := path != arg && strings.HasPrefix(d.Name(), ".")
			switch {
			case hidden && d.IsDir():
				return filepath.SkipDir
			case hidden || d.IsDir():
			default:
				photos = append(photos, path)
			}
			return nil
		})
		if err != nil {
			problems = append(problems, err)
		}
	}
	return photos, problems
}

// alignedFlag turns face alignment off, for collections of face crops that are aligned already.
func alignedFlag() cli.Flag {
	return &cli.BoolFlag{Name: "aligned", Usage: "the photos are aligned face crops already: use their centre square " +
		"instead of finding and aligning the face"}
}

// framing is how photos are framed before they are resized to the network's input: by default
// the most confident face of each photo, found by the Haar cascade and turned and scaled so that the
// eyes land where they do in the aligned crops; with --aligned, the photo's centre square.
// name describes the choice for the training settings; id names everything that shapes the
// framed pictures (the aligner's fingerprint), for the framing cache's keys.
func framing(aligned bool) (name, id string, f train.Framing) {
	if aligned {
		return train.CentreSquare, "", nil
	}
	aligner := align.New(haar.FrontalFace(), haar.Eye())
	return "most confident face, aligned by the eyes", "most confident face, aligner " + aligner.Fingerprint(), func(img image.Image) (image.Image, string, error) {
		faces, err := aligner.Align(img)
		if err != nil {
			return nil, "", err
		}
		note := ""
		switch {
		case faces[0].WholeImage:
			note = "no face found: the whole photo is taken as a face crop"
		case len(faces) > 1:
			note = fmt.Sprintf("%d faces found: the most confident is used", len(faces))
		}
		return faces[0].Aligned, note, nil
	}
}
