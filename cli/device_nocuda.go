//go:build !cuda

package cli

import "github.com/vgglab/vgg/kernels"

// Without the cuda tag the binary has no GPU code and needs no cgo; asking for the GPU says
// how to get it.
func init() {
	kernels.RegisterMissing("cuda", "this vgg was built without GPU support; rebuild it with "+
		"`go install -tags cuda github.com/vgglab/vgg/cmd/vgg` (needs cgo, an NVIDIA GPU with its "+
		"driver, and cuda.h plus libcuda at build time: scripts/cuda-stubs.sh fetches them; see README)")
}
