package train

import (
	"context"
	"fmt"
	"image"

	"github.com/vgglab/vgg/kernels"
	"github.com/vgglab/vgg/nn"
	"github.com/vgglab/vgg/tensor"
	"github.com/vgglab/vgg/vision"
)

// Framing turns a decoded photo into the picture the network is to see (before resizing),
// say by finding and aligning the face, and may return a note worth telling the user, such as
// "2 faces found: matched the largest". Nil framing takes the centre square of the photo.
type Framing func(image.Image) (framed image.Image, note string, err error)

// Predictor answers "whom does this photo look like" with a trained model.
type Predictor struct {
	Model   *nn.Model
	Info    nn.ModelInfo
	b       kernels.Backend
	framing Framing
	// ownBackend is set when the predictor opened its backend and must close it.
	ownBackend bool
	inputs     *staging
}

// Match is one candidate identity for a photo.
type Match struct {
	Identity    string  `json:"identity"`
	Probability float64 `json:"probability"`
}

// Prediction is the answer for one photo: its best matches, most likely first, how far to
// trust them, and the framing's note, or the error that kept it from being matched (a file that
// is not an image).
type Prediction struct {
	Path       string
	Matches    []Match
	Confidence Confidence
	Note       string
	Err        error
}

// OpenPredictor opens the device and loads the model file at path. framing should frame
// photos as they were framed for training.
func OpenPredictor(device, path string, framing Framing) (*Predictor, error) {
	b, err := kernels.Open(device)
	if err != nil {
		return nil, err
	}
	p, err := NewPredictor(b, path, framing)
	if err != nil {
		b.Close()
		return nil, err
	}
	p.ownBackend = true
	return p, nil
}

// NewPredictor loads the model file at path onto backend b.
func NewPredictor(b kernels.Backend, path string, framing Framing) (*Predictor, error) {
	m, info, err := nn.LoadModel(b, path)
	if err != nil {
		return nil, err
	}
	return &Predictor{Model: m, Info: info, b: b, framing: framing, inputs: newStaging(b)}, nil
}

// Close releases the model (and the backend when the predictor opened it).
func (p *Predictor) Close() {
	p.inputs.release()
	p.Model.Release()
	if p.ownBackend {
		p.b.Close()
	}
}

// predictBatch is how many photos go through the network at once.
const predictBatch = 32

// Predict matches each photo and returns one Prediction per path, in order, with at most topK
// matches each. A photo that cannot be read gets its error in its Prediction and the others
// go on; the returned error is for what stops everything (the device, a cancelled context).
func (p *Predictor) Predict(ctx context.Context, paths []string, topK int) ([]Prediction, error) {
	size := p.Model.Config.InputSize
	plane := 3 * size * size
	norm := vision.Normalization{Mean: p.Info.Mean, Std: p.Info.Std}
	classes := len(p.Info.ClassNames)
	preds := make([]Prediction, len(paths))
	for start := 0; start < len(paths); start += predictBatch {
		if err := ctx.Err(); err != nil {
			return preds, err
		}
		// Load this stretch of photos; the readable ones form the batch.
		var rows []int
		var pixels []float32
		for i := start; i < min(start+predictBatch, len(paths)); i++ {
			preds[i].Path = paths[i]
			img, note, err := p.load(paths[i])
			if err != nil {
				preds[i].Err = err
				continue
			}
			preds[i].Note = note
			pixels = append(pixels, make([]float32, plane)...)
			vision.ToCHW(img, norm, pixels[len(pixels)-plane:])
			rows = append(rows, i)
		}
		if len(rows) == 0 {
			continue
		}
		x, err := tensor.FromFloat32(pixels, len(rows), 3, size, size)
		if err != nil {
			return preds, err
		}
		logits, err := forward(p.Model, p.inputs, x)
		if err != nil {
			return preds, fmt.Errorf("matching: %w", err)
		}
		for k, i := range rows {
			probs := softmax(logits[k*classes : (k+1)*classes])
			preds[i].Confidence = JudgeAnswer(probs, p.Info.ClassNames)
			for _, class := range ranked(probs)[:min(topK, classes)] {
				preds[i].Matches = append(preds[i].Matches, Match{Identity: p.Info.ClassNames[class], Probability: probs[class]})
			}
		}
	}
	return preds, nil
}

// load decodes, frames and resizes one photo, as training's dataset.Source does.
func (p *Predictor) load(path string) (*image.RGBA, string, error) {
	photo, err := vision.Load(path)
	if err != nil {
		return nil, "", err
	}
	note := ""
	if p.framing != nil {
		if photo, note, err = p.framing(photo); err != nil {
			return nil, "", &vision.FileError{Path: path, Err: err}
		}
	}
	return vision.SquareResize(photo, p.Model.Config.InputSize), note, nil
}
