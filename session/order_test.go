package session

import (
	"strings"
	"testing"

	"github.com/wordish-go/wordish/expect"
)

// burst writes to both streams, alternately, microseconds apart.
const burst = `printf 'a\n'; printf 'b\n' >&2; printf 'c\n'; printf 'd\n' >&2; ls /nonexistent-order; echo e`

// TestMergedOrder: a merged command's output is the two streams in the
// order written, every time, also within a burst; both descriptors are
// terminals; bash's own error messages read as at a prompt.
func TestMergedOrder(t *testing.T) {
	s := start(t, Config{})
	want := "a\nb\nc\nd\nls: cannot access '/nonexistent-order': No such file or directory\ne\n"
	for i := range 30 {
		r := s.Run(Command{Text: burst, Merged: true})
		if got := string(r.Stdout); got != want || !r.Merged || len(r.Stderr) != 0 || string(r.Transcript) != want {
			t.Fatalf("run %d: stdout %q stderr %q transcript %q merged %v, want stdout %q", i, got, r.Stderr, r.Transcript, r.Merged, want)
		}
	}
	cases := []struct{ text, want string }{
		{"[ -t 1 ] && [ -t 2 ] && echo both terminals", "both terminals\n"},
		{"nosuchcommand-order", "bash: nosuchcommand-order: command not found\n"},
		// Several lines go through eval.
		{"echo x\necho y >&2", "x\ny\n"},
		{"cat <<EOF >&2\nheredoc\nEOF", "heredoc\n"},
	}
	for _, c := range cases {
		r := s.Run(Command{Text: c.text, Merged: true, Expect: expect.Any})
		if string(r.Stdout) != c.want || len(r.Stderr) != 0 {
			t.Errorf("%q: stdout %q stderr %q, want stdout %q", c.text, r.Stdout, r.Stderr, c.want)
		}
	}
	// State persists as at a prompt: the group runs in the shell itself.
	if r := s.Run(Command{Text: "v=merged; cd /", Merged: true}); r.Status != 0 {
		t.Fatalf("%+v", r)
	}
	if r := s.Run(Command{Text: "echo $v $PWD"}); string(r.Stdout) != "merged /\n" {
		t.Errorf("state after a merged command: %q", r.Stdout)
	}
	// Apart again: standard error is its own stream.
	r := s.Run(Command{Text: "echo out; echo err >&2"})
	if string(r.Stdout) != "out\n" || string(r.Stderr) != "err\n" || r.Merged {
		t.Errorf("apart after merged: %+v", r)
	}
	// exec runs apart: a group's redirection would undo its own.
	r = s.Run(Command{Text: "exec 3>/dev/null; echo err >&2", Merged: true})
	if r.Merged || string(r.Stderr) != "err\n" {
		t.Errorf("exec merged: %+v", r)
	}
}

// TestApartOrder counts the runs of a burst whose transcript comes out
// of order with standard error on a terminal of its own (the order is
// not promised there; see the package doc). Run with -v to see it.
func TestApartOrder(t *testing.T) {
	s := start(t, Config{})
	want := "a\nb\nc\nd\nls: cannot access '/nonexistent-order': No such file or directory\ne\n"
	wrong := 0
	for range 30 {
		r := s.Run(Command{Text: burst})
		if string(r.Stdout) != "a\nc\ne\n" || !strings.HasPrefix(string(r.Stderr), "b\nd\nls: ") {
			t.Fatalf("streams: %+v", r)
		}
		if string(r.Transcript) != want {
			wrong++
		}
	}
	t.Logf("apart: transcript out of order in %d of 30 runs", wrong)
}
