package cli

import (
	"fmt"
	"os"
	"testing"

	"github.com/vgglab/vgg/dataset/framecache"
)

// TestMain points the framing cache at a temporary folder, so that no test writes to the
// user's real cache.
func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "vgg-cli-cache-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	os.Setenv(framecache.EnvVar, dir)
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}
