// Command vgg finds which celebrity a photo looks like; see 'vgg help'.
package main

import (
	"fmt"
	"os"

	"github.com/vgglab/vgg/cli"
)

func main() {
	if err := cli.App().Run(os.Args); err != nil {
		fmt.Fprintln(os.Stderr, "vgg:", err)
		os.Exit(1)
	}
}
