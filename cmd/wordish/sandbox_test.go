package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"context"

	"github.com/wordish-go/wordish/sandbox"
)

func TestSandboxArgs(t *testing.T) {
	tests := []struct {
		in      []string
		out     []string
		outputs map[string]string
		install bool
	}{
		{[]string{"--sandbox", "vm", "a.md"}, []string{"a.md"}, nil, false},
		{[]string{"--sandbox=vm", "-v", "a.md", "--sandbox-install", "b.rst"}, []string{"--v", "a.md", "b.rst"}, nil, true},
		{[]string{"--json", "out.json", "--junit=j.xml", "a.md"},
			[]string{"--json=/run/vmhost/out/json", "--junit=/run/vmhost/out/junit", "a.md"},
			map[string]string{"json": "out.json", "junit": "j.xml"}, false},
		{[]string{"-json=-", "-j", "2", "--timeout", "5s", "a.md"}, []string{"--json=-", "--j=2", "--timeout=5s", "a.md"}, nil, false},
		{[]string{"--env", "A=1", "--", "--sandbox", "x.md"}, []string{"--env=A=1", "--", "--sandbox", "x.md"}, nil, false},
	}
	for _, tt := range tests {
		out, outputs, install, _ := sandboxArgs(tt.in)
		if !reflect.DeepEqual(out, tt.out) || !reflect.DeepEqual(outputs, tt.outputs) || install != tt.install {
			t.Errorf("sandboxArgs(%q) = %q, %v, %v; want %q, %v, %v", tt.in, out, outputs, install, tt.out, tt.outputs, tt.install)
		}
	}
}

// sandboxSkip skips a test that boots the VM sandbox when it cannot run.
func sandboxSkip(t *testing.T, pkgs ...string) {
	t.Helper()
	if testing.Short() {
		t.Skip("boots the VM sandbox; skipped with -short")
	}
	if os.Geteuid() != 0 {
		t.Skip("the VM sandbox needs root")
	}
	b := sandbox.Lookup("uml")
	if b == nil {
		t.Skip("no sandbox backend on this platform")
	}
	if st := b.Check(context.Background()); !st.Usable {
		t.Skipf("the sandbox is not usable here: %s", st.Reason)
	}
	if m := sandbox.MissingPackages(pkgs...); m != nil {
		t.Skipf("the test needs: apt-get install %s", strings.Join(m, " "))
	}
}

func TestSandboxArgsFiles(t *testing.T) {
	_, _, _, files := sandboxArgs([]string{"--sandbox", "vm", "-j", "2", "a.md", "--json", "o.json", "docs/b.rst", "--", "-c.md"})
	if want := []string{"a.md", "docs/b.rst", "-c.md"}; !reflect.DeepEqual(files, want) {
		t.Errorf("files = %q, want %q", files, want)
	}
}

// TestSandboxUpdate rewrites, from inside the guest, an article whose
// steps need root: the rewrite reaches the host file, a file the article
// writes elsewhere does not.
func TestSandboxUpdate(t *testing.T) {
	sandboxSkip(t)
	dir := t.TempDir()
	path := filepath.Join(dir, "root.md")
	src := "```console\n# id -u\n1000\n# touch /etc/wordish-update-test\n```\n"
	if err := os.WriteFile(path, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	_, stderr, code := wordish(t, "update", "--sandbox", "vm", path)
	if code != 0 {
		t.Fatalf("exit status %d, stderr:\n%s", code, stderr)
	}
	got, _ := os.ReadFile(path)
	if want := "```console\n# id -u\n0\n# touch /etc/wordish-update-test\n```\n"; string(got) != want {
		t.Errorf("file afterwards:\n%s\nwant:\n%s", got, want)
	}
	if _, err := os.Stat("/etc/wordish-update-test"); err == nil {
		os.Remove("/etc/wordish-update-test")
		t.Errorf("a file the guest wrote outside the shared directory reached the host")
	}
}

// TestSandboxSIGTERM sends SIGTERM to wordish while the guest runs a
// document: the document's cleanup step runs in the guest, wordish exits
// 143, and no process or temporary file of the sandbox is left.
func TestSandboxSIGTERM(t *testing.T) {
	sandboxSkip(t)
	dir := t.TempDir()
	tmp := t.TempDir()
	doc := filepath.Join(dir, "long.md")
	os.WriteFile(doc, []byte("```console\n# echo started\nstarted\n# sleep 600\n```\n\n<!-- wordish: cleanup -->\n```console\n# echo cleaning up\ncleaning up\n```\n"), 0o644)

	cmd := exec.Command(binary, "run", "--sandbox", "vm", "-v", doc)
	cmd.Env = append(testEnv(), "TMPDIR="+tmp)
	var out, errb lockedBuf
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	deadline := time.After(3 * time.Minute)
wait:
	for !strings.Contains(out.String(), "PASS") {
		select {
		case <-done:
			t.Fatalf("wordish ended early; stdout:\n%s\nstderr:\n%s", out.String(), errb.String())
		case <-deadline:
			break wait
		case <-time.After(50 * time.Millisecond):
		}
	}
	if !strings.Contains(out.String(), "PASS") {
		cmd.Process.Signal(syscall.SIGKILL)
		<-done
		t.Fatalf("the first step never passed; stdout:\n%s\nstderr:\n%s", out.String(), errb.String())
	}
	time.Sleep(time.Second) // let the guest start `sleep 600`
	begin := time.Now()
	cmd.Process.Signal(syscall.SIGTERM)
	err := <-done
	code := cmd.ProcessState.ExitCode()
	if code != 143 {
		t.Errorf("exit status %d (%v), want 143", code, err)
	}
	if d := time.Since(begin); d > 60*time.Second {
		t.Errorf("took %v to stop", d)
	}
	if !strings.Contains(out.String(), "cleaning up") {
		t.Errorf("the cleanup step did not run; stdout:\n%s\nstderr:\n%s", out.String(), errb.String())
	}
	assertNothingLeft(t, tmp)
}

// assertNothingLeft checks that no process mentions dir on its command
// line and that dir is empty.
func assertNothingLeft(t *testing.T, dir string) {
	t.Helper()
	ents, _ := os.ReadDir("/proc")
	for _, e := range ents {
		if e.Name()[0] < '0' || e.Name()[0] > '9' {
			continue
		}
		cl, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if err == nil && bytes.Contains(cl, []byte(dir)) {
			t.Errorf("process left behind: %s: %s", e.Name(), bytes.ReplaceAll(cl, []byte{0}, []byte{' '}))
		}
	}
	if left, _ := os.ReadDir(dir); len(left) > 0 {
		for _, e := range left {
			t.Errorf("left in TMPDIR: %s", e.Name())
		}
	}
}

// lockedBuf is a bytes.Buffer for one writer and one reader.
type lockedBuf struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuf) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuf) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
