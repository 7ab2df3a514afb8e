package cuda

import (
	"testing"

	"github.com/vgglab/vgg/kernels"
)

// TestDropoutThresholdMatchesKeepRule checks the GPU's integer keep rule against
// kernels.DropoutKeep, including probabilities that fall between and exactly on multiples of
// 2^-24.
func TestDropoutThresholdMatchesKeepRule(t *testing.T) {
	ps := []float32{0, 0.1, 0.3, 0.5, 0.9, 1.0 / (1 << 24), 3.0 / (1 << 24), 1 - 1.0/(1<<24), 0.123456789}
	for _, p := range ps {
		thr := dropoutThreshold(p)
		for _, seed := range []uint64{0, 42, 0xdeadbeefcafef00d} {
			for i := uint64(0); i < 20000; i++ {
				x := kernels.UniformBits(seed, i)
				if got, want := x>>8 >= thr, kernels.DropoutKeep(seed, i, p); got != want {
					t.Fatalf("p=%v seed=%d i=%d: threshold rule keeps=%v, DropoutKeep=%v", p, seed, i, got, want)
				}
			}
		}
	}
	// Values of x>>8 right at the threshold decide exactly as Uniform does.
	for _, p := range ps {
		thr := dropoutThreshold(p)
		for _, v := range []uint32{thr - 1, thr, thr + 1} {
			if v >= 1<<24 {
				continue
			}
			u := float32(v) * (1.0 / (1 << 24))
			if (v >= thr) != (u >= p) {
				t.Errorf("p=%v: x>>8=%d gives %v by threshold, %v by Uniform", p, v, v >= thr, u >= p)
			}
		}
	}
}
