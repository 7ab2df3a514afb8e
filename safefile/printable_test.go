package safefile

import "testing"

func TestPrintable(t *testing.T) {
	for in, want := range map[string]string{
		"Keanu Reeves":   "Keanu Reeves",
		"아이유":            "아이유",
		"a\x1b[31mb":     `a\x1b[31mb`,
		"line\nbreak\t!": `line\nbreak\t!`,
		"bad\xffbyte":    `bad\xffbyte`,
		"\u202e":         `\u202e`,
	} {
		if got := Printable(in); got != want {
			t.Errorf("Printable(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestPrintableLines(t *testing.T) {
	if got, want := PrintableLines("a\x1b[2J\nb\rc"), "a\\x1b[2J\nb\\rc"; got != want {
		t.Errorf("PrintableLines = %q, want %q", got, want)
	}
}
