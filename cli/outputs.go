package cli

import (
	"github.com/urfave/cli/v2"

	"github.com/vgglab/vgg/gallery"
	"github.com/vgglab/vgg/nn"
	"github.com/vgglab/vgg/report"
	"github.com/vgglab/vgg/safefile"
	"github.com/vgglab/vgg/train"
	"github.com/vgglab/vgg/vision"
)

// forceFlag lets a command replace an existing output that vgg did not make (see
// safefile.CheckOutput); an input is never written over, even with it.
func forceFlag() cli.Flag {
	return &cli.BoolFlag{Name: "force", Usage: "replace output files that exist and were not written by vgg (inputs are never replaced)"}
}

// The kinds of file the commands write, each recognised by content when vgg made it.
var (
	galleryKind = safefile.Kind{Name: "gallery", Made: gallery.IsFile}
	modelKind   = safefile.Kind{Name: "model", Made: nn.IsCheckpoint}
	pngKind     = safefile.Kind{Name: "PNG", Made: vision.MadePNG}
	pageKind    = safefile.Kind{Name: "report page", Made: report.MadePage}
	trainReport = safefile.Kind{Name: "training report", Made: func(path string) bool {
		r, err := train.ReadReport(path)
		return err == nil && r.Status != ""
	}}
)

// checkReportOutputs applies the output rule to the files report.Write makes in dir.
func checkReportOutputs(dir string, force bool, inputs ...safefile.Input) error {
	files := report.Files(dir)
	if err := safefile.CheckOutput(files[0], pageKind, force, inputs...); err != nil {
		return err
	}
	return safefile.CheckOutput(files[1], pngKind, force, inputs...)
}
