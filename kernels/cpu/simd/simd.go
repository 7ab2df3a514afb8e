// Package simd says which vector instruction sets the CPU kernels may use: those the processor
// has (detected at run time with golang.org/x/sys/cpu), capped by the VGG_SIMD environment
// variable, so that one machine can run, and test, every slower variant too:
//
//	VGG_SIMD=go      plain Go only (what a CPU with no usable SIMD runs)
//	VGG_SIMD=avx2    at most AVX2 + FMA (what an AVX2-only CPU such as AMD Zen 3 runs)
//	VGG_SIMD=avx512  at most AVX-512 (the default where the CPU has it)
//
// Every package with assembly kernels picks its variants through Allowed, so a cap applies to
// all of them at once. The variable is read when the package initialises, which go test's
// result cache does not track: test under a cap with -count=1 (as .ci/run does), or the
// results of an earlier run at another level are replayed.
package simd

import (
	"fmt"
	"os"
	"strings"
)

// Level is an instruction set, ordered from plainest to widest.
type Level int

const (
	Go     Level = iota // plain Go, no assembly
	AVX2                // 256-bit AVX2 with FMA3
	AVX512              // 512-bit AVX-512F
)

var levelNames = []string{Go: "go", AVX2: "avx2", AVX512: "avx512"}

func (l Level) String() string { return levelNames[l] }

// EnvVar is the environment variable that caps the level.
const EnvVar = "VGG_SIMD"

var ceiling, ceilingErr = parseCap(os.Getenv(EnvVar))

// parseCap reads VGG_SIMD: empty means no cap.
func parseCap(s string) (Level, error) {
	if s == "" {
		return AVX512, nil
	}
	for l, name := range levelNames {
		if strings.EqualFold(s, name) {
			return Level(l), nil
		}
	}
	return Go, fmt.Errorf("%s=%q: want one of %s", EnvVar, s, strings.Join(levelNames, ", "))
}

// Allowed reports whether kernels of level l may run: the processor has it and VGG_SIMD does
// not cap it away.
func Allowed(l Level) bool { return l <= hardware && l <= ceiling }

// Best is the widest level allowed.
func Best() Level { return min(hardware, ceiling) }

// Check returns the error of a malformed VGG_SIMD, which makes the plain-Go level the only
// one allowed; backends report it when they open.
func Check() error { return ceilingErr }

// Unavailable describes the levels this processor cannot run, for tests to say which
// variants they could not try here ("" when it runs them all).
func Unavailable() string {
	var missing []string
	for l := hardware + 1; l <= AVX512; l++ {
		missing = append(missing, l.String())
	}
	if len(missing) == 0 {
		return ""
	}
	return fmt.Sprintf("this CPU lacks %s", strings.Join(missing, ", "))
}
