package lookalike

import (
	"fmt"

	"github.com/vgglab/vgg/gallery"
	"github.com/vgglab/vgg/report"
	"github.com/vgglab/vgg/vision"
)

// Result is one photo's answer as data: what 'vgg match --json' prints and 'vgg serve' answers
// on its JSON endpoint. Warnings are about the model or its gallery (see Model.Warnings), the
// same for every photo.
type Result struct {
	Photo    string       `json:"photo"`
	Faces    []FaceResult `json:"faces,omitempty"`
	Note     string       `json:"note,omitempty"`
	Warnings []string     `json:"warnings,omitempty"`
	Error    string       `json:"error,omitempty"`
	Report   string       `json:"report,omitempty"`
}

// FaceResult is the answer for one face. Box is where it is in the photo, [x, y, width,
// height] as 'vgg detect' gives it (absent when no face was detected); Detection is the
// detector's confidence. Confidence is the level ("confident", "fairly sure", "unsure",
// "chance"), ConfidenceWords says it as a person reads it and ConfidenceNote with the numbers.
type FaceResult struct {
	Face            int     `json:"face"`
	Box             *[4]int `json:"box,omitempty"`
	Detection       int     `json:"detection_confidence,omitempty"`
	Matches         []Match `json:"matches"`
	Confidence      string  `json:"confidence,omitempty"`
	ConfidenceWords string  `json:"confidence_words,omitempty"`
	ConfidenceNote  string  `json:"confidence_note,omitempty"`
	CAMIdentity     string  `json:"heatmap_identity,omitempty"`
}

// Match is one identity a face resembles. Probability is missing for an identity enrolled
// after training (the classifier does not know it), the gallery fields when there is no
// gallery photo of the identity (or the gallery's embeddings have collapsed).
type Match struct {
	Identity     string   `json:"identity"`
	Probability  *float64 `json:"probability,omitempty"`
	GalleryScore *float64 `json:"gallery_score,omitempty"`
	ClosestPhoto string   `json:"closest_photo,omitempty"`
	Similarity   *float64 `json:"similarity,omitempty"`
}

// Result is the answer as data.
func (mt *Matcher) Result(a *Answer) Result {
	r := Result{Photo: a.Path}
	if a.Err != nil {
		r.Error = a.Err.Error()
		return r
	}
	r.Note, r.Warnings = a.Remark(mt.Faces), mt.Warnings
	for _, f := range a.Faces {
		fr := FaceResult{Face: f.Number, Detection: f.Detection, Matches: mt.matches(f.Candidates),
			Confidence: f.Confidence.Level, ConfidenceWords: f.Confidence.Words, ConfidenceNote: f.Confidence.Note,
			CAMIdentity: f.CAMIdentity}
		if !f.Box.Empty() {
			fr.Box = &[4]int{f.Box.Min.X, f.Box.Min.Y, f.Box.Dx(), f.Box.Dy()}
		}
		r.Faces = append(r.Faces, fr)
	}
	return r
}

// matches are the data form of the candidates; without their closest gallery photos when the
// gallery's embeddings have collapsed.
func (mt *Matcher) matches(cands []gallery.Candidate) []Match {
	out := []Match{}
	for _, cd := range cands {
		e := Match{Identity: cd.Identity}
		if cd.Known {
			p := float64(cd.Probability)
			e.Probability = &p
		}
		if mt.By == gallery.ByEmbedding {
			s := float64(cd.Score)
			e.GalleryScore = &s
		}
		if cd.HasClosest && !mt.Collapsed {
			s := float64(cd.Closest.Similarity)
			e.ClosestPhoto, e.Similarity = cd.Closest.Entry.Path, &s
		}
		out = append(out, e)
	}
	return out
}

// Report is the page of the answer: the photo (its preview) with its faces outlined, and for each face what
// the network saw, its heatmap, how far to trust it, and its matches with their closest
// gallery photos (read from the gallery's files; one that has moved leaves a gap).
func (mt *Matcher) Report(a *Answer) *report.Report {
	r := &report.Report{
		PhotoPath: a.Path,
		Photo:     a.Photo.Image,
		RankedBy:  string(mt.By),
		Model:     mt.Path,
		Warnings:  mt.Warnings,
		NoClosest: mt.Collapsed,
		Framing:   mt.framingText(a.Photo, len(a.Faces)),
	}
	for _, f := range a.Faces {
		rf := report.Face{Number: f.Number, Box: a.Photo.PreviewBox(f.Box), Picture: f.Picture, CAMIdentity: f.CAMIdentity,
			Confidence: f.Confidence.Note, Doubtful: f.Confidence.Doubtful()}
		if f.Heatmap != nil {
			rf.Heatmap = f.Heatmap
		}
		for _, cd := range f.Candidates {
			m := report.Match{Identity: cd.Identity, Probability: cd.Probability, HasProbability: cd.Known,
				Score: cd.Score, HasScore: mt.By == gallery.ByEmbedding}
			if cd.HasClosest && !mt.Collapsed {
				m.ClosestPath, m.Similarity = cd.Closest.Entry.Path, cd.Closest.Similarity
				if img, err := vision.Load(cd.Closest.Entry.Path); err == nil {
					m.Closest = img
				}
			}
			rf.Matches = append(rf.Matches, m)
		}
		r.Faces = append(r.Faces, rf)
	}
	return r
}

// framingText says on the page how the faces were taken from the photo.
func (mt *Matcher) framingText(p *Photo, answered int) string {
	switch {
	case p.CentreSquare:
		return "Taken as a face crop, the centre square: the model was trained on face crops, or --aligned said so."
	case p.WholePhoto:
		return "No face found: the whole photo was matched as if it were a face crop."
	case p.Found() == 1:
		return "The face found (green box), aligned by the eyes."
	case answered == 1:
		return fmt.Sprintf("%d faces found; the most confident (green box) is answered, aligned by the eyes.", p.Found())
	}
	return fmt.Sprintf("%d faces found (green boxes, numbered most confident first), each aligned by the eyes and answered below.", p.Found())
}
