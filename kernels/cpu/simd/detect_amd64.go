package simd

import "golang.org/x/sys/cpu"

// hardware is the widest level the processor and operating system support.
var hardware = detect()

func detect() Level {
	switch {
	case cpu.X86.HasAVX512F:
		return AVX512
	case cpu.X86.HasAVX2 && cpu.X86.HasFMA:
		return AVX2
	}
	return Go
}
