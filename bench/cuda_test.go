//go:build cuda

package bench

// With -tags cuda the benchmarks of this package run on the GPU too: the blank import
// registers the "cuda" backend, and every benchmark loops over kernels.Names().
import _ "github.com/vgglab/vgg/kernels/cuda"
