package train

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/vgglab/vgg/nn"
)

// resumeState is what a saved run keeps, beside the weights and the optimiser's state, to
// continue exactly where it stopped. On disk it is the trainer state's Extra, one key per
// field (see the extra* keys), the structured ones as JSON: the format of every state saved so
// far, so that all of them still resume.
type resumeState struct {
	// Weights is the fingerprint of the weights saved beside the state (model.last); "" in
	// states saved before it was recorded.
	Weights  string
	Settings Settings
	// Where the current epoch stands: batches done, their tallies and the seconds spent, so
	// that an interrupted epoch resumes at the next batch with its metrics whole.
	EpochStep    int
	EpochTally   tally
	EpochSeconds float64
	// Report is the run's report so far.
	Report *Report
	// AllowChance records Options.AllowChance, so that a resumed run keeps the choice the run
	// was started with without the flag being repeated.
	AllowChance bool
}

// Extra keys of the training state, one per field of resumeState.
const (
	extraSettings    = "settings"
	extraEpochStep   = "epoch_step"
	extraEpochTally  = "epoch_tally"
	extraEpochSecs   = "epoch_seconds"
	extraReport      = "report"
	extraWeights     = "weights_sha256"
	extraAllowChance = "allow_chance"
)

// extras is the state as the trainer saves it.
func (st resumeState) extras() (map[string]string, error) {
	settings, err := json.Marshal(st.Settings)
	if err != nil {
		return nil, err
	}
	tally, err := json.Marshal(st.EpochTally)
	if err != nil {
		return nil, err
	}
	report, err := json.Marshal(st.Report)
	if err != nil {
		return nil, err
	}
	extra := map[string]string{
		extraWeights:    st.Weights,
		extraSettings:   string(settings),
		extraEpochStep:  strconv.Itoa(st.EpochStep),
		extraEpochTally: string(tally),
		extraEpochSecs:  strconv.FormatFloat(st.EpochSeconds, 'g', -1, 64),
		extraReport:     string(report),
	}
	if st.AllowChance {
		extra[extraAllowChance] = "true"
	}
	return extra, nil
}

// readResumeState reads the state from the trainer's saved Extra; an error names the value
// that is missing or unreadable.
func readResumeState(extra map[string]string) (resumeState, error) {
	st := resumeState{Weights: extra[extraWeights], AllowChance: extra[extraAllowChance] == "true", Report: &Report{}}
	if err := json.Unmarshal([]byte(extra[extraSettings]), &st.Settings); err != nil {
		return st, fmt.Errorf("no usable settings: %v", err)
	}
	var err error
	if st.EpochStep, err = strconv.Atoi(extra[extraEpochStep]); err != nil {
		return st, fmt.Errorf("epoch step: %v", err)
	}
	if st.EpochSeconds, err = strconv.ParseFloat(extra[extraEpochSecs], 64); err != nil {
		return st, fmt.Errorf("epoch seconds: %v", err)
	}
	if err := json.Unmarshal([]byte(extra[extraEpochTally]), &st.EpochTally); err != nil {
		return st, fmt.Errorf("%s: %v", extraEpochTally, err)
	}
	if err := json.Unmarshal([]byte(extra[extraReport]), st.Report); err != nil {
		return st, fmt.Errorf("%s: %v", extraReport, err)
	}
	return st, nil
}

// restoreState loads the optimiser state, counters and the run's own values, and checks that
// the run continues with the settings it was started with.
func (r *run) restoreState() error {
	t := r.trainer
	if err := t.LoadState(r.paths.LastState); err != nil {
		return fmt.Errorf("train: resume: %w", err)
	}
	st, readErr := readResumeState(t.Extra)
	// The model and its state are two files: one copied from another run, or from another
	// epoch of this one, must not resume silently. (States from before the fingerprint was
	// recorded have none.)
	if want := st.Weights; want != "" {
		got, err := r.model.Fingerprint()
		if err != nil {
			return fmt.Errorf("train: resume: %w", err)
		}
		if got != want {
			return fmt.Errorf("train: resume: %s does not hold the weights %s was saved with (another run's or another epoch's); resume from a matching pair or start afresh",
				r.paths.Last, r.paths.LastState)
		}
	}
	if readErr != nil {
		return fmt.Errorf("train: resume: %s: %w", r.paths.LastState, readErr)
	}
	if diff := settingsDiff(st.Settings, r.s); diff != "" {
		return fmt.Errorf("train: resume: %s was started with other settings (%s); a resumed run must use the same ones",
			r.paths.LastState, diff)
	}
	r.epochStep, r.epochSeconds, r.epochTally, r.report = st.EpochStep, st.EpochSeconds, st.EpochTally, st.Report
	r.report.Status, r.report.Message, r.report.Device = "running", "", r.b.Describe()
	if st.AllowChance {
		r.o.AllowChance = true
	}
	r.logf("resuming %s at epoch %d, batch %d of %d (step %d)", r.paths.Last, t.Epoch+1, r.epochStep, r.batches, t.Steps)
	return nil
}

// settingsDiff lists the settings that differ, as "batch_size 32 -> 64".
func settingsDiff(saved, now Settings) string {
	a, _ := json.Marshal(saved)
	b, _ := json.Marshal(now)
	var ma, mb map[string]any
	json.Unmarshal(a, &ma)
	json.Unmarshal(b, &mb)
	var diffs []string
	for _, k := range slices.Sorted(maps.Keys(ma)) {
		x, _ := json.Marshal(ma[k])
		y, _ := json.Marshal(mb[k])
		if string(x) != string(y) {
			diffs = append(diffs, fmt.Sprintf("%s %s, now %s", k, x, y))
		}
	}
	return strings.Join(diffs, "; ")
}

// save writes the last checkpoint (model and training state) and, when best, the best model.
// Each file is written atomically; the weights are checked first, so a NaN never reaches disk.
func (r *run) save(best bool) error {
	if err := r.checkWeights(); err != nil {
		return err
	}
	t := r.trainer
	weights, err := r.model.Fingerprint()
	if err != nil {
		return err
	}
	st := resumeState{Weights: weights, Settings: r.s, EpochStep: r.epochStep, EpochTally: r.epochTally,
		EpochSeconds: r.epochSeconds, Report: r.report, AllowChance: r.o.AllowChance}
	if t.Extra, err = st.extras(); err != nil {
		return err
	}
	if best {
		if err := nn.SaveModel(r.paths.Best, r.model, r.info); err != nil {
			return err
		}
	}
	if err := nn.SaveModel(r.paths.Last, r.model, r.info); err != nil {
		return err
	}
	return t.SaveState(r.paths.LastState)
}
