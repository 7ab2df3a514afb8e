package cli

import (
	"fmt"
	"maps"
	"slices"

	"github.com/urfave/cli/v2"
)

// checkAtLeast refuses a whole-number flag below its smallest sensible value, before any work
// starts: "--width 0 must be at least 1". Zero is never taken to mean "the default" here, so a
// flag given is a flag obeyed. The domain packages check the finer rules (a width of 3).
func checkAtLeast(c *cli.Context, least map[string]int) error {
	for _, name := range slices.Sorted(maps.Keys(least)) {
		if v := c.Int(name); v < least[name] {
			return fmt.Errorf("--%s %d must be at least %d", name, v, least[name])
		}
	}
	return nil
}
