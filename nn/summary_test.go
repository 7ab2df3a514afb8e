package nn

import (
	"regexp"
	"strings"
	"testing"
)

func TestWriteSummary(t *testing.T) {
	m, err := VGGD(Config{Classes: 30})
	if err != nil {
		t.Fatal(err)
	}
	var out strings.Builder
	if err := m.WriteSummary(&out); err != nil {
		t.Fatal(err)
	}
	text := out.String()
	for _, want := range []string{
		`(?m)^input +RGB image +3 x 128 x 128$`,
		`(?m)^cnn\.0 +conv 3x3, 3 -> 64 +64 x 128 x 128 +1,792 +56\.6 M$`,
		`(?m)^cnn\.4 +max pool 2x2 +64 x 64 x 64$`,
		`(?m)^cnn\.29 +relu +512 x 8 x 8 +<- feature maps \(Grad-CAM\)$`,
		`(?m)^cnn\.30 +max pool 2x2 +512 x 4 x 4$`,
		`(?m)^flatten +flatten +8192 +<- embedding$`,
		`(?m)^fc\.0 +linear, 8192 -> 4096 +4096 +33,558,528 +67\.1 M$`,
		`(?m)^fc\.4 +relu +2048$`,
		`(?m)^fc\.6 +linear, 2048 -> 30 +30 +61,470 +122\.9 k$`,
		`(?m)^total +56,725,342 +10\.106 G$`,
	} {
		if !regexp.MustCompile(want).MatchString(text) {
			t.Errorf("summary lacks a line matching %s:\n%s", want, text)
		}
	}
	// One line per layer plus header, input and total.
	rows := regexp.MustCompile(`(?m)^(cnn|fc)\.\d+ `).FindAllString(text, -1)
	if len(rows) != 31+7 {
		t.Errorf("summary has %d layer rows, want 38", len(rows))
	}
}
