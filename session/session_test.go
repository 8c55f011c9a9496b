package session

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wordish-go/wordish/expect"
	subreaper "github.com/wordish-go/wordish/internal/reaper"
)

// runAll runs cmds as one batch and returns the results.
func runAll(t *testing.T, s *Session, cmds ...Command) []Result {
	t.Helper()
	var got []Result
	n := s.RunBatch(cmds, func(i int, r Result) {
		if i != len(got) {
			t.Errorf("result %d delivered as %d", len(got), i)
		}
		got = append(got, r)
	})
	if n != len(got) {
		t.Errorf("RunBatch returned %d, delivered %d results", n, len(got))
	}
	return got
}

func cmd(text string) Command { return Command{Text: text} }

// procGone reports whether pid no longer runs (absent, or a zombie nobody
// reaps: the container's init may not).
func procGone(pid int) bool {
	p, ok := subreaper.ReadStat(pid)
	return !ok || p.Zombie()
}

func TestStateAcrossCommands(t *testing.T) {
	s := start(t, Config{})
	got := runAll(t, s,
		cmd("greet() { echo \"hello $1\"; }"),
		cmd("alias ll='echo aliased'"),
		cmd("x=42; export Y=exported; declare -A m=([k]=v)"),
		cmd("mkdir -p sub/dir && cd sub/dir"),
		cmd("trap 'echo trapped' USR1"),
		cmd("set -o pipefail; shopt -s nullglob"),
		cmd("greet world"),
		cmd("ll"),
		cmd("echo $x $Y ${m[k]}; sh -c 'echo $Y'"),
		cmd("pwd"),
		cmd("kill -USR1 $$; :"),
		cmd("false | true; echo $?; echo nothing*"),
	)
	want := []string{"", "", "", "", "", "", "hello world\n", "aliased\n",
		"42 exported v\nexported\n", s.Dir() + "/sub/dir\n", "trapped\n", "1\n\n"}
	if len(got) != len(want) {
		t.Fatalf("%d results", len(got))
	}
	for i, r := range got {
		if string(r.Stdout) != want[i] || r.Status != 0 || len(r.Stderr) != 0 {
			t.Errorf("command %d: stdout %q stderr %q status %d, want %q", i, r.Stdout, r.Stderr, r.Status, want[i])
		}
	}
	// The same across batches.
	r := s.Run(cmd("greet again; ll; echo $x; pwd"))
	if w := "hello again\naliased\n42\n" + s.Dir() + "/sub/dir\n"; string(r.Stdout) != w {
		t.Errorf("next batch: %q, want %q", r.Stdout, w)
	}
}

func TestStatusRestored(t *testing.T) {
	s := start(t, Config{})
	got := runAll(t, s,
		Command{Text: "false", Expect: expect.Nonzero},
		cmd("echo $?"),
		Command{Text: "(exit 7)", Expect: expect.Code, Code: 7},
		Command{Text: "echo $?", Expect: expect.Any},
		Command{Text: "sh -c 'exit 3'", Expect: expect.Any},
	)
	want := []struct {
		out    string
		status int
	}{{"", 1}, {"1\n", 0}, {"", 7}, {"7\n", 0}, {"", 3}}
	for i, r := range got {
		if string(r.Stdout) != want[i].out || r.Status != want[i].status {
			t.Errorf("command %d: %q status %d, want %q %d", i, r.Stdout, r.Status, want[i].out, want[i].status)
		}
	}
	if r := s.Run(cmd("echo $?")); string(r.Stdout) != "3\n" {
		t.Errorf("across batches: %q", r.Stdout)
	}
}

func TestBatchStops(t *testing.T) {
	s := start(t, Config{})
	tests := []struct {
		name string
		cmds []Command
		ran  int
		last int // status of the last command run
	}{
		{"zero", []Command{cmd("true"), cmd("false"), cmd("echo no")}, 2, 1},
		{"code", []Command{{Text: "(exit 2)", Expect: expect.Code, Code: 2}, {Text: "(exit 3)", Expect: expect.Code, Code: 2}, cmd("echo no")}, 2, 3},
		{"nonzero", []Command{{Text: "false", Expect: expect.Nonzero}, {Text: "true", Expect: expect.Nonzero}, cmd("echo no")}, 2, 0},
		{"any", []Command{{Text: "false", Expect: expect.Any}, {Text: "(exit 9)", Expect: expect.Any}, cmd("echo yes")}, 3, 0},
		{"syntax", []Command{cmd("if then fi"), cmd("echo no")}, 1, 2},
		{"all", []Command{cmd("true"), cmd("true"), cmd("true")}, 3, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := runAll(t, s, tt.cmds...)
			if len(got) != tt.ran || got[len(got)-1].Status != tt.last {
				t.Errorf("ran %d (want %d), results %+v", len(got), tt.ran, got)
			}
			for _, r := range got {
				if strings.Contains(string(r.Stdout), "no") {
					t.Errorf("a command after the stop ran: %q", r.Stdout)
				}
			}
		})
	}
}

func TestStdoutStderrOrder(t *testing.T) {
	s := start(t, Config{})
	r := s.Run(cmd(`for i in 1 2 3; do echo out$i; sleep 0.05; echo err$i >&2; sleep 0.05; done; printf 'no newline'`))
	if w := "out1\nout2\nout3\nno newline"; string(r.Stdout) != w {
		t.Errorf("stdout %q, want %q", r.Stdout, w)
	}
	if w := "err1\nerr2\nerr3\n"; string(r.Stderr) != w {
		t.Errorf("stderr %q, want %q", r.Stderr, w)
	}
	if w := "out1\nerr1\nout2\nerr2\nout3\nerr3\nno newline"; string(r.Transcript) != w {
		t.Errorf("transcript %q, want %q", r.Transcript, w)
	}
	// Many fast commands in a batch: each keeps its own output.
	var cmds []Command
	for i := range 200 {
		cmds = append(cmds, cmd(fmt.Sprintf("echo o%d; echo e%d >&2; printf x%d", i, i, i)))
	}
	for i, r := range runAll(t, s, cmds...) {
		if string(r.Stdout) != fmt.Sprintf("o%d\nx%d", i, i) || string(r.Stderr) != fmt.Sprintf("e%d\n", i) {
			t.Fatalf("command %d: %q %q", i, r.Stdout, r.Stderr)
		}
	}
}

func TestBinaryAndLookalikes(t *testing.T) {
	s := start(t, Config{})
	var all []byte
	for i := range 256 {
		all = append(all, byte(i))
	}
	all = append(all, all...)
	file := filepath.Join(s.Dir(), "bin")
	if err := os.WriteFile(file, all, 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, text string
		stdout     []byte
	}{
		{"all bytes", "cat bin", all},
		{"nul and invalid utf-8", `printf 'a\0b\377\376c\n'`, []byte("a\x00b\xff\xfec\n")},
		{"no final newline", "printf 'abc'", []byte("abc")},
		{"fake markers", `printf '\036W1:0\036 \036W9:123\036\036WE1:5\036\n'`,
			[]byte("\x1eW1:0\x1e \x1eW9:123\x1e\x1eWE1:5\x1e\n")},
		{"prompts", `printf '$ echo hi\n> \n# '`, []byte("$ echo hi\n> \n# ")},
		{"crlf kept", `printf 'a\r\nb\r'`, []byte("a\r\nb\r")},
		{"lone marker byte at end", `printf 'x\036'`, []byte("x\x1e")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := s.Run(cmd(tt.text))
			if !bytes.Equal(r.Stdout, tt.stdout) || r.Status != 0 {
				t.Errorf("stdout %q status %d, want %q", r.Stdout, r.Status, tt.stdout)
			}
		})
	}
	// The same on standard error.
	r := s.Run(cmd("cat bin >&2; printf 'tail\\036' >&2"))
	if w := append(append([]byte{}, all...), "tail\x1e"...); !bytes.Equal(r.Stderr, w) {
		t.Errorf("stderr: %d bytes, want %d", len(r.Stderr), len(w))
	}
	// A long command with TABs and control characters, not typed.
	long := "echo '" + strings.Repeat("x\t", 5000) + "\x01\x03\x04'"
	r = s.Run(cmd(long + " | wc -c"))
	if strings.TrimSpace(string(r.Stdout)) != "10004" {
		t.Errorf("long command: %q %q", r.Stdout, r.Stderr)
	}
}

// TestStdinAtEOF: a command reading its input gets an end of file at
// once, as if the user typed Ctrl-D, and never the session's own input.
func TestStdinAtEOF(t *testing.T) {
	s := start(t, Config{})
	got := runAll(t, s,
		Command{Text: "echo reading; read -r x; echo \"got:[$x] $?\"", Timeout: 5 * time.Second},
		Command{Text: "cat; cat; read a; read b; echo done", Timeout: 5 * time.Second},
		Command{Text: "while read -r l; do echo \"[$l]\"; done; echo loop", Timeout: 5 * time.Second},
		Command{Text: "head -c 10; wc -c", Timeout: 5 * time.Second},
		cmd("echo next"),
	)
	want := []string{"reading\ngot:[] 1\n", "done\n", "loop\n", "0\n", "next\n"}
	if len(got) != len(want) {
		t.Fatalf("ran %d: %+v", len(got), got)
	}
	for i, r := range got {
		if string(r.Stdout) != want[i] || r.TimedOut || r.Duration > 3*time.Second {
			t.Errorf("command %d: %q (%+v), want %q", i, r.Stdout, r, want[i])
		}
	}
	// Many reads in one command: the end of file typed ahead is topped up.
	r := s.Run(Command{Text: "for i in $(seq 200); do read x; done; echo read200", Timeout: 10 * time.Second})
	if string(r.Stdout) != "read200\n" || r.TimedOut {
		t.Errorf("200 reads: %+v %q", r, r.Stdout)
	}
	// So does one that opens the terminal itself.
	r = s.Run(Command{Text: "cat /dev/tty; echo tty", Timeout: 5 * time.Second})
	if string(r.Stdout) != "tty\n" || r.TimedOut {
		t.Errorf("cat /dev/tty: %+v", r)
	}
	// A command that ignores SIGINT is killed after the grace.
	r = s.Run(Command{Text: "trap '' INT; sleep 30", Timeout: 200 * time.Millisecond})
	if !r.TimedOut || !s.Alive() || r.Duration > 5*time.Second {
		t.Errorf("ignoring SIGINT: %+v", r)
	}
	// A job that handles SIGINT and exits 0: the rest of the line runs,
	// the batch stops all the same.
	got = runAll(t, s,
		Command{Text: "bash -c 'trap \"exit 0\" INT; sleep 10 & wait'; echo after", Timeout: 300 * time.Millisecond, Expect: expect.Any},
		Command{Text: "echo never", Expect: expect.Any},
	)
	if len(got) != 1 || !got[0].TimedOut || got[0].Status != 0 || string(got[0].Stdout) != "after\n" {
		t.Errorf("SIGINT handled: %+v", got)
	}
	r = s.Run(cmd("trap - INT; echo alive"))
	if string(r.Stdout) != "alive\n" || r.Status != 0 {
		t.Errorf("after timeouts: %+v %q", r, r.Stdout)
	}
}

// TestInput: Input is typed at the command's prompts, echoed as on a
// terminal, then an end of file.
func TestInput(t *testing.T) {
	s := start(t, Config{})
	got := runAll(t, s,
		cmd("echo before"),
		Command{Text: "read -r -p 'Name: ' n; read -r -p 'Age: ' a; echo \"hello $n ($a)\"", Input: "bob\n42\n", Timeout: 5 * time.Second},
		Command{Text: "cat", Input: "one\ntwo\n", Timeout: 5 * time.Second},
		cmd("read -r x; echo \"after:[$x]\""),
	)
	// read -p prompts on standard error: how the two streams interleave
	// depends on the machine's load, each stream alone does not.
	want := []struct{ out, err string }{{"before\n", ""}, {"bob\n42\nhello bob (42)\n", "Name: Age: "}, {"one\none\ntwo\ntwo\n", ""}, {"after:[]\n", ""}}
	if len(got) != len(want) {
		t.Fatalf("ran %d: %+v", len(got), got)
	}
	for i, r := range got {
		if string(r.Stdout) != want[i].out || string(r.Stderr) != want[i].err || r.TimedOut {
			t.Errorf("command %d: %q %q (%+v), want %q %q", i, r.Stdout, r.Stderr, r, want[i].out, want[i].err)
		}
	}
}

func TestBuiltinLoopTimeout(t *testing.T) {
	s := start(t, Config{})
	r := s.Run(Command{Text: "while :; do :; done", Timeout: 200 * time.Millisecond})
	if !r.TimedOut || !r.Exited || s.Alive() {
		t.Errorf("%+v alive=%v", r, s.Alive())
	}
	if n := s.RunBatch([]Command{cmd("true")}, func(int, Result) { t.Error("ran on a dead session") }); n != 0 {
		t.Errorf("dead session ran %d", n)
	}
}

func TestInterrupt(t *testing.T) {
	s := start(t, Config{})
	go func() {
		time.Sleep(300 * time.Millisecond)
		s.Interrupt()
	}()
	got := runAll(t, s, cmd("echo a"), cmd("sleep 10; echo no"), cmd("echo no"))
	if len(got) != 2 || !got[1].Interrupted || got[1].TimedOut || got[1].Duration > 5*time.Second {
		t.Fatalf("%+v", got)
	}
	if !s.Alive() {
		t.Fatal("dead after interrupt")
	}
	r := s.Run(cmd("echo cleanup"))
	if string(r.Stdout) != "cleanup\n" || r.Interrupted {
		t.Errorf("cleanup: %+v", r)
	}
	s.Interrupt() // no batch: nothing happens
	if r := s.Run(cmd("echo still")); string(r.Stdout) != "still\n" {
		t.Errorf("%+v", r)
	}
}

func TestShellEnds(t *testing.T) {
	tests := []struct {
		text   string
		status int
		out    string
	}{
		{"echo bye; exit 3", 3, "bye\n"},
		{"exec true", 0, ""},
		{"kill -9 $$", 137, ""},
		{"set -e; false", 1, ""},
	}
	for _, tt := range tests {
		t.Run(tt.text, func(t *testing.T) {
			s := start(t, Config{})
			done := make(chan []Result)
			go func() { done <- runAll(t, s, cmd("echo first"), cmd(tt.text), cmd("echo never")) }()
			var got []Result
			select {
			case got = <-done:
			case <-time.After(10 * time.Second):
				t.Fatal("hang")
			}
			if len(got) != 2 {
				t.Fatalf("%+v", got)
			}
			r := got[1]
			if !r.Exited || r.Status != tt.status || string(r.Stdout) != tt.out {
				t.Errorf("%+v %q", r, r.Stdout)
			}
			if s.Alive() {
				t.Error("alive")
			}
			if r := s.Run(cmd("true")); !r.Exited {
				t.Errorf("Run on a dead session: %+v", r)
			}
		})
	}
}

func TestCloseKillsEverything(t *testing.T) {
	s := start(t, Config{})
	other := start(t, Config{}) // must survive s.Close
	pidFile := func(name string) int {
		b, err := os.ReadFile(filepath.Join(s.Dir(), name))
		if err != nil {
			t.Fatal(err)
		}
		pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
		if err != nil {
			t.Fatal(err)
		}
		return pid
	}
	got := runAll(t, s,
		cmd("sleep 300 & echo $! > bg"),
		cmd("setsid sh -c 'echo $$ > $0; exec sleep 301' \"$PWD/setsid\" &"),
		cmd("nohup sh -c 'sleep 302 & echo $! > '\"$PWD\"'/nohup; wait' >/dev/null 2>&1 &"),
		cmd("setsid sh -c 'sleep 303 </dev/null >/dev/null 2>&1 & echo $! > '\"$PWD\"'/daemon' &"),
		// Until they have written their pid files (a fixed wait was too
		// short on a loaded machine).
		cmd("for f in bg setsid nohup daemon; do until [ -s $f ]; do sleep 0.01; done; done"),
	)
	if len(got) != 5 {
		t.Fatalf("%+v", got)
	}
	otherRes := other.Run(cmd("sleep 304 & echo $!"))
	otherPid, _ := strconv.Atoi(strings.TrimSpace(string(otherRes.Stdout)))
	pids := map[string]int{}
	for _, f := range []string{"bg", "setsid", "nohup", "daemon"} {
		pids[f] = pidFile(f)
		if procGone(pids[f]) {
			t.Fatalf("%s (%d) not running before Close", f, pids[f])
		}
	}
	shell := s.pid
	dir := s.Dir()
	t0 := time.Now()
	if err := s.Close(); err != nil {
		t.Error(err)
	}
	if d := time.Since(t0); d > 3*time.Second {
		t.Errorf("Close took %v", d)
	}
	for f, pid := range pids {
		if !procGone(pid) {
			t.Errorf("%s (%d) survived Close", f, pid)
		}
	}
	if !procGone(shell) {
		t.Error("shell survived")
	}
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Errorf("workdir left: %v", err)
	}
	if otherPid == 0 || procGone(otherPid) {
		t.Errorf("another session's process (%d) was killed", otherPid)
	}
	if !other.Alive() {
		t.Error("another session died")
	}
}

func TestCloseWhileRunning(t *testing.T) {
	s, err := Start(Config{})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan int)
	go func() { done <- s.RunBatch([]Command{cmd("sleep 30")}, func(int, Result) {}) }()
	time.Sleep(200 * time.Millisecond)
	if err := s.Close(); err != nil {
		t.Error(err)
	}
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("RunBatch hangs after Close")
	}
}

func TestFlood(t *testing.T) {
	s := start(t, Config{})
	const total = 200 << 20
	var peak uint64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		var m runtime.MemStats
		for {
			runtime.ReadMemStats(&m)
			peak = max(peak, m.HeapInuse)
			select {
			case <-stop:
				return
			case <-time.After(20 * time.Millisecond):
			}
		}
	}()
	r := s.Run(Command{Text: "yes 0123456789abcdef | head -c " + strconv.Itoa(total) + "; echo err >&2", Timeout: 5 * time.Minute})
	close(stop)
	wg.Wait()
	if r.Status != 0 || r.TimedOut {
		t.Fatalf("%+v", r.Status)
	}
	kept := int64(len(r.Stdout))
	if kept > keepHead+keepTail || kept+r.Dropped != total {
		t.Errorf("kept %d + dropped %d != %d", kept, r.Dropped, total)
	}
	if !bytes.HasPrefix(r.Stdout, []byte("0123456789abcdef\n0123")) {
		t.Errorf("head %q", r.Stdout[:32])
	}
	if n := len(r.Stdout); n < 10 || !bytes.HasSuffix(r.Stdout[:n-(total%17)], []byte("0123456789abcdef\n")) {
		t.Errorf("tail %q", r.Stdout[max(0, n-40):])
	}
	if string(r.Stderr) != "err\n" {
		t.Errorf("stderr %q", r.Stderr)
	}
	if len(r.Transcript) > 2*(keepHead+keepTail) {
		t.Errorf("transcript %d bytes", len(r.Transcript))
	}
	if peak > 150<<20 {
		t.Errorf("heap in use peaked at %d MiB", peak>>20)
	}
	t.Logf("flood: kept %d, dropped %d, heap peak %d MiB", kept, r.Dropped, peak>>20)
}

func TestNoLeakedDescriptors(t *testing.T) {
	s := start(t, Config{})
	r := s.Run(cmd("ls -1 /proc/self/fd"))
	if w := "0\n1\n2\n3\n"; string(r.Stdout) != w { // 3: ls's own directory; the channel is not inherited
		t.Errorf("descriptors %q, want %q", r.Stdout, w)
	}
}

func TestEnvironment(t *testing.T) {
	t.Setenv("LC_ALL", "C.UTF-8")
	t.Setenv("BASH_ENV", "/nonexistent")
	s := start(t, Config{Env: []string{"FOO=bar", "HOME=/home/doc"}})
	r := s.Run(cmd(`echo "$TERM|${LC_ALL-unset}|$FOO|$HOME|$PWD|${WORDISH_SESSION-none}|$PAGER|$GIT_PAGER|$MANPAGER|${SYSTEMD_PAGER-unset}"; stty size; [ -t 0 ] && [ -t 1 ] && [ -t 2 ] && echo ttys; echo $-`))
	lines := strings.Split(string(r.Stdout), "\n")
	if len(lines) < 4 {
		t.Fatalf("%q %q", r.Stdout, r.Stderr)
	}
	if w := "dumb|unset|bar|/home/doc|" + s.Dir() + "|none|cat|cat|cat|"; lines[0] != w {
		t.Errorf("env %q, want %q", lines[0], w)
	}
	if lines[1] != "24 80" || lines[2] != "ttys" {
		t.Errorf("terminal: %q", lines[1:3])
	}
	if strings.Contains(lines[3], "i") || !strings.Contains(lines[3], "m") {
		t.Errorf("shell flags %q", lines[3])
	}
	if len(r.Stderr) != 0 {
		t.Errorf("stderr %q", r.Stderr)
	}
}

func TestWorkdir(t *testing.T) {
	s, err := Start(Config{Keep: true})
	if err != nil {
		t.Fatal(err)
	}
	dir := s.Dir()
	s.Run(cmd("mkdir ro && touch ro/f && chmod 555 ro"))
	s.Close()
	if _, err := os.Stat(dir); err != nil {
		t.Errorf("kept dir: %v", err)
	}
	os.Chmod(filepath.Join(dir, "ro"), 0o755)
	os.RemoveAll(dir)

	given := t.TempDir()
	s = start(t, Config{Workdir: given})
	if r := s.Run(cmd("pwd; touch x")); string(r.Stdout) != given+"\n" {
		t.Errorf("pwd %q", r.Stdout)
	}
	s.Close()
	if _, err := os.Stat(filepath.Join(given, "x")); err != nil {
		t.Errorf("given workdir touched: %v", err)
	}

	s = start(t, Config{})
	dir = s.Dir()
	s.Run(cmd("mkdir ro && touch ro/f && chmod 555 ro"))
	s.Close()
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Errorf("temporary dir left: %v", err)
	}
}

func TestBackgroundJobsQuiet(t *testing.T) {
	s := start(t, Config{})
	got := runAll(t, s, cmd("sleep 0.1 &"), cmd("sleep 0.3"), cmd("echo done"), cmd("sleep 5 & kill %1"), cmd("sleep 0.1; echo x"))
	for i, r := range got {
		if strings.Contains(string(r.Transcript), "Done") || strings.Contains(string(r.Transcript), "[1]") {
			t.Errorf("command %d: job notice %q", i, r.Transcript)
		}
	}
}

func TestProgressBar(t *testing.T) {
	s := start(t, Config{})
	r := s.Run(cmd(`for i in 0 25 50 75 100; do printf '\r[%-10s] %3d%%' "$(printf '#%.0s' $(seq 1 $((i/10+1))))" $i; sleep 0.01; done; echo; printf 'spin \\\b|\b/\b-\bdone\n'; printf '\033[1;32mgreen\033[0m\n'`))
	if w := "[###########] 100%\nspin done\ngreen\n"; Normalize(r.Stdout) != w {
		t.Errorf("normalised %q, want %q (raw %q)", Normalize(r.Stdout), w, r.Stdout)
	}
}

func TestErrorMessages(t *testing.T) {
	s := start(t, Config{})
	r := s.Run(Command{Text: "nosuchcommand; cd /nonexistent", Expect: expect.Any})
	w := "bash: nosuchcommand: command not found\nbash: cd: /nonexistent: No such file or directory\n"
	if string(r.Stderr) != w {
		t.Errorf("stderr %q, want %q", r.Stderr, w)
	}
}

func TestExecRedirect(t *testing.T) {
	s := start(t, Config{})
	got := runAll(t, s,
		cmd("exec 3>&1 >out.txt"),
		cmd("echo to file; echo err >&2"),
		cmd("exec >&3 3>&-; cat out.txt"),
	)
	if len(got) != 3 || string(got[2].Stdout) != "to file\n" || string(got[1].Stderr) != "err\n" {
		t.Errorf("%+v", got)
	}
	// Standard error closed, then back: the shell's terminal for it is
	// held by no process in between.
	got = runAll(t, s,
		cmd("exec 2>/dev/null"),
		Command{Text: "echo hi; echo lost >&2", Timeout: 5 * time.Second},
		cmd("exec 2>/dev/tty; echo back >&2"),
	)
	if len(got) != 3 || got[1].TimedOut || string(got[1].Stdout) != "hi\n" || string(got[2].Stdout) != "back\n" {
		t.Errorf("%+v", got)
	}
}

func TestParallelSessions(t *testing.T) {
	var wg sync.WaitGroup
	for i := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s, err := Start(Config{})
			if err != nil {
				t.Error(err)
				return
			}
			defer s.Close()
			for j := range 20 {
				r := s.Run(cmd(fmt.Sprintf("echo %d-%d; sleep 0.01 & true", i, j)))
				if string(r.Stdout) != fmt.Sprintf("%d-%d\n", i, j) {
					t.Errorf("%q", r.Stdout)
				}
			}
		}()
	}
	wg.Wait()
}

func TestReturnEndsBatch(t *testing.T) {
	s := start(t, Config{})
	got := runAll(t, s, cmd("echo a"), Command{Text: "return 3", Expect: expect.Any}, cmd("echo never"))
	if len(got) != 2 || got[1].Status != 3 || string(got[0].Stdout) != "a\n" {
		t.Errorf("%+v", got)
	}
	if r := s.Run(cmd("echo $?; echo ok")); string(r.Stdout) != "3\nok\n" {
		t.Errorf("after return: %q", r.Stdout)
	}
}

func TestShellSettingsDoNotBreakTheSession(t *testing.T) {
	s := start(t, Config{})
	got := runAll(t, s,
		cmd("IFS=0123456789; set -u; set -o noclobber; set -o pipefail"),
		Command{Text: "(exit 130)", Expect: expect.Code, Code: 130},
		cmd("echo \"$?\""),
		cmd("shopt -u expand_aliases; alias printf=false"),
		cmd("echo done"),
	)
	if len(got) != 5 || string(got[2].Stdout) != "130\n" || string(got[4].Stdout) != "done\n" {
		t.Errorf("%+v", got)
	}
	if r := s.Run(cmd("echo next")); string(r.Stdout) != "next\n" {
		t.Errorf("%+v", r)
	}
}

func TestXtrace(t *testing.T) {
	s := start(t, Config{})
	got := runAll(t, s,
		cmd("echo before"),
		cmd("set -x"),
		cmd("echo hi"),
		cmd("f() { echo \"in $1\"; }; f one"),
		Command{Text: "false", Expect: expect.Nonzero},
		cmd("echo $(echo sub)"),
		cmd("set +x"),
		cmd("echo quiet"),
	)
	want := []struct{ out, err string }{
		{"before\n", ""},
		{"", ""},
		{"hi\n", "+ echo hi\n"},
		{"in one\n", "+ f one\n+ echo 'in one'\n"},
		{"", "+ false\n"},
		{"sub\n", "++ echo sub\n+ echo sub\n"},
		{"", "+ set +x\n"},
		{"quiet\n", ""},
	}
	if len(got) != len(want) {
		t.Fatalf("%d results", len(got))
	}
	for i, r := range got {
		if string(r.Stdout) != want[i].out || string(r.Stderr) != want[i].err {
			t.Errorf("command %d: %q %q, want %q %q", i, r.Stdout, r.Stderr, want[i].out, want[i].err)
		}
	}
	// Across batches too.
	r := s.Run(cmd("set -x; echo again; set +x"))
	if string(r.Stdout) != "again\n" || string(r.Stderr) != "+ echo again\n+ set +x\n" {
		t.Errorf("%q %q", r.Stdout, r.Stderr)
	}
}

// TestCloseReportsStatus: the shell's status reaches wordish whoever
// reaps it in the reaper (its kill loop or its reaping goroutine), so a
// batch running at Close returns, with the shell's death, every time.
func TestCloseReportsStatus(t *testing.T) {
	for i := range 10 {
		s, err := Start(Config{})
		if err != nil {
			t.Fatal(err)
		}
		done := make(chan Result, 1)
		go s.RunBatch([]Command{cmd("sleep 30")}, func(_ int, r Result) { done <- r })
		time.Sleep(100 * time.Millisecond)
		s.Close()
		select {
		case r := <-done:
			if !r.Exited || r.Status != 128+9 {
				t.Errorf("run %d: %+v, want the shell killed (Exited, status 137)", i, r)
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("run %d: RunBatch hangs after Close", i)
		}
	}
}
