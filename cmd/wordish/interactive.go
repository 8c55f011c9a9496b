package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"

	"golang.org/x/sys/unix"

	"github.com/wordish-go/wordish/report"
	"github.com/wordish-go/wordish/runner"
)

// The commands for an author at the keyboard (update -i, step, watch,
// --shell-on-failure) read single keys from the terminal.

// needTerminal is the error of an interactive command whose standard
// input is not a terminal.
func needTerminal(what string) error {
	if _, err := unix.IoctlGetTermios(int(os.Stdin.Fd()), unix.TCGETS); err != nil {
		return fmt.Errorf("%s needs a terminal (it reads keys), but standard input is not a terminal", what)
	}
	return nil
}

// readKey reads one key from the terminal on fd, without echo and
// without waiting for Enter, until it is one of valid, and returns it.
// Enter reads as '\n'. Ctrl-C, Ctrl-D and the end of input read as 'q'
// (the terminal is in raw mode, so Ctrl-C sends no signal here).
func readKey(fd int, valid string) (byte, error) {
	old, err := unix.IoctlGetTermios(fd, unix.TCGETS)
	if err != nil {
		return 0, err
	}
	raw := *old
	raw.Lflag &^= unix.ICANON | unix.ECHO | unix.ISIG | unix.IEXTEN
	raw.Iflag &^= unix.ICRNL | unix.IXON
	raw.Cc[unix.VMIN], raw.Cc[unix.VTIME] = 1, 0
	if err := unix.IoctlSetTermios(fd, unix.TCSETS, &raw); err != nil {
		return 0, err
	}
	defer unix.IoctlSetTermios(fd, unix.TCSETS, old)
	var b [1]byte
	for {
		n, err := unix.Read(fd, b[:])
		if errors.Is(err, unix.EINTR) {
			continue
		}
		if err != nil || n == 0 {
			return 'q', nil
		}
		c := b[0]
		switch c {
		case 3, 4: // Ctrl-C, Ctrl-D
			c = 'q'
		case '\r':
			c = '\n'
		}
		if c >= 'A' && c <= 'Z' {
			c += 'a' - 'A'
		}
		if strings.IndexByte(valid, c) >= 0 {
			return c, nil
		}
	}
}

// review is the chooser of `wordish update -i`: for each failed step of
// a document, it shows the diff and asks whether to write the new output.
type review struct {
	mu    sync.Mutex
	fd    int       // the terminal to read keys from
	out   io.Writer // where the questions go
	term  bool      // out is a terminal: erase the progress line first
	color bool
	quit  bool // q was pressed: nothing more is asked or written

	declined int // drifted steps not written (n, q, or after q)
}

// choose is an update.Chooser; after q it asks that no more document be
// replayed.
func (rv *review) choose(r *runner.DocResult) ([]*runner.StepResult, bool) {
	rv.mu.Lock()
	defer rv.mu.Unlock()
	var drifted []*runner.StepResult
	for _, s := range r.Steps {
		if s.Outcome == runner.Failed && s.Step != nil {
			drifted = append(drifted, s)
		}
	}
	if rv.quit || len(drifted) == 0 {
		rv.declined += len(drifted)
		return nil, rv.quit
	}
	var accepted []*runner.StepResult
	defer func() { rv.declined += len(drifted) - len(accepted) }()
	for i, s := range drifted {
		// The step as the text report shows it, diff included.
		if rv.term {
			io.WriteString(rv.out, "\r\x1b[K")
		}
		fmt.Fprintf(rv.out, "\n%s: drifted step %d of %d\n", r.Path, i+1, len(drifted))
		tr := report.NewTextReporter(rv.out, report.TextOptions{Color: rv.color})
		tr.StartDoc(r.Path)
		tr.Step(r.Path, s)
		fmt.Fprint(rv.out, "Write the new output into the article? [y]es, [n]o, [a]ll the rest of this file, [q]uit: ")
		k, err := readKey(rv.fd, "ynaq")
		if err != nil {
			k = 'q'
		}
		fmt.Fprintf(rv.out, "%c\n", k)
		switch k {
		case 'y':
			accepted = append(accepted, s)
		case 'a':
			accepted = append(accepted, drifted[i:]...)
			return accepted, false
		case 'q':
			rv.quit = true
			return accepted, true
		}
	}
	return accepted, false
}
