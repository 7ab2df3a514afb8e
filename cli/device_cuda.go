//go:build cuda

package cli

// The cuda build registers the GPU backend, so --device cuda and `vgg gpu` find it.
import _ "github.com/vgglab/vgg/kernels/cuda"
