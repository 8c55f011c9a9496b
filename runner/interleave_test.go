package runner

import (
	"testing"
	"time"

	"github.com/wordish-go/wordish/parser"
	"github.com/wordish-go/wordish/session"
)

// TestJudgeStreamOrder: the two streams' lines in the order the article
// shows them pass, whatever order they reached wordish in; each stream's
// own order and content still count.
func TestJudgeStreamOrder(t *testing.T) {
	tests := []struct {
		name           string
		opts           parser.Options
		expected       string
		stdout, stderr string
		transcript     string // as the lines reached wordish
		want           Outcome
		wantActual     string
	}{
		{"burst, read out of order", parser.Options{}, "a\nb\nc\nd", "a\nc\n", "b\nd\n", "a\nc\nb\nd\n", Passed, "a\nb\nc\nd\n"},
		{"stderr first", parser.Options{}, "err\nout", "out\n", "err\n", "out\nerr\n", Passed, "err\nout\n"},
		{"standard output alone", parser.Options{}, "a\nc", "a\nc\n", "b\n", "b\na\nc\n", Passed, "a\nc\n"},
		{"stdout's own order", parser.Options{}, "c\nb\na", "a\nc\n", "b\n", "a\nb\nc\n", Failed, ""},
		{"a line of neither", parser.Options{}, "a\nx\nc", "a\nc\n", "b\n", "a\nb\nc\n", Failed, ""},
		{"a line missing", parser.Options{}, "a\nb", "a\nc\n", "b\n", "a\nb\nc\n", Failed, ""},
		{"regex lines", parser.Options{Regex: true}, "a\nb+\nc", "a\nc\n", "bbb\n", "a\nc\nbbb\n", Passed, "a\nbbb\nc\n"},
		{"norm-ws", parser.Options{NormWS: true}, "a  1\nb\nc", "a 1\nc\n", "b\n", "a 1\nc\nb\n", Passed, "a 1\nb\nc\n"},
		{"wildcard line: arrival order only", parser.Options{}, "a\n...\nb\nc", "a\nc\n", "b\n", "a\nc\nb\n", Failed, ""},
	}
	for _, tt := range tests {
		step := &parser.Step{File: "f.md", Line: 1, Command: "x", Expected: tt.expected, Options: tt.opts}
		res := session.Result{Stdout: []byte(tt.stdout), Stderr: []byte(tt.stderr), Transcript: []byte(tt.transcript)}
		sr := judge(step, session.Command{}, res, time.Second)
		if sr.Outcome != tt.want || tt.want == Passed && sr.Actual != tt.wantActual {
			t.Errorf("%s: outcome %s, actual %q; want %s, %q", tt.name, sr.Outcome, sr.Actual, tt.want, tt.wantActual)
		}
	}
}

// TestInterleaveBounded: streams too long to search give no candidate
// rather than a quadratic search.
func TestInterleaveBounded(t *testing.T) {
	var out, errs, exp []byte
	for range 2000 {
		out = append(out, "o\n"...)
		errs = append(errs, "e\n"...)
		exp = append(exp, "o\ne\n"...)
	}
	m := Compile(string(exp), parser.Options{})
	if c := interleave(m, string(exp), string(out), string(errs)); c != "" {
		t.Errorf("interleave searched %d x %d lines", 2000, 2000)
	}
	if c := interleave(m, "o\ne", "o\n", "e\n"); c != "o\ne\n" {
		t.Errorf("small: %q", c)
	}
}
