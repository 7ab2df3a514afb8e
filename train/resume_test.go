package train

import (
	"reflect"
	"strings"
	"testing"
)

// The resume state is stored as the trainer's Extra, one key per value: what it writes reads
// back whole, and a state written before the weights' fingerprint and the AllowChance choice
// were recorded (the keys spelled as every earlier version wrote them) still reads.
func TestResumeStateOnDisk(t *testing.T) {
	st := resumeState{Weights: "ab12", Settings: DemoSettings(), EpochStep: 7, EpochTally: tally{LossSum: 3.5, Correct: 2, Count: 8},
		EpochSeconds: 1.25, Report: &Report{Status: "interrupted", Classes: []string{"a", "b"}, BestEpoch: 1,
			Epochs: []EpochMetrics{{Epoch: 1, TrainLoss: 0.7}}}, AllowChance: true}
	extra, err := st.extras()
	if err != nil {
		t.Fatal(err)
	}
	back, err := readResumeState(extra)
	if err != nil || !reflect.DeepEqual(back, st) {
		t.Errorf("read back %+v (%v), want %+v", back, err, st)
	}

	old := map[string]string{
		"settings":      extra["settings"],
		"epoch_step":    "3",
		"epoch_tally":   `{"loss_sum":1.5,"correct":1,"count":4}`,
		"epoch_seconds": "0.5",
		"report":        `{"status":"interrupted"}`,
	}
	got, err := readResumeState(old)
	if err != nil || got.Weights != "" || got.AllowChance || got.EpochStep != 3 || got.EpochTally != (tally{1.5, 1, 4}) ||
		got.EpochSeconds != 0.5 || got.Report.Status != "interrupted" {
		t.Errorf("an earlier version's state: %+v (%v)", got, err)
	}
	for key, want := range map[string]string{"settings": "no usable settings", "epoch_step": "epoch step", "report": "report"} {
		broken := map[string]string{}
		for k, v := range old {
			broken[k] = v
		}
		broken[key] = "{"
		if _, err := readResumeState(broken); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("state with a broken %s: error %v, want one saying %q", key, err, want)
		}
	}
}
