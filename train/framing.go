package train

import (
	"image"
	"sync"
)

// Framing turns a decoded photo into the picture the network is to see (before resizing),
// say by finding and aligning the face, and may return a note worth telling the user, such as
// "2 faces found: matched the largest". Nil framing takes the centre square of the photo.
type Framing func(image.Image) (framed image.Image, note string, err error)

// forDataset adapts the framing to dataset.SourceOptions.Preprocess, which has no notes:
// they are tallied in notes instead, so the run can say how many photos had one.
func (f Framing) forDataset(notes *noteTally) func(image.Image) (image.Image, error) {
	if f == nil {
		return nil
	}
	return func(img image.Image) (image.Image, error) {
		framed, note, err := f(img)
		if note != "" {
			notes.add(note)
		}
		return framed, err
	}
}

// noteTally counts the framing's notes on the photos of a collection, keeping one example.
type noteTally struct {
	mu      sync.Mutex
	count   int
	example string
}

func (n *noteTally) add(note string) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.count++
	if n.example == "" {
		n.example = note
	}
}
