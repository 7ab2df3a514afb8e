//go:build !amd64

package simd

// hardware: no assembly kernels on this architecture yet.
var hardware = Go
