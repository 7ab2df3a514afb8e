//go:build !amd64

package sgemm

// archVariants: no assembly kernel on this architecture yet, so the plain-Go one runs.
func archVariants() []*Variant { return nil }
