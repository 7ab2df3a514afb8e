package simd

import (
	"os"
	"testing"
)

func TestParseCap(t *testing.T) {
	for _, c := range []struct {
		in      string
		want    Level
		wantErr bool
	}{
		{"", AVX512, false}, {"go", Go, false}, {"AVX2", AVX2, false}, {"avx512", AVX512, false},
		{"sse", Go, true}, {"avx-2", Go, true},
	} {
		got, err := parseCap(c.in)
		if got != c.want || (err != nil) != c.wantErr {
			t.Errorf("parseCap(%q) = %v, %v; want %v, error %v", c.in, got, err, c.want, c.wantErr)
		}
	}
}

func TestLevels(t *testing.T) {
	if !Allowed(Go) {
		t.Error("plain Go is always allowed")
	}
	if Best() > hardware {
		t.Errorf("best level %v is above what the CPU has (%v)", Best(), hardware)
	}
	if !Allowed(Best()) {
		t.Errorf("best level %v is not allowed", Best())
	}
	t.Logf("CPU runs up to %v; %s=%q allows up to %v", hardware, EnvVar, os.Getenv(EnvVar), Best())
	if u := Unavailable(); u != "" {
		t.Logf("not run here: %s", u)
	}
}
