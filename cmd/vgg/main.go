// Command vgg finds which celebrity a photo looks like; see 'vgg help'.
package main

import (
	"errors"
	"fmt"
	"os"

	"github.com/vgglab/vgg/cli"
	"github.com/vgglab/vgg/safefile"
	"github.com/vgglab/vgg/train"
)

// notLearned is the exit status of a 'vgg train' whose model is no better than guessing, so a
// script can tell it from a run that failed to run.
const notLearned = 3

func main() {
	if err := cli.Run(cli.App(), os.Args); err != nil {
		// A file or identity name in the message cannot drive the terminal.
		fmt.Fprintln(os.Stderr, "vgg:", safefile.PrintableLines(err.Error()))
		if errors.Is(err, train.ErrNotLearned) {
			os.Exit(notLearned)
		}
		os.Exit(1)
	}
}
