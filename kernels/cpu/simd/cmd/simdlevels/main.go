// Command simdlevels prints, one per line, the SIMD levels below the widest this CPU runs
// (what VGG_SIMD can cap the kernels to), widest first: the levels .ci/run tests again. On
// standard error it says which levels this CPU cannot run, and so are not tested here.
package main

import (
	"fmt"
	"os"

	"github.com/vgglab/vgg/kernels/cpu/simd"
)

func main() {
	missing := simd.Unavailable()
	if missing == "" {
		missing = "none"
	}
	fmt.Fprintf(os.Stderr, "SIMD: this CPU runs up to %v; levels it cannot run, not tested here: %s\n", simd.Best(), missing)
	for l := simd.Best() - 1; l >= simd.Go; l-- {
		fmt.Println(l)
	}
}
