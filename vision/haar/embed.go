package haar

import (
	"bytes"
	_ "embed"
	"fmt"
	"sync"
)

// The default cascades were trained by this package's trainer (see recipe_test.go for the
// data and settings) and are compiled into the binary.
var (
	//go:embed data/frontalface.xml
	frontalFaceXML []byte
	//go:embed data/eye.xml
	eyeXML []byte
)

// FrontalFace returns the embedded frontal-face cascade (24x24 window). Its boxes are about
// as tight as dlib's: eyes a third of the way down, chin at the bottom edge.
func FrontalFace() *Cascade { return frontalFace() }

// Eye returns the embedded eye cascade (20x20 window, about 0.7 inter-ocular distances
// across, centred on the eye), trained for eyes in an upright face.
func Eye() *Cascade { return eye() }

var (
	frontalFace = embedded("data/frontalface.xml", frontalFaceXML)
	eye         = embedded("data/eye.xml", eyeXML)
)

// embedded parses an embedded cascade once, on first use. The files are part of the source
// tree and checked by the tests, so a parse failure is a build defect and panics.
func embedded(name string, data []byte) func() *Cascade {
	return sync.OnceValue(func() *Cascade {
		c, err := Read(bytes.NewReader(data))
		if err != nil {
			panic(fmt.Sprintf("embedded cascade %s: %v", name, err))
		}
		return c
	})
}
