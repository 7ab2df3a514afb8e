// Package cli is the vgg command: each subcommand lives in a file of its own and adds itself
// to the app with addCommand from an init function.
package cli

import (
	"fmt"
	"os"
	"runtime/pprof"
	"sort"

	"github.com/urfave/cli/v2"

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

// profile is the open --cpuprofile file, if any.
var profile *os.File

// startProfile starts writing a CPU profile to path ("" for none).
func startProfile(path string) error {
	if path == "" {
		return nil
	}
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("--cpuprofile: %w", err)
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return fmt.Errorf("--cpuprofile %s: %w", path, err)
	}
	profile = f
	return nil
}

// stopProfile finishes the CPU profile started by startProfile.
func stopProfile() error {
	if profile == nil {
		return nil
	}
	pprof.StopCPUProfile()
	err := profile.Close()
	profile = nil
	if err != nil {
		return fmt.Errorf("--cpuprofile: %w", err)
	}
	return nil
}
