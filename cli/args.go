package cli

import (
	"strings"

	"github.com/urfave/cli/v2"
)

// Run runs app on the command line args (program name first), taking a command's flags
// wherever they stand: 'vgg match me.jpg --model m.safetensors' as well as the usual order.
// urfave/cli stops reading flags at the first argument that is not one, so without this the
// flags after a photo were taken for photos (and a required flag among them was "not set").
func Run(app *cli.App, args []string) error {
	return app.Run(flagsFirst(app, args))
}

// flagsFirst moves the flags that follow a command's arguments in front of them. Everything
// after "--" stays an argument, so a photo whose name starts with "-" can still be given. An
// unknown flag is moved too, for urfave/cli to refuse by name.
func flagsFirst(app *cli.App, args []string) []string {
	if len(args) == 0 {
		return args
	}
	out := []string{args[0]}
	rest := args[1:]
	// The program's own flags (--max-pixels N) come before the command.
	for len(rest) > 0 && isFlag(rest[0]) {
		n := flagTokens(rest, app.Flags)
		out, rest = append(out, rest[:n]...), rest[n:]
	}
	if len(rest) == 0 {
		return out
	}
	cmd := findCommand(app.Commands, rest[0])
	if cmd == nil {
		return append(out, rest...)
	}
	out, rest = append(out, rest[0]), rest[1:]
	for len(cmd.Subcommands) > 0 && len(rest) > 0 {
		sub := findCommand(cmd.Subcommands, rest[0])
		if sub == nil {
			break
		}
		cmd, out, rest = sub, append(out, rest[0]), rest[1:]
	}
	var positional []string
	for len(rest) > 0 {
		switch {
		case rest[0] == "--":
			return append(append(append(out, "--"), positional...), rest[1:]...)
		case isFlag(rest[0]):
			n := flagTokens(rest, cmd.Flags)
			out, rest = append(out, rest[:n]...), rest[n:]
		default:
			positional, rest = append(positional, rest[0]), rest[1:]
		}
	}
	return append(out, positional...)
}

// isFlag says whether a command-line word is a flag ("-x", "--name", "--name=value"), not an
// argument ("photo.jpg", "-" for standard input).
func isFlag(word string) bool { return len(word) > 1 && word[0] == '-' }

// flagTokens is how many words the flag at words[0] takes: 2 for a flag that needs a value
// given apart ("--top 3"), 1 for a bool flag, a flag with "=value", or an unknown flag.
func flagTokens(words []string, flags []cli.Flag) int {
	name, _, hasValue := strings.Cut(strings.TrimLeft(words[0], "-"), "=")
	if hasValue || len(words) < 2 {
		return 1
	}
	for _, f := range flags {
		for _, n := range f.Names() {
			if n != name {
				continue
			}
			if _, isBool := f.(*cli.BoolFlag); isBool {
				return 1
			}
			return 2
		}
	}
	return 1
}

// findCommand is the command called name (or one of its aliases), or nil.
func findCommand(cmds []*cli.Command, name string) *cli.Command {
	for _, c := range cmds {
		if c.HasName(name) {
			return c
		}
	}
	return nil
}
