// Package cli is the vgg command: each subcommand lives in a file of its own and adds itself
// to the app with addCommand from an init function.
package cli

import (
	"sort"

	"github.com/urfave/cli/v2"
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
	}
}
