package cli

import (
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

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

// unprintable says whether a rune is escaped by printable: a control character, a
// bidirectional override (which reorders the rest of the line), or a byte that is not UTF-8
// (which decodes as utf8.RuneError).
func unprintable(r rune) bool {
	return r == utf8.RuneError || unicode.IsControl(r) || unicode.Is(unicode.Bidi_Control, r)
}

// printable returns s with control characters and bytes that are not UTF-8 escaped as Go
// escapes them in a quoted string ("\x1b", "\n"), and everything else as it is: a name or
// file name printed to the terminal cannot colour it, move the cursor or break a table line.
func printable(s string) string {
	clean := true
	for _, r := range s {
		if unprintable(r) {
			clean = false
			break
		}
	}
	if clean {
		return s
	}
	var b strings.Builder
	for i, size := 0, 0; i < len(s); i += size {
		var r rune
		r, size = utf8.DecodeRuneInString(s[i:])
		if unprintable(r) {
			q := strconv.QuoteToASCII(s[i : i+size])
			b.WriteString(q[1 : len(q)-1])
			continue
		}
		b.WriteString(s[i : i+size])
	}
	return b.String()
}
