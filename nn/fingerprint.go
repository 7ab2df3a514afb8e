package nn

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"

	"github.com/vgglab/vgg/tensor"
)

// Fingerprint is the SHA-256 of a model's weights, hex-encoded: every parameter in state_dict
// order, as its name, its shape and its float32 values (little-endian), the same tensor data a
// checkpoint holds. Two models have the same fingerprint exactly when they compute the same
// embeddings, whatever file or device they came from; one more training step changes it.
// Galleries record it to refuse another model's embeddings, training states to refuse another
// run's weights.
func (m *Model) Fingerprint() (string, error) {
	b := m.Ctx.Backend
	if b == nil {
		return "", fmt.Errorf("fingerprint: the model has no weights yet")
	}
	h := sha256.New()
	for _, p := range m.Params() {
		host := tensor.Zeros(p.Shape...)
		if err := b.Download(host, p.Value); err != nil {
			return "", fmt.Errorf("fingerprint: %s: %w", p.Name, err)
		}
		h.Write([]byte(p.Name))
		for _, d := range p.Shape {
			binary.Write(h, binary.LittleEndian, int64(d))
		}
		binary.Write(h, binary.LittleEndian, host.Float32s())
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}
