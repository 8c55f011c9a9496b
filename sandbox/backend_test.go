package sandbox

// Tests every backend must pass, run for each registered backend that is
// usable here (skipped with the reason otherwise; with CI=true, no usable
// backend at all is a failure: TestSomeBackendUsable).

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

var (
	checkMu sync.Mutex
	checked = map[string]Status{}
)

// status checks b once per test binary.
func status(b Backend) Status {
	checkMu.Lock()
	defer checkMu.Unlock()
	st, ok := checked[b.Name()]
	if !ok {
		st = b.Check(context.Background())
		checked[b.Name()] = st
	}
	return st
}

// eachBackend runs f as a subtest for every backend, skipped where the
// backend cannot run; TMPDIR points at a fresh directory, so that the run
// directory, and the processes that name it on their command line, can be
// looked for afterwards.
func eachBackend(t *testing.T, f func(t *testing.T, b Backend, tmp string)) {
	if len(Backends()) == 0 {
		t.Skip("no sandbox backend on this platform")
	}
	for _, b := range Backends() {
		t.Run(b.Name(), func(t *testing.T) { backendTest(t, b, f) })
	}
}

// backendTest runs f with b, as eachBackend does.
func backendTest(t *testing.T, b Backend, f func(t *testing.T, b Backend, tmp string)) {
	t.Helper()
	if testing.Short() {
		t.Skip("boots a guest; skipped with -short")
	}
	if os.Geteuid() != 0 {
		t.Skip("the sandbox needs root")
	}
	if st := status(b); !st.Usable {
		t.Skipf("%s not usable here: %s", b.Name(), st.Reason)
	}
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp)
	f(t, b, tmp)
}

func TestSomeBackendUsable(t *testing.T) {
	if testing.Short() {
		t.Skip("may boot a guest; skipped with -short")
	}
	var why []string
	for _, b := range Backends() {
		st := status(b)
		if st.Usable {
			return
		}
		why = append(why, b.Name()+": "+st.Reason)
	}
	if os.Getenv("CI") == "true" {
		t.Fatalf("CI=true and no sandbox backend is usable:\n%s", strings.Join(why, "\n"))
	}
	t.Skipf("no sandbox backend is usable here:\n%s", strings.Join(why, "\n"))
}

// leftovers returns the processes whose command line mentions dir, and
// the entries left in dir.
func leftovers(dir string) (procs, files []string) {
	ents, _ := os.ReadDir("/proc")
	for _, e := range ents {
		if e.Name()[0] < '0' || e.Name()[0] > '9' {
			continue
		}
		cl, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if err != nil || !bytes.Contains(cl, []byte(dir)) {
			continue
		}
		procs = append(procs, e.Name()+": "+string(bytes.ReplaceAll(cl, []byte{0}, []byte{' '})))
	}
	left, _ := os.ReadDir(dir)
	for _, e := range left {
		files = append(files, e.Name())
	}
	return procs, files
}

func checkNothingLeft(t *testing.T, dir string) {
	t.Helper()
	procs, files := leftovers(dir)
	if len(procs) > 0 {
		t.Errorf("processes left behind:\n%s", strings.Join(procs, "\n"))
	}
	if len(files) > 0 {
		t.Errorf("files left in TMPDIR: %v", files)
	}
}

func TestOutputAndStatus(t *testing.T) {
	eachBackend(t, func(t *testing.T, b Backend, tmp string) {
		var out, errb bytes.Buffer
		status, err := b.Run(context.Background(), Spec{Stdout: &out, Stderr: &errb, Env: []string{"GREETING=hello"},
			Files: map[string][]byte{"config.json": []byte(`{"a": 1}`)},
			Argv:  []string{"/bin/bash", "-c", `echo "$GREETING out"; echo err >&2; printf 'a\tb\n'; pwd; id -u; cat ` + RunDir + `/config.json; exit 7`}})
		if err != nil {
			t.Fatal(err)
		}
		if status != 7 {
			t.Errorf("status = %d, want 7", status)
		}
		if got, want := out.String(), "hello out\na\tb\n/root\n0\n{\"a\": 1}"; got != want {
			t.Errorf("stdout = %q, want %q", got, want)
		}
		if got, want := errb.String(), "err\n"; got != want {
			t.Errorf("stderr = %q, want %q", got, want)
		}
		checkNothingLeft(t, tmp)
	})
}

func TestDeviceMapperAndTTY(t *testing.T) {
	eachBackend(t, func(t *testing.T, b Backend, tmp string) {
		var out bytes.Buffer
		// stdout is a terminal only with TTY; loop and dm are there
		script := `[ -t 1 ] && echo tty || echo pipe; grep -c device-mapper /proc/misc; test -e /sys/module/loop && echo loop`
		for _, tty := range []bool{false, true} {
			out.Reset()
			status, err := b.Run(context.Background(), Spec{Stdout: &out, TTY: tty, Argv: []string{"/bin/bash", "-c", script}})
			if err != nil || status != 0 {
				t.Fatalf("TTY=%v: status %d, err %v", tty, status, err)
			}
			want := "pipe\n1\nloop\n"
			if tty {
				want = "tty\n1\nloop\n"
			}
			if got := strings.ReplaceAll(out.String(), "\r\n", "\n"); got != want {
				t.Errorf("TTY=%v: stdout = %q, want %q", tty, out.String(), want)
			}
		}
		checkNothingLeft(t, tmp)
	})
}

func TestWritesStayInGuest(t *testing.T) {
	eachBackend(t, func(t *testing.T, b Backend, tmp string) {
		share := t.TempDir()
		name := "wordish-vm-test-" + filepath.Base(tmp)
		paths := []string{"/root/" + name, "/tmp/" + name, "/etc/" + name, filepath.Join(tmp, name)}
		t.Cleanup(func() {
			for _, p := range paths {
				os.Remove(p)
			}
		})
		script := `for p in "$@"; do echo data >"$p" || exit 1; done; echo shared >` + share + `/ok;` +
			`echo report >` + OutDir + `/report; echo other >` + OutDir + `/other`
		report := filepath.Join(t.TempDir(), "report.txt")
		status, err := b.Run(context.Background(), Spec{Shares: []string{share}, Outputs: map[string]string{"report": report},
			Argv: append([]string{"/bin/bash", "-c", script, "x"}, paths...)})
		if err != nil || status != 0 {
			t.Fatalf("status %d, err %v", status, err)
		}
		for _, p := range paths {
			if _, err := os.Stat(p); err == nil {
				t.Errorf("%s, written in the guest, appeared on the host", p)
			}
		}
		if data, err := os.ReadFile(filepath.Join(share, "ok")); err != nil || string(data) != "shared\n" {
			t.Errorf("shared directory: got %q, %v; want the file written in the guest", data, err)
		}
		if data, err := os.ReadFile(report); err != nil || string(data) != "report\n" {
			t.Errorf("output file: got %q, %v; want the file written in the guest", data, err)
		}
		checkNothingLeft(t, tmp)
	})
}

func TestTimeout(t *testing.T) {
	eachBackend(t, func(t *testing.T, b Backend, tmp string) {
		status, err := b.Run(context.Background(), Spec{Timeout: 5 * time.Second, Grace: 2 * time.Second,
			Argv: []string{"/bin/sleep", "600"}})
		if !errors.Is(err, ErrStopped) || !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("err = %v, want ErrStopped and DeadlineExceeded", err)
		}
		if status != -1 && status != 130 {
			t.Errorf("status = %d, want -1 or 130", status)
		}
		checkNothingLeft(t, tmp)
	})
}

// runCancelled runs the bash script in b and cancels the run once the
// script has printed "started"; it returns Run's answer and the output.
func runCancelled(b Backend, grace time.Duration, script string) (status int, stdout string, err error) {
	out := newConsole()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		for !strings.Contains(out.String(), "started") {
			time.Sleep(20 * time.Millisecond)
		}
		cancel()
	}()
	status, err = b.Run(ctx, Spec{Stdout: out, Grace: grace, Argv: []string{"/bin/bash", "-c", script}})
	return status, out.String(), err
}

func TestCancelGraceful(t *testing.T) {
	eachBackend(t, func(t *testing.T, b Backend, tmp string) {
		// the command traps SIGINT, cleans up and exits 130, as wordish does
		status, out, err := runCancelled(b, 0, `trap 'echo cleanup; exit 130' INT; echo started; while :; do sleep 0.1; done`)
		if !errors.Is(err, ErrStopped) || !errors.Is(err, context.Canceled) {
			t.Errorf("err = %v, want ErrStopped and Canceled", err)
		}
		if status != 130 {
			t.Errorf("status = %d, want 130 (the command's, after SIGINT)", status)
		}
		if out != "started\ncleanup\n" {
			t.Errorf("stdout = %q, want started and cleanup", out)
		}
		checkNothingLeft(t, tmp)
	})
}

func TestCancelStubborn(t *testing.T) {
	eachBackend(t, func(t *testing.T, b Backend, tmp string) {
		// a command that ignores SIGINT: after the grace, the guest is killed
		status, _, err := runCancelled(b, time.Second, `trap '' INT; echo started; sleep 600`)
		if !errors.Is(err, context.Canceled) {
			t.Errorf("err = %v, want context.Canceled", err)
		}
		if status != -1 {
			t.Errorf("status = %d, want -1", status)
		}
		checkNothingLeft(t, tmp)
	})
}

func TestCancelEarly(t *testing.T) {
	eachBackend(t, func(t *testing.T, b Backend, tmp string) {
		ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
		defer cancel()
		// stopped while the guest boots: no grace needed, nothing left
		_, err := b.Run(ctx, Spec{Argv: []string{"/bin/sleep", "600"}})
		if !errors.Is(err, ErrStopped) {
			t.Errorf("err = %v, want ErrStopped", err)
		}
		checkNothingLeft(t, tmp)
	})
}

// TestHostKilled: when the process running Run is killed with SIGKILL,
// so that it cannot clean up, the guardian does: the guest and the run
// directory are gone within seconds.
func TestHostKilled(t *testing.T) {
	if name := os.Getenv("WORDISH_SANDBOX_HELPER"); name != "" {
		_, err := Lookup(name).Run(context.Background(), Spec{Stdout: os.Stdout, Argv: []string{"/bin/bash", "-c", "echo started; sleep 600"}})
		os.Stderr.WriteString(err.Error() + "\n")
		os.Exit(0)
	}
	eachBackend(t, func(t *testing.T, b Backend, tmp string) {
		cmd := exec.Command(os.Args[0], "-test.run=^TestHostKilled$")
		cmd.Env = append(os.Environ(), "WORDISH_SANDBOX_HELPER="+b.Name())
		out, errb := newConsole(), newConsole() // safe to read while written
		cmd.Stdout, cmd.Stderr = out, errb
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		// until the command starts, or the helper ends (its guest failed)
		ended := make(chan struct{})
		go func() { cmd.Wait(); close(ended) }()
		for !strings.Contains(out.String(), "started") && !waitFor(ended, 20*time.Millisecond) {
		}
		cmd.Process.Kill()
		<-ended
		if !strings.Contains(out.String(), "started") {
			t.Fatalf("the guest command never started; stdout %q, stderr %q", out.String(), errb.String())
		}
		for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
			if procs, files := leftovers(tmp); len(procs) == 0 && len(files) == 0 {
				break
			}
		}
		checkNothingLeft(t, tmp)
	})
}

func TestNoStatus(t *testing.T) {
	eachBackend(t, func(t *testing.T, b Backend, tmp string) {
		// a command that powers the guest off itself: no status; one line
		// says so and names the saved console log
		_, err := b.Run(context.Background(), Spec{Argv: []string{"/bin/busybox", "poweroff", "-f"}})
		var ge *GuestError
		if !errors.As(err, &ge) {
			t.Fatalf("err = %v, want a GuestError", err)
		}
		if strings.Contains(err.Error(), "\n") || !strings.Contains(err.Error(), "wordish sandbox check") || ge.Log == "" {
			t.Errorf("err = %q, want one line naming wordish sandbox check and the console log", err)
		}
		if data, err := os.ReadFile(ge.Log); err != nil || len(data) == 0 {
			t.Errorf("console log %s: %v, %d bytes", ge.Log, err, len(data))
		}
		os.Remove(ge.Log)
		checkNothingLeft(t, tmp)
	})
}
