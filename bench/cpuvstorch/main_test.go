package main

import (
	"math"
	"testing"
)

// TestParseGo checks that Go benchmark lines get the names bench/cpu_twin.py uses.
func TestParseGo(t *testing.T) {
	out := `goos: linux
BenchmarkSgemm/conv1_2_fwd_16384x64x576/avx512-2         	       3	 123456789 ns/op	        98.50 GFLOP/s
BenchmarkOps/cpu/conv1_1/backward-data-2                 	       1	  45678901 ns/op	        12.25 GFLOP/s
BenchmarkVGGDTrainStep/cpu/batch=8-2                     	       1	3000000000 ns/op	         2.667 img/s	        41.0 GFLOP/s
PASS
`
	got := parseGo(out, 2, "avx512")
	want := map[string]map[string]float64{
		"Sgemm/conv1_2_fwd_16384x64x576": {"ns/op": 123456789, "GFLOP/s": 98.5},
		"Ops/cpu/conv1_1/backward-data":  {"ns/op": 45678901, "GFLOP/s": 12.25},
		"VGGDTrainStep/cpu/batch=8":      {"ns/op": 3e9, "img/s": 2.667, "GFLOP/s": 41},
	}
	if len(got) != len(want) {
		t.Fatalf("got %d names %v, want %d", len(got), got, len(want))
	}
	for name, metrics := range want {
		for unit, v := range metrics {
			if got[name][unit] != v {
				t.Errorf("%s %s = %v, want %v", name, unit, got[name][unit], v)
			}
		}
	}
	// With GOMAXPROCS=1 Go adds no suffix, and a name's own "-data" must stay.
	one := parseGo("BenchmarkOps/cpu/conv1_1/backward-data   1   5 ns/op   7.5 GFLOP/s\n", 1, "avx512")
	if one["Ops/cpu/conv1_1/backward-data"]["GFLOP/s"] != 7.5 {
		t.Errorf("GOMAXPROCS=1: got %v", one)
	}
}

func TestMedian(t *testing.T) {
	if m := median([]float64{3, 1, 2}); m != 2 {
		t.Errorf("median(3,1,2) = %v", m)
	}
	if m := median([]float64{4, 1, 2, 3}); m != 2.5 {
		t.Errorf("median(4,1,2,3) = %v", m)
	}
	if m := median(nil); !math.IsNaN(m) {
		t.Errorf("median() = %v, want NaN", m)
	}
}
