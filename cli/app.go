// Package cli is the vgg command: each subcommand lives in a file of its own and adds itself
// to the app with addCommand from an init function.
package cli

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime/pprof"
	"sort"

	"github.com/urfave/cli/v2"

	"github.com/vgglab/vgg/safefile"
	"github.com/vgglab/vgg/vision"
)

var commands []*cli.Command

// addCommand registers a subcommand; command files call it from init.
func addCommand(c *cli.Command) { commands = append(commands, c) }

// App builds the vgg command-line application.
func App() *cli.App {
	cmds := append([]*cli.Command(nil), commands...)
	sort.Slice(cmds, func(i, j int) bool { return cmds[i].Name < cmds[j].Name })
	return &cli.App{
		Name:  "vgg",
		Usage: "find which celebrity a photo looks like, with a VGG-16 trained from scratch in Go",
		Description: "vgg trains the VGG-16 'configuration D' network on a folder of face photos " +
			"(one folder per person) and tells whom a new photo resembles. Start with 'vgg demo'.",
		Commands:        cmds,
		HideHelpCommand: true,
		Flags: []cli.Flag{
			&cli.IntFlag{Name: "max-pixels", Value: vision.DefaultMaxPixels,
				Usage: "refuse photos of more than this many pixels (width x height) before decoding them; raise it for very large photos"},
			&cli.StringFlag{Name: "cpuprofile", Usage: "write a CPU profile of the command to `FILE` (read it with 'go tool pprof')"},
		},
		Before: func(c *cli.Context) error {
			if n := c.Int("max-pixels"); n <= 0 {
				return fmt.Errorf("--max-pixels %d: the budget must be a positive number of pixels", n)
			}
			vision.SetMaxPixels(c.Int("max-pixels"))
			return startProfile(c.String("cpuprofile"))
		},
		After: func(*cli.Context) error { return stopProfile() },
	}
}

// profile is the --cpuprofile being written, if any: to a temporary file beside its path,
// renamed to it once the command ends, so that no half-written profile is left.
var profile struct {
	file *os.File
	path string
}

// startProfile starts writing a CPU profile for path ("" for none). Like every output, it may
// not replace a file: there is no --force for a global flag, so an existing one is refused.
func startProfile(path string) error {
	if path == "" {
		return nil
	}
	if err := safefile.CheckOutput(path, safefile.Kind{Name: "CPU profile"}, false); err != nil {
		return fmt.Errorf("--cpuprofile: %w; remove it or name another file", err)
	}
	f, err := os.CreateTemp(filepath.Dir(path), ".vgg-profile-*")
	if err != nil {
		return fmt.Errorf("--cpuprofile: %w", err)
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		os.Remove(f.Name())
		return fmt.Errorf("--cpuprofile %s: %w", path, err)
	}
	profile.file, profile.path = f, path
	return nil
}

// stopProfile finishes the CPU profile started by startProfile and puts it in place.
func stopProfile() error {
	if profile.file == nil {
		return nil
	}
	pprof.StopCPUProfile()
	f, path := profile.file, profile.path
	profile.file = nil
	err := f.Close()
	if err == nil {
		err = os.Rename(f.Name(), path)
	}
	if err != nil {
		os.Remove(f.Name())
		return fmt.Errorf("--cpuprofile: %w", err)
	}
	return nil
}
