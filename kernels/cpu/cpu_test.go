package cpu

import (
	"testing"

	"github.com/vgglab/vgg/kernels/kerneltest"
)

func TestConformance(t *testing.T) {
	kerneltest.Conformance(t, New(), kerneltest.DefaultTolerance())
}
