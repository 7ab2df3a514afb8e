// Command vgg finds which celebrity a photo looks like; see 'vgg help'.
package main

import (
	"errors"
	"fmt"
	"os"

	"github.com/vgglab/vgg/cli"
	"github.com/vgglab/vgg/train"
)

// notLearned is the exit status of a 'vgg train' whose model is no better than guessing, so a
// script can tell it from a run that failed to run.
const notLearned = 3

func main() {
	if err := cli.Run(cli.App(), os.Args); err != nil {
		fmt.Fprintln(os.Stderr, "vgg:", err)
		if errors.Is(err, train.ErrNotLearned) {
			os.Exit(notLearned)
		}
		os.Exit(1)
	}
}
