//go:build !amd64

package direct

// archVariants: no assembly kernels on this architecture yet.
func archVariants() []*Variant { return nil }
