package main

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// The processes a document leaves behind, each in its own way; each
// writes its pid to $PIDS/NAME.
var leftBehind = []struct{ name, cmd string }{
	{"bg", "sleep 1000 & echo $! > $PIDS/bg"},
	{"nohup", "nohup sleep 1001 >/dev/null 2>&1 & echo $! > $PIDS/nohup"},
	{"setsid", "setsid sh -c 'echo $$ > $PIDS/setsid; exec sleep 1002' &"},
	{"disown", "sleep 1003 & echo $! > $PIDS/disown; disown"},
	{"double-fork", "(sh -c 'sleep 1004 & echo $! > $PIDS/double-fork' &)"},
	{"env-i", "env -i PIDS=$PIDS setsid sh -c 'sleep 1005 & echo $! > $PIDS/env-i'"},
	{"closed-terminal", "setsid sh -c 'sleep 1006 </dev/null >/dev/null 2>&1 & echo $! > $PIDS/closed-terminal' </dev/null >/dev/null 2>&1"},
}

// daemonDoc writes a document that starts every leftBehind process, says
// it is ready (a file), then runs tail; its cleanup step writes a file.
func daemonDoc(t *testing.T, dir, tail, cleanup string) string {
	t.Helper()
	var b strings.Builder
	b.WriteString("```console\n")
	for _, l := range leftBehind {
		b.WriteString("$ " + l.cmd + "\n")
	}
	fmt.Fprintf(&b, "$ while [ $(ls $PIDS | wc -l) -lt %d ]; do sleep 0.02; done; touch $PIDS/../ready\n", len(leftBehind))
	b.WriteString("$ " + tail + "\n```\n\n<!-- wordish: cleanup -->\n```console\n$ " + cleanup + "touch $PIDS/../cleaned\n```\n")
	path := filepath.Join(dir, "daemons.md")
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// pidAlive reports whether pid runs (a zombie does not: the container's
// init may never reap it).
func pidAlive(pid int) bool {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return false
	}
	i := bytes.LastIndexByte(b, ')')
	return i < 0 || i+2 >= len(b) || b[i+2] != 'Z'
}

// sharedDir is a fresh directory everybody can write (for runs as nobody).
func sharedDir(t *testing.T) string {
	t.Helper()
	d, err := os.MkdirTemp("", "wordish-verdict-")
	if err != nil {
		t.Fatal(err)
	}
	os.Chmod(d, 0o777)
	t.Cleanup(func() { os.RemoveAll(d) })
	return d
}

// TestNothingLeftBehind: whatever a document started, however it ends
// (passed, failed, timed out, interrupted by any signal or a closed
// output), every process is gone by pid when wordish has exited, the
// cleanup step ran, the temporary directories are removed; as root and as
// an ordinary user.
func TestNothingLeftBehind(t *testing.T) {
	type run struct {
		name   string
		tail   string
		signal func(p *os.Process) // nil: none
		pipe   bool                // standard output a pipe closed by its reader
		status int
		again  bool // a second signal from the user: no cleanup
	}
	sig := func(s syscall.Signal) func(p *os.Process) { return func(p *os.Process) { p.Signal(s) } }
	runs := []run{
		{name: "passed", tail: "true", status: 0},
		{name: "failed", tail: "false", status: 1},
		{name: "timed out", tail: "sleep 100", status: 1},
		{name: "SIGINT", tail: "sleep 100", signal: sig(syscall.SIGINT), status: 130},
		{name: "SIGTERM", tail: "sleep 100", signal: sig(syscall.SIGTERM), status: 143},
		{name: "SIGHUP", tail: "sleep 100", signal: sig(syscall.SIGHUP), status: 129},
		{name: "SIGQUIT", tail: "sleep 100", signal: sig(syscall.SIGQUIT), status: 131},
		{name: "closed output", tail: "sleep 100", pipe: true, status: 141},
		// As timeout(1) does: the process, then its whole group, at once.
		{name: "SIGTERM twice at once", tail: "sleep 100", status: 143, signal: func(p *os.Process) {
			p.Signal(syscall.SIGTERM)
			syscall.Kill(-p.Pid, syscall.SIGTERM)
		}},
		{name: "second SIGINT", tail: "trap '' INT; sleep 100", status: 130, again: true, signal: func(p *os.Process) {
			p.Signal(syscall.SIGINT)
			time.Sleep(1500 * time.Millisecond)
			p.Signal(syscall.SIGINT)
		}},
	}
	users := []string{"root"}
	if os.Geteuid() == 0 {
		if _, err := exec.LookPath("setpriv"); err == nil {
			users = append(users, "nobody")
			os.Chmod(filepath.Dir(binary), 0o755)
		}
	} else {
		users = []string{"user"}
	}
	for _, user := range users {
		for _, r := range runs {
			if user == "nobody" && r.name != "passed" && r.name != "SIGTERM" && r.name != "timed out" {
				continue
			}
			t.Run(user+"/"+r.name, func(t *testing.T) {
				t.Parallel()
				base := sharedDir(t)
				pids := filepath.Join(base, "pids")
				tmp := filepath.Join(base, "tmp")
				for _, d := range []string{pids, tmp} {
					os.Mkdir(d, 0o777)
					os.Chmod(d, 0o777)
				}
				cleanup := ""
				if r.again {
					cleanup = "sleep 10; " // the second signal comes during the cleanup
				}
				doc := daemonDoc(t, base, r.tail, cleanup)
				args := []string{binary, "run", "--timeout", "3s", "--env", "PIDS=" + pids, doc}
				if user == "nobody" {
					args = append([]string{"setpriv", "--reuid", "65534", "--regid", "65534", "--clear-groups"}, args...)
				}
				cmd := exec.Command(args[0], args[1:]...)
				cmd.Env = append(testEnv(), "TMPDIR="+tmp)
				cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
				var errb bytes.Buffer
				cmd.Stderr = &errb
				var pr *os.File
				if r.pipe {
					var pw *os.File
					var err error
					if pr, pw, err = os.Pipe(); err != nil {
						t.Fatal(err)
					}
					cmd.Stdout = pw
					defer pw.Close()
				}
				if err := cmd.Start(); err != nil {
					t.Fatal(err)
				}
				if cmd.Stdout != nil {
					cmd.Stdout.(*os.File).Close()
				}
				done := make(chan error, 1)
				go func() { done <- cmd.Wait() }()
				ready := filepath.Join(base, "ready")
				if r.signal != nil || r.pipe {
					deadline := time.Now().Add(30 * time.Second)
					for {
						if _, err := os.Stat(ready); err == nil {
							break
						}
						if time.Now().After(deadline) {
							cmd.Process.Kill()
							t.Fatalf("the document never got ready; stderr:\n%s", errb.String())
						}
						time.Sleep(20 * time.Millisecond)
					}
					time.Sleep(200 * time.Millisecond) // the last step runs
					if r.pipe {
						pr.Close()
					} else {
						r.signal(cmd.Process)
					}
				}
				select {
				case <-done:
				case <-time.After(60 * time.Second):
					cmd.Process.Kill()
					t.Fatal("wordish did not exit")
				}
				if got := cmd.ProcessState.ExitCode(); got != r.status {
					t.Errorf("exit status %d, want %d; stderr:\n%s", got, r.status, errb.String())
				}
				if _, err := os.Stat(filepath.Join(base, "cleaned")); (err == nil) == r.again {
					t.Errorf("cleanup ran: %v, want %v", err == nil, !r.again)
				}
				// The reapers kill after wordish has exited too (a second
				// signal): give them their bounded time.
				deadline := time.Now().Add(5 * time.Second)
				for _, l := range leftBehind {
					b, err := os.ReadFile(filepath.Join(pids, l.name))
					if err != nil {
						t.Errorf("%s: no pid file: %v", l.name, err)
						continue
					}
					pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
					if err != nil || pid <= 1 {
						t.Errorf("%s: pid %q", l.name, b)
						continue
					}
					for pidAlive(pid) && time.Now().Before(deadline) {
						time.Sleep(20 * time.Millisecond)
					}
					if pidAlive(pid) {
						t.Errorf("%s: process %d survived", l.name, pid)
						syscall.Kill(pid, syscall.SIGKILL)
					}
				}
				if !r.again {
					if ents, _ := os.ReadDir(tmp); len(ents) > 0 {
						t.Errorf("left in TMPDIR: %v", ents)
					}
				}
			})
		}
	}
}

// TestParallelDocumentsIsolated: documents replayed in parallel never
// touch each other's shells (a session's cleanup once killed another
// document's shell being started).
func TestParallelDocumentsIsolated(t *testing.T) {
	dir := t.TempDir()
	var files []string
	for i := range 100 {
		p := filepath.Join(dir, fmt.Sprintf("d%03d.md", i))
		os.WriteFile(p, []byte(fmt.Sprintf("```console\n$ echo doc %d\ndoc %d\n```\n", i, i)), 0o644)
		files = append(files, p)
	}
	for round := range 5 {
		out, errs, code := wordish(t, append([]string{"run", "-j", "8"}, files...)...)
		last := out
		if i := strings.LastIndexByte(strings.TrimSuffix(out, "\n"), '\n'); i >= 0 {
			last = out[i+1:]
		}
		if code != 0 || last != "100 passed, 0 failed, 0 errored, 0 skipped, 0 not run\n" {
			t.Fatalf("round %d: exit %d, %q\n%s%s", round, code, last, out, errs)
		}
	}
}

// run runs the binary in dir with args and returns stdout, stderr, status.
func runIn(t *testing.T, dir string, args ...string) (string, string, int) {
	t.Helper()
	cmd := exec.Command(binary, args...)
	cmd.Dir = dir
	cmd.Env = testEnv()
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	if ee, ok := err.(*exec.ExitError); ok {
		return out.String(), errb.String(), ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return out.String(), errb.String(), 0
}

const driftedDoc = "# A\n\n```console\n$ echo new\nold\n```\n"

// TestReportNeverOverwritesArticles: --json/--junit FILE naming a
// document, or an existing file with an article's extension, is refused
// before anything runs, and every document stays as it was.
func TestReportNeverOverwritesArticles(t *testing.T) {
	dir := t.TempDir()
	for _, n := range []string{"a.md", "b.md", "other.rst"} {
		os.WriteFile(filepath.Join(dir, n), []byte("```console\n$ touch ran-"+n+"\n```\n"), 0o644)
	}
	os.Symlink("a.md", filepath.Join(dir, "link.md"))
	for _, args := range [][]string{
		{"--junit", "a.md", "a.md", "b.md"},
		{"--json", "b.md", "a.md", "b.md"},
		{"--json", "./a.md", "b.md", "a.md"},
		{"--junit", "link.md", "a.md"},
		{"--junit", "other.rst", "a.md"},
		{"--json", "other.rst", "a.md"},
	} {
		_, errs, code := runIn(t, dir, append([]string{"run"}, args...)...)
		if code != 2 || !strings.Contains(errs, args[1]) {
			t.Errorf("%v: exit %d, stderr %q; want 2 and a message naming %s", args, code, errs, args[1])
		}
		for _, n := range []string{"a.md", "b.md", "other.rst"} {
			b, _ := os.ReadFile(filepath.Join(dir, n))
			if !strings.HasPrefix(string(b), "```console") {
				t.Errorf("%v: %s overwritten: %q", args, n, b)
			}
			if _, err := os.Stat(filepath.Join(dir, "ran-"+n)); err == nil {
				t.Errorf("%v: a command ran", args)
			}
		}
	}
	// A new report file, or one without an article's extension: fine.
	if _, errs, code := runIn(t, dir, "run", "--junit", "report.xml", "--json", "new.json", "a.md"); code != 0 {
		t.Errorf("report.xml: exit %d: %s", code, errs)
	}
}

// TestBadDocumentFiles: a FIFO, a device or a file over --max-size is an
// error naming the file; the other documents still run.
func TestBadDocumentFiles(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "good.md")
	os.WriteFile(good, []byte("```console\n$ echo ok\nok\n```\n"), 0o644)
	fifo := filepath.Join(dir, "fifo.md")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Fatal(err)
	}
	big := filepath.Join(dir, "big.md")
	os.WriteFile(big, bytes.Repeat([]byte("text\n"), 1000), 0o644)
	zero := filepath.Join(dir, "zero.md")
	os.Symlink("/dev/zero", zero)
	out, errs, code := runIn(t, dir, "run", "--max-size", "4096", fifo, zero, big, good)
	if code != 2 {
		t.Errorf("exit %d, want 2", code)
	}
	for _, want := range []string{fifo + ": not a regular file (a FIFO)", zero + ": not a regular file (a character device)", big + ": 5000 bytes, more than --max-size 4096"} {
		if !strings.Contains(out+errs, want) {
			t.Errorf("no %q in:\n%s%s", want, out, errs)
		}
	}
	if !strings.Contains(out, "1 passed") {
		t.Errorf("the good document did not run:\n%s%s", out, errs)
	}
}

// TestUpdateKeepsTheFile: update writes through a symbolic link and keeps
// the article's mode, owner and hard links.
func TestUpdateKeepsTheFile(t *testing.T) {
	dir := t.TempDir()
	art := filepath.Join(dir, "real.md")
	os.WriteFile(art, []byte(driftedDoc), 0o644)
	link := filepath.Join(dir, "link.md")
	os.Symlink("real.md", link)
	hard := filepath.Join(dir, "hard.md")
	if err := os.Link(art, hard); err != nil {
		t.Fatal(err)
	}
	root := os.Geteuid() == 0
	if root {
		os.Chown(art, 65534, 65534)
	}
	syscall.Chmod(art, 0o4751) // after chown, which clears set-user-ID
	if _, errs, code := runIn(t, dir, "update", link); code != 0 {
		t.Fatalf("update: exit %d: %s", code, errs)
	}
	want := strings.Replace(driftedDoc, "old", "new", 1)
	for _, p := range []string{art, hard, link} {
		if b, _ := os.ReadFile(p); string(b) != want {
			t.Errorf("%s: %q, want %q", p, b, want)
		}
	}
	if fi, err := os.Lstat(link); err != nil || fi.Mode()&os.ModeSymlink == 0 {
		t.Errorf("the link is no longer a link: %v", err)
	}
	var st syscall.Stat_t
	syscall.Stat(art, &st)
	if st.Mode&0o7777 != 0o4751 || st.Nlink != 2 || root && (st.Uid != 65534 || st.Gid != 65534) {
		t.Errorf("mode %o, links %d, owner %d:%d", st.Mode&0o7777, st.Nlink, st.Uid, st.Gid)
	}
	// Without hard links the file is replaced whole, metadata kept.
	os.Remove(hard)
	os.WriteFile(art, []byte(driftedDoc), 0o644)
	if root {
		os.Chown(art, 65534, 65534)
	}
	syscall.Chmod(art, 0o4751)
	if _, errs, code := runIn(t, dir, "update", art); code != 0 {
		t.Fatalf("update: exit %d: %s", code, errs)
	}
	syscall.Stat(art, &st)
	if b, _ := os.ReadFile(art); string(b) != want || st.Mode&0o7777 != 0o4751 || root && st.Uid != 65534 {
		t.Errorf("%q mode %o owner %d", b, st.Mode&0o7777, st.Uid)
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 2 {
		t.Errorf("files left: %v", ents)
	}
}

// TestUpdateRefusesChangedFile: an article edited while wordish ran is
// left as edited, with status 2; nothing says it was rewritten.
func TestUpdateRefusesChangedFile(t *testing.T) {
	dir := t.TempDir()
	art := filepath.Join(dir, "a.md")
	doc := "```console\n$ echo new\nold\n$ echo edit >> \"$ART\"\n```\n"
	os.WriteFile(art, []byte(doc), 0o644)
	_, errs, code := runIn(t, dir, "update", "--env", "ART="+art, art)
	if code != 2 || !strings.Contains(errs, "changed on disk") || strings.Contains(errs, "rewrote") {
		t.Errorf("exit %d, stderr %q", code, errs)
	}
	if b, _ := os.ReadFile(art); string(b) != doc+"edit\n" {
		t.Errorf("the article is now %q", b)
	}
}

// TestInputOption: a command reading its input gets an end of file at
// once; input="TEXT" types TEXT at its prompt, shown as a reader sees it.
func TestInputOption(t *testing.T) {
	dir := t.TempDir()
	doc := filepath.Join(dir, "input.md")
	os.WriteFile(doc, []byte("```console\n$ read -r x; echo \"got:[$x]\"\ngot:[]\n$ cat\n$ git --no-pager --version >/dev/null; echo \"$PAGER $GIT_PAGER $MANPAGER [$SYSTEMD_PAGER]\"\ncat cat cat []\n```\n\n"+
		"<!-- wordish: input=\"John Smith\\n\" -->\n```console\n$ read -r -p 'Name: ' n; echo \"hello $n\"\nName: John Smith\nhello John Smith\n```\n"), 0o644)
	out, errs, code := runIn(t, dir, "run", "-v", "--timeout", "20s", doc)
	if code != 0 || !strings.Contains(out, "4 passed") {
		t.Errorf("exit %d:\n%s%s", code, out, errs)
	}
}
