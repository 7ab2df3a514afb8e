// Package cuda is the GPU backend: hand-written CUDA C kernels (no cuDNN, no cuBLAS), compiled
// ahead of time to PTX, embedded in the binary and JIT-compiled by the NVIDIA driver for the
// card it finds. Build with -tags cuda; it registers itself as kernels.Open("cuda").
//
// Each op family is a .cu file named like its CPU twin in kernels/cpu (conv.cu, relu.cu, ...)
// with a Go launcher of the same name (conv.go, relu.go, ...). The .ptx files are generated
// by `go generate` (nvcc from the CUDA toolkit, any version that targets sm_80) and committed,
// so building the backend needs only the driver's cuda.h and libcuda, not nvcc.
//
// This file has no build tag: it embeds the PTX, so that a plain `go test` on a machine with
// no GPU and no cgo still checks that every kernel the launchers name is in it.
package cuda

import (
	"embed"
	"fmt"
	"regexp"
)

// compute_80 PTX (Ampere and later) runs on the A100, the H100/H200 and newer through the
// driver's JIT; plain FP32 FMA code gains nothing from a newer target.
//go:generate nvcc -ptx -arch=compute_80 -O3 -o conv.ptx conv.cu
//go:generate nvcc -ptx -arch=compute_80 -O3 -o linear.ptx linear.cu
//go:generate nvcc -ptx -arch=compute_80 -O3 -o relu.ptx relu.cu
//go:generate nvcc -ptx -arch=compute_80 -O3 -o maxpool.ptx maxpool.cu
//go:generate nvcc -ptx -arch=compute_80 -O3 -o dropout.ptx dropout.cu
//go:generate nvcc -ptx -arch=compute_80 -O3 -o softmax_xent.ptx softmax_xent.cu
//go:generate nvcc -ptx -arch=compute_80 -O3 -o optim.ptx optim.cu

//go:embed *.ptx
var ptxFiles embed.FS

// kernel names one __global__ function: the PTX module (file name without .ptx) and its
// entry name. Launchers declare one kernel value per function they launch.
type kernel struct {
	module, entry string
}

// modulePTX returns the embedded PTX text of a module.
func modulePTX(module string) (string, error) {
	data, err := ptxFiles.ReadFile(module + ".ptx")
	if err != nil {
		return "", fmt.Errorf("cuda: no embedded PTX module %q: %w", module, err)
	}
	return string(data), nil
}

var entryPattern = regexp.MustCompile(`(?m)^\.visible \.entry ([A-Za-z_][A-Za-z0-9_]*)\(`)

// ptxEntries lists the kernel entry points a PTX module defines.
func ptxEntries(ptx string) []string {
	var names []string
	for _, m := range entryPattern.FindAllStringSubmatch(ptx, -1) {
		names = append(names, m[1])
	}
	return names
}
