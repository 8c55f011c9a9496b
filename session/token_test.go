package session

import (
	"testing"
	"time"

	"github.com/wordish-go/wordish/expect"
)

// TestTokensNotChosen: a document cannot choose the markers' tokens
// (unset SRANDOM, then give it a value) and so cannot write, ahead of
// time, the end of the next command with the output it wants.
func TestTokensNotChosen(t *testing.T) {
	s := start(t, Config{Timeout: 10 * time.Second})
	// Commands 1, 2, 3 of the session's first batch: the second ends its
	// own output and writes the third's, each with the token 7.
	forge := `printf 'two\n\036W2:7\036forged\n\036W3:7\036'; printf '\036W2:7\036\036W3:7\036' >&2`
	got := runAll(t, s,
		Command{Text: "unset SRANDOM; SRANDOM=7", Expect: expect.Any},
		cmd(forge),
		cmd("echo three"),
	)
	if len(got) == 3 && got[2].Status == 0 && got[2].Tampered == "" && string(got[2].Stdout) != "three\n" {
		t.Errorf("the third command reported with forged output: %+v", got[2])
	}
	for i, r := range got {
		if string(r.Stdout) == "forged\n" && r.Status == 0 && r.Tampered == "" {
			t.Errorf("command %d passed with forged output: %+v", i, r)
		}
	}
}
