//go:build !unix

package safefile

const lockWorks = false
