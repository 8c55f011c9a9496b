package session

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"regexp"
	"strconv"
	"syscall"
	"time"

	"github.com/creack/pty"
	"golang.org/x/sys/unix"
)

// Interact hands the session's shell to a person at the terminal tty
// (wordish --shell-on-failure) and returns when they leave it: with exit
// or Ctrl-D, or with exit N, N not 0, which sets stop (they ask the
// caller to stop the replay). The commands they type run in the session's own shell, at
// top level, as batches do, so whatever they change (the directory,
// variables, functions, options) is there for the next batch. Meanwhile
// tty is in raw mode (keys go to the session's terminal, Ctrl-C included,
// and reach the foreground job as on any terminal), the session's
// terminals take tty's size, the shell's TERM is tty's, and both of its
// terminals are shown on tty; all three are restored on return. The
// prompt is banner followed by the directory and "$ ", read by bash's
// read -e (readline). $? after Interact is what it was before.
//
// Limits: with set -x on, the loop's own lines show in the trace; an
// error message cut between two reads keeps the sourced file's name
// instead of "bash: ". After Interact, batches write their markers the
// slower way, as after a command with exec: the user may have redirected
// the shell's output.
//
// Interact waits for the user as long as they like: there is no timeout.
// It returns an error if the session is dead or the shell ends meanwhile
// (say, exec), and for a shell other than bash (it needs read -e).
func (s *Session) Interact(tty *os.File, banner string) (stop bool, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.Alive() || !s.waitReady() {
		return false, errors.New("session: the shell is gone")
	}
	s.flushInput() // the end of file typed ahead for the batches
	if !s.bash {
		return false, fmt.Errorf("session: handing the shell over needs bash, not %s", s.shellName)
	}
	ttyFd := int(tty.Fd())
	onResize, restore, err := s.takeTerminal(tty)
	if err != nil {
		return false, err
	}
	defer restore()

	term := os.Getenv("TERM")
	if term == "" {
		term = "dumb"
	}
	// Each line the user types is read and run by a file sourced on a
	// line of its own: when a job the user runs is interrupted (Ctrl-C),
	// bash aborts the line it was running, and the next one (the end
	// marker) still comes, so the loop goes on from Go.
	files := map[string]string{"is": interactSetup(term, s.lastStatus), "ii": interactLine(banner, s.vStatus), "ie": interactEnd(s.vStatus)}
	for name, text := range files {
		if err := os.WriteFile(filepath.Join(s.priv, name), []byte(text), 0o600); err != nil {
			return false, fmt.Errorf("session: %w", err)
		}
	}
	// The end of each comes as the usual end-of-batch markers written to
	// the terminals by name, numbered "i", on both terminals (so
	// everything before them has been shown), with 1 for token when the
	// user left. Their messages on the channel are dropped.
	defer s.dropChan()
	// What the user types may redirect the shell's own output (exec
	// >file), and so may have done for the batches to come, which are
	// therefore written the slower way too.
	s.slow = true
	// bash names the sourced file and a line in its error messages; an
	// interactive bash says "bash: ", as the batches' messages are
	// rewritten (best effort here too: a message cut between two reads
	// keeps the file's name).
	errPrefix := regexp.MustCompile(regexp.QuoteMeta(filepath.Join(s.priv, "ii")+": ") + `line [0-9]+: `)
	prompt := []byte(banner)
	if banner == "" {
		prompt = []byte("$ ")
	}
	run := func(name string, prompt []byte) (int, error) {
		s.ctl.WriteString(". " + quote(filepath.Join(s.priv, name)) + " " + s.chanFdShell() + ">&-\n\\__wep 0 i \"${__w_q:-0}\" " + strconv.Itoa(s.savedFd()) + "\n")
		return s.proxy(ttyFd, []byte(markPrefix+"Ei:"), errPrefix, onResize, prompt)
	}
	if _, err := run("is", nil); err != nil {
		return false, err
	}
	for {
		left, err := run("ii", prompt)
		if err != nil {
			return false, err
		}
		if left != 0 { // 1: exit, Ctrl-D; 2: exit N
			stop = left == 2
			break
		}
	}
	_, err = run("ie", nil)
	return stop, err
}

// takeTerminal gives the user's terminal tty to the session: its keys
// raw, the session's terminals at its size and following it when the
// window is resized (onResize, called between reads, looks). restore
// undoes both.
func (s *Session) takeTerminal(tty *os.File) (onResize, restore func(), err error) {
	ttyFd := int(tty.Fd())
	old, err := unix.IoctlGetTermios(ttyFd, unix.TCGETS)
	if err != nil {
		return nil, nil, fmt.Errorf("session: %s is not a terminal: %w", tty.Name(), err)
	}
	// The kernel tells the terminals' foreground job of a new size.
	resize := func() {
		if ws, err := pty.GetsizeFull(tty); err == nil {
			for _, sl := range s.slaves {
				pty.Setsize(sl, ws)
			}
		}
	}
	resize()
	winch := make(chan os.Signal, 1)
	signal.Notify(winch, syscall.SIGWINCH)
	unwatch := func() {
		signal.Stop(winch)
		for _, sl := range s.slaves {
			pty.Setsize(sl, &pty.Winsize{Rows: 24, Cols: 80})
		}
	}
	onResize = func() {
		select {
		case <-winch:
			resize()
		default:
		}
	}
	// Keys as they are typed; output processing stays on, since the
	// session's terminals do not turn "\n" into "\r\n".
	raw := *old
	raw.Lflag &^= unix.ICANON | unix.ECHO | unix.ISIG | unix.IEXTEN
	raw.Iflag &^= unix.ICRNL | unix.IXON
	raw.Cc[unix.VMIN], raw.Cc[unix.VTIME] = 1, 0
	if err := unix.IoctlSetTermios(ttyFd, unix.TCSETS, &raw); err != nil {
		unwatch()
		return nil, nil, fmt.Errorf("session: %w", err)
	}
	return onResize, func() {
		unix.IoctlSetTermios(ttyFd, unix.TCSETS, old)
		unwatch()
	}, nil
}

// The shell text of Interact: exit and logout mean "leave" while the
// user has the shell; $? and TERM are saved and restored.
func interactSetup(term string, last int) string {
	// The last command's status comes from wordish: the shell does not
	// keep it after a command expected to succeed (see setup).
	return `__w_is=` + strconv.Itoa(last) + ` __w_ot=$TERM __w_q= __w_l=
TERM=` + quote(term) + `
exit() { if [ "${1:-0}" = 0 ]; then __w_q=1; else __w_q=2; fi; }
logout() { exit "$@"; }
`
}

func interactLine(banner, status string) string {
	// readline writes the prompt and the echo to read's standard error:
	// sent to standard output, they come in order with what the command
	// then prints there.
	return `if IFS= read -r -e -p ` + quote(banner) + `"${PWD/#"$HOME"/\~}\$ " __w_l 2>&1; then
  \__wst "$` + status + `"
  eval "$__w_l"
  ` + status + `=$?
elif [ $? -gt 128 ]; then
  printf '\n'
else
  printf 'exit\n'
  __w_q=1
fi
`
}

func interactEnd(status string) string {
	return `unset -f exit logout
TERM=$__w_ot ` + status + `=$__w_is
unset __w_ot __w_is __w_q __w_l
`
}

// proxy copies keys from the user's terminal to the session's, and both
// of the session's terminals to the user's, until an end marker (prefix,
// a number, "\x1e") has come on both (it is not shown) or the shell dies;
// it returns the marker's number. tick runs at least every 100 ms. Keys
// are read only once prompt has been shown (never without a prompt):
// readline has the terminal in its own mode by then, and keys typed
// before, in the terminal's line mode, would lose their meaning (Ctrl-D
// typed ahead is lost when readline leaves line mode), or promptWait
// after the start.
func (s *Session) proxy(ttyFd int, prefix []byte, errPrefix *regexp.Regexp, tick func(), prompt []byte) (int, error) {
	var carry [2][]byte
	var ended [2]bool
	status := 0
	buf := make([]byte, 32<<10)
	keys := false    // read the user's keys: once prompt has been shown
	var shown []byte // the end of what was shown, to find the prompt in
	// The prompt may never show (the user sent the shell's output to a
	// file): then keys are read anyway, a moment later.
	holdUntil := time.Now().Add(promptWait)
	for !(ended[0] && ended[1]) {
		if !keys && prompt != nil && time.Now().After(holdUntil) {
			keys = true
		}
		select {
		case <-s.dead:
			return -1, errors.New("session: the shell ended while it was handed over")
		default:
		}
		fds := []unix.PollFd{
			{Fd: int32(s.masters[0]), Events: unix.POLLIN},
			{Fd: int32(s.masters[1]), Events: unix.POLLIN},
			{Fd: int32(ttyFd), Events: unix.POLLIN},
		}
		if !keys {
			fds = fds[:2]
		}
		ts := unix.NsecToTimespec(int64(100e6))
		n, err := unix.Ppoll(fds, &ts, nil)
		tick() // a resize before keys typed after it
		if n <= 0 || err != nil {
			continue
		}
		for st := range 2 {
			if fds[st].Revents == 0 || ended[st] {
				continue
			}
			n, _ := unix.Read(s.masters[st], buf)
			if n <= 0 {
				continue
			}
			data := append(carry[st], buf[:n]...)
			var show []byte
			var n0 int
			show, carry[st], n0, ended[st] = cutMarker(data, prefix)
			if st == 0 && ended[st] {
				status = n0
			}
			// On either terminal: the user may have sent one to the other.
			show = errPrefix.ReplaceAll(show, []byte(s.shellName+": "))
			writeAll(ttyFd, show)
			if !keys && st == 0 && prompt != nil {
				shown = append(shown, show...)
				if keys = bytes.Contains(shown, prompt); !keys && len(shown) > len(prompt) {
					shown = append(shown[:0], shown[len(shown)-len(prompt):]...)
				}
			}
		}
		if len(fds) > 2 && fds[2].Revents&unix.POLLIN != 0 {
			n, err := unix.Read(ttyFd, buf)
			if n > 0 {
				writeAll(s.masters[0], buf[:n])
			} else if err == nil || !errors.Is(err, unix.EAGAIN) {
				// The user's terminal is gone: end the loop as Ctrl-D would.
				writeAll(s.masters[0], []byte{4})
			}
		}
	}
	return status, nil
}

// promptWait is how long keys wait for the prompt at most.
const promptWait = 500 * time.Millisecond

// cutMarker finds a marker, prefix + digits + "\x1e", in data. It returns
// what can be shown: everything before the marker when it is there
// (found, with its number), else all but a tail that may be a marker cut
// short (kept in rest for the next read). Output after a marker cannot
// come: the shell writes nothing more until it is sent a line.
func cutMarker(data, prefix []byte) (show, rest []byte, n int, found bool) {
	if i := bytes.Index(data, prefix); i >= 0 {
		tail := data[i+len(prefix):]
		j := bytes.IndexByte(tail, 0x1e)
		if j < 0 {
			return data[:i], append([]byte(nil), data[i:]...), 0, false
		}
		n, _ = strconv.Atoi(string(tail[:j]))
		return data[:i], nil, n, true
	}
	for k := min(len(prefix)-1, len(data)); k > 0; k-- {
		if bytes.HasPrefix(prefix, data[len(data)-k:]) {
			return data[:len(data)-k], append([]byte(nil), data[len(data)-k:]...), 0, false
		}
	}
	return data, nil, 0, false
}

// writeAll writes b to fd, which may be non-blocking.
func writeAll(fd int, b []byte) {
	for len(b) > 0 {
		n, err := unix.Write(fd, b)
		if n > 0 {
			b = b[n:]
		}
		if err != nil && !errors.Is(err, unix.EAGAIN) && !errors.Is(err, unix.EINTR) {
			return
		}
		if errors.Is(err, unix.EAGAIN) {
			fds := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLOUT}}
			ts := unix.NsecToTimespec(int64(100e6))
			unix.Ppoll(fds, &ts, nil)
		}
	}
}
