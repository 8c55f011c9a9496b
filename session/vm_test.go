package session

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

// vmTest skips unless the sandbox can run here, and points TMPDIR at a
// fresh directory so that the run directory, and the processes that name
// it on their command line, can be looked for afterwards.
func vmTest(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("VM sandbox tests boot a guest; skipped with -short")
	}
	if os.Geteuid() != 0 {
		t.Skip("VM sandbox tests need root")
	}
	if _, err := os.Stat(UMLKernel); err != nil {
		t.Skipf("VM sandbox tests need %s: apt-get install %s", UMLKernel, strings.Join(VMPackages, " "))
	}
	if m := VMMissing(); m != nil {
		t.Skipf("VM sandbox tests need: apt-get install %s", strings.Join(m, " "))
	}
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp)
	return tmp
}

// vmLeftovers returns the processes whose command line mentions dir, and
// the entries left in dir.
func vmLeftovers(t *testing.T, dir string) (procs, files []string) {
	t.Helper()
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
	procs, files := vmLeftovers(t, dir)
	if len(procs) > 0 {
		t.Errorf("processes left behind:\n%s", strings.Join(procs, "\n"))
	}
	if len(files) > 0 {
		t.Errorf("files left in TMPDIR: %v", files)
	}
}

func TestVMOutputAndStatus(t *testing.T) {
	tmp := vmTest(t)
	var out, errb bytes.Buffer
	status, err := RunInVM(context.Background(), VMConfig{Stdout: &out, Stderr: &errb, Env: []string{"GREETING=hello"}},
		[]string{"/bin/bash", "-c", `echo "$GREETING out"; echo err >&2; printf 'a\tb\n'; pwd; id -u; exit 7`})
	if err != nil {
		t.Fatal(err)
	}
	if status != 7 {
		t.Errorf("status = %d, want 7", status)
	}
	if got, want := out.String(), "hello out\na\tb\n/root\n0\n"; got != want {
		t.Errorf("stdout = %q, want %q", got, want)
	}
	if got, want := errb.String(), "err\n"; got != want {
		t.Errorf("stderr = %q, want %q", got, want)
	}
	checkNothingLeft(t, tmp)
}

func TestVMDeviceMapperAndTTY(t *testing.T) {
	tmp := vmTest(t)
	var out bytes.Buffer
	// the serial lines are terminals only with TTY; loop and dm are there
	script := `[ -t 1 ] && echo tty || echo pipe; grep -c device-mapper /proc/misc; test -e /sys/module/loop && echo loop`
	for _, tty := range []bool{false, true} {
		out.Reset()
		status, err := RunInVM(context.Background(), VMConfig{Stdout: &out, TTY: tty}, []string{"/bin/bash", "-c", script})
		if err != nil || status != 0 {
			t.Fatalf("TTY=%v: status %d, err %v", tty, status, err)
		}
		want := "pipe\n1\nloop\n"
		if tty {
			want = "tty\n1\nloop\n"
		}
		if out.String() != want {
			t.Errorf("TTY=%v: stdout = %q, want %q", tty, out.String(), want)
		}
	}
	checkNothingLeft(t, tmp)
}

func TestVMWritesStayInGuest(t *testing.T) {
	tmp := vmTest(t)
	share := t.TempDir()
	name := "wordish-vm-test-" + filepath.Base(tmp)
	paths := []string{"/root/" + name, "/tmp/" + name, "/etc/" + name, filepath.Join(tmp, name)}
	t.Cleanup(func() {
		for _, p := range paths {
			os.Remove(p)
		}
	})
	script := `for p in "$@"; do echo data >"$p" || exit 1; done; echo shared >` + share + `/ok;` +
		`echo report >` + VMOutDir + `/report; echo other >` + VMOutDir + `/other`
	report := filepath.Join(t.TempDir(), "report.txt")
	status, err := RunInVM(context.Background(), VMConfig{Shares: []string{share}, Outputs: map[string]string{"report": report}},
		append([]string{"/bin/bash", "-c", script, "x"}, paths...))
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
}

func TestVMTimeout(t *testing.T) {
	tmp := vmTest(t)
	begin := time.Now()
	status, err := RunInVM(context.Background(), VMConfig{Timeout: 3 * time.Second, Grace: 2 * time.Second},
		[]string{"/bin/sleep", "600"})
	if !errors.Is(err, ErrVMStopped) || !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("err = %v, want ErrVMStopped and DeadlineExceeded", err)
	}
	if status != -1 && status != 130 {
		t.Errorf("status = %d, want -1 or 130", status)
	}
	if d := time.Since(begin); d > 3*time.Second+15*time.Second {
		t.Errorf("took %v", d)
	}
	checkNothingLeft(t, tmp)
}

// cancelWhenStarted cancels ctx once out shows "started".
func cancelWhenStarted(out *lockedBuffer, cancel func()) {
	for !strings.Contains(out.String(), "started") {
		time.Sleep(20 * time.Millisecond)
	}
	cancel()
}

func TestVMCancelGraceful(t *testing.T) {
	tmp := vmTest(t)
	var out lockedBuffer
	ctx, cancel := context.WithCancel(context.Background())
	go cancelWhenStarted(&out, cancel)
	// the command traps SIGINT, cleans up and exits 130, as wordish does
	status, err := RunInVM(ctx, VMConfig{Stdout: &out},
		[]string{"/bin/bash", "-c", `trap 'echo cleanup; exit 130' INT; echo started; while :; do sleep 0.1; done`})
	if !errors.Is(err, ErrVMStopped) || !errors.Is(err, context.Canceled) {
		t.Errorf("err = %v, want ErrVMStopped and Canceled", err)
	}
	if status != 130 {
		t.Errorf("status = %d, want 130 (the command's, after SIGINT)", status)
	}
	if got := out.String(); got != "started\ncleanup\n" {
		t.Errorf("stdout = %q, want started and cleanup", got)
	}
	checkNothingLeft(t, tmp)
}

func TestVMCancelStubborn(t *testing.T) {
	tmp := vmTest(t)
	var out lockedBuffer
	ctx, cancel := context.WithCancel(context.Background())
	// a command that ignores SIGINT: after the grace, the guest is killed
	go cancelWhenStarted(&out, cancel)
	begin := time.Now()
	status, err := RunInVM(ctx, VMConfig{Stdout: &out, Grace: 2 * time.Second},
		[]string{"/bin/bash", "-c", `trap '' INT; echo started; sleep 600`})
	if !errors.Is(err, context.Canceled) {
		t.Errorf("err = %v, want context.Canceled", err)
	}
	if status != -1 {
		t.Errorf("status = %d, want -1", status)
	}
	if d := time.Since(begin); d > 30*time.Second {
		t.Errorf("took %v", d)
	}
	checkNothingLeft(t, tmp)
}

func TestVMCancelEarly(t *testing.T) {
	tmp := vmTest(t)
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	// stopped while the guest boots: no grace needed, nothing left
	begin := time.Now()
	_, err := RunInVM(ctx, VMConfig{}, []string{"/bin/sleep", "600"})
	if !errors.Is(err, ErrVMStopped) {
		t.Errorf("err = %v, want ErrVMStopped", err)
	}
	if d := time.Since(begin); d > 8*time.Second {
		t.Errorf("took %v", d)
	}
	checkNothingLeft(t, tmp)
}

// TestVMHostKilled: when the process running RunInVM is killed with
// SIGKILL, so that it cannot clean up, the guardian does: the guest and
// the run directory are gone within seconds.
func TestVMHostKilled(t *testing.T) {
	if os.Getenv("WORDISH_VM_HELPER") != "" {
		RunInVM(context.Background(), VMConfig{Stdout: os.Stdout}, []string{"/bin/bash", "-c", "echo started; sleep 600"})
		os.Exit(0)
	}
	tmp := vmTest(t)
	cmd := exec.Command(os.Args[0], "-test.run=^TestVMHostKilled$")
	cmd.Env = append(os.Environ(), "WORDISH_VM_HELPER=1")
	var out lockedBuffer
	cmd.Stdout = &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(2 * time.Minute)
	for !strings.Contains(out.String(), "started") && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	cmd.Process.Kill()
	cmd.Wait()
	if !strings.Contains(out.String(), "started") {
		t.Fatalf("the guest command never started; output %q", out.String())
	}
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		if procs, files := vmLeftovers(t, tmp); len(procs) == 0 && len(files) == 0 {
			break
		}
	}
	checkNothingLeft(t, tmp)
}

func TestVMNoStatus(t *testing.T) {
	tmp := vmTest(t)
	// a command that powers the guest off itself: no status, console shown
	_, err := RunInVM(context.Background(), VMConfig{}, []string{"/bin/busybox", "poweroff", "-f"})
	if err == nil || !strings.Contains(err.Error(), "no exit status") || !strings.Contains(err.Error(), "wordish-vm init: ready") {
		t.Errorf("err = %v, want no exit status with the console's end", err)
	}
	checkNothingLeft(t, tmp)
}

func TestVMStage3Quoting(t *testing.T) {
	s := vmStage3(&VMConfig{Dir: "/a b", Env: []string{"TERM=xterm", "X=it's"}}, []string{"prog", "a b", "$HOME"})
	for _, want := range []string{"cd -- '/a b'", "TERM=xterm", `'X=it'\''s'`, `prog 'a b' '$HOME'`} {
		if !strings.Contains(s, want) {
			t.Errorf("stage3 lacks %q:\n%s", want, s)
		}
	}
	if strings.Contains(s, "TERM=dumb") {
		t.Errorf("TERM=dumb not replaced:\n%s", s)
	}
}

// lockedBuffer is a bytes.Buffer safe for one writer and one reader.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// TestVMMissingPackages: without the packages, RunInVM says exactly what
// to install (dpkg-query is faked to report nothing installed).
func TestVMMissingPackages(t *testing.T) {
	if os.Geteuid() != 0 {
		_, err := RunInVM(context.Background(), VMConfig{}, []string{"true"})
		if err == nil || !strings.Contains(err.Error(), "root") {
			t.Errorf("err = %v, want a message saying root is needed", err)
		}
		return
	}
	bin := t.TempDir()
	os.WriteFile(filepath.Join(bin, "dpkg-query"), []byte("#!/bin/sh\nexit 1\n"), 0o755)
	t.Setenv("PATH", bin+":"+os.Getenv("PATH"))
	if m := VMMissing("lvm2"); strings.Join(m, " ") != "user-mode-linux busybox-static lvm2" {
		t.Errorf("VMMissing(lvm2) = %q", m)
	}
	_, err := RunInVM(context.Background(), VMConfig{}, []string{"true"})
	if err == nil || !strings.Contains(err.Error(), "apt-get install user-mode-linux busybox-static") {
		t.Errorf("err = %v, want the apt-get command", err)
	}
}
