package nn

import "fmt"

// InitFrom copies into m every parameter and buffer of src (a model on the same backend) whose
// name and shape m has too, so that a network trained on other people starts a new one
// (fine-tuning): the convolutions and the first linear layers carry over, and a classifier for
// another number of identities keeps its fresh initialisation. It returns the names left
// fresh. The two models must be the same architecture at the same width and input size.
func (m *Model) InitFrom(src *Model) (fresh []string, err error) {
	if m.Config.Arch != src.Config.Arch || m.Config.InputSize != src.Config.InputSize || m.Config.WidthDivisor != src.Config.WidthDivisor {
		return nil, fmt.Errorf("a %s model of input %d and width divisor %d cannot start a %s model of input %d and width divisor %d",
			src.Config.Arch, src.Config.InputSize, src.Config.WidthDivisor, m.Config.Arch, m.Config.InputSize, m.Config.WidthDivisor)
	}
	from := map[string]namedTensor{}
	for _, nt := range src.floatState() {
		from[nt.name] = nt
	}
	b := m.Ctx.Backend
	for _, nt := range m.floatState() {
		s, ok := from[nt.name]
		if !ok || !s.t.Shape().Equal(nt.t.Shape()) {
			fresh = append(fresh, nt.name)
			continue
		}
		if err := b.Copy(nt.t, s.t); err != nil {
			return nil, fmt.Errorf("%s: %w", nt.name, err)
		}
	}
	return fresh, nil
}
