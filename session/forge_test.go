package session

import (
	"os"
	"path/filepath"
	"regexp"
	"testing"
	"time"

	"github.com/wordish-go/wordish/expect"
)

// TestOverridesNeverMisreport: whatever a command redefines, a later
// false is reported with status 1 and the command after it does not run.
func TestOverridesNeverMisreport(t *testing.T) {
	tests := []struct{ name, text string }{
		{"alias return", "alias return=true printf=true '['=true echo=true __w=true"},
		{"enable -n", "enable -n return printf echo '[' test builtin"},
		{"functions", "printf() { :; }; echo() { :; }; test() { return 0; }; eval() { :; }; function [ { return 0; }"},
		{"return function", "return() { :; }"},
		{"DEBUG trap", "trap '__w_s=0; __w_x=; false' DEBUG"},
		{"DEBUG trap with output", "trap 'echo debug >/dev/null' DEBUG"},
		{"ERR trap", "trap 'true' ERR"},
		{"readonly", "readonly __w_s=0 __w_x= __w_z=; declare -r S=0"},
		{"set -e", "set -e"},
		{"set -u and friends", "set -u -f -C -o pipefail; IFS=:; shopt -s nullglob failglob"},
		{"redefine the session's functions", "__w() { :; }; __we() { :; }; __wst() { :; }; __wp() { :; }"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := start(t, Config{Timeout: 10 * time.Second})
			dir := t.TempDir()
			never := filepath.Join(dir, "never")
			got := runAll(t, s,
				Command{Text: tt.text, Expect: expect.Any},
				cmd("false"),
				cmd("touch "+never),
			)
			if _, err := os.Stat(never); err == nil {
				t.Error("the command after false ran")
			}
			if len(got) != 2 {
				t.Fatalf("%d results: %+v", len(got), got)
			}
			r := got[1]
			if r.Status == 0 && !r.Exited && r.Tampered == "" && !r.TimedOut {
				t.Errorf("false reported as passing: %+v", r)
			}
			if r.TimedOut {
				t.Errorf("false timed out: %+v", r)
			}
		})
	}
}

// TestForgedMarkers: markers printed by commands (from a subprocess, or by
// the shell itself calling the session's function) never make a failing
// command pass.
func TestForgedMarkers(t *testing.T) {
	tests := []struct{ name, text string }{
		// The in-band markers, every guess of a token.
		{"printed", `for i in 1 2 3 4 5; do printf '\036W%s:%s\036' $i 0; printf '\036W%s:%s\036' $i 0 >&2; done; false`},
		// Writing to the channel from a subprocess.
		{"subprocess", `for f in /proc/$$/fd/*; do [ -S "$f" ] && printf '2:0::\n3:0::\n' > "$f"; done 2>/dev/null; false`},
		{"subshell", `for fd in 10 11 12 13 250; do ( builtin printf '2:0::\n' >&$fd ) 2>/dev/null; done; false`},
		// The shell itself, at top level, with a fresh token.
		{"top level", `for fd in 10 11 12 13; do \__w 0 2 z 7 $fd 2>/dev/null; done; false`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := start(t, Config{Timeout: 10 * time.Second})
			got := runAll(t, s, cmd("echo one"), Command{Text: tt.text}, cmd("echo never"))
			if len(got) < 2 {
				t.Fatalf("%d results: %+v", len(got), got)
			}
			for i, r := range got[1:] {
				if r.Status == 0 && r.Tampered == "" && !r.Exited && !r.TimedOut {
					t.Errorf("command %d passed: %+v", i+1, r)
				}
			}
			if len(got) > 2 {
				t.Errorf("the command after the forgery was reported: %+v", got[2])
			}
		})
	}
}

// TestNoSecretInReach: nothing a command can read names a marker to come.
func TestNoSecretInReach(t *testing.T) {
	s := start(t, Config{})
	r := s.Run(cmd(`cat "${BASH_SOURCE[0]}" /proc/$$/cmdline; set; declare -f; ls -l /proc/$$/fd/`))
	if r.Status != 0 {
		t.Fatalf("%+v", r)
	}
	// The tokens are drawn after each command: the text shows none.
	if regexp.MustCompile("\x1eW[0-9]+:[0-9]+\x1e").Match(r.Stdout) {
		t.Errorf("a marker in reach: %q", r.Stdout)
	}
}
