package main

import (
	"bytes"
	"encoding/json"
	"flag"
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

// TestGuestConfig: every flag of run but the --sandbox ones reaches the
// guest through guestConfig; output files become guest paths copied back.
// A flag added to runFlags but not to guestConfig fails here.
func TestGuestConfig(t *testing.T) {
	fs := flag.NewFlagSet("run", flag.ContinueOnError)
	var f runFlags
	f.register(fs)
	fs.VisitAll(func(fl *flag.Flag) {
		if strings.HasPrefix(fl.Name, "sandbox") || fl.Name == "shell-on-failure" {
			return // --shell-on-failure is refused with --sandbox (it needs the host's terminal)
		}
		for _, v := range []string{"true", "3", "7s", "K=V", "1/2"} {
			if fs.Set(fl.Name, v) == nil && fl.Value.String() != fl.DefValue {
				return
			}
		}
		t.Errorf("cannot set -%s to a value other than its default", fl.Name)
	})
	f.jobsSet = true
	for name, path := range map[string]string{"json": "o.json", "junit": "j.xml", "html": "r.html"} {
		fs.Set(name, path)
	}
	c, outputs := newGuestConfig("run", f, []string{"a.md", "-b.md"})
	data, err := json.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	var back guestConfig
	if err := json.Unmarshal(data, &back); err != nil {
		t.Fatal(err)
	}
	g := back.flags()
	want := f
	want.jsonOut, want.junitOut, want.htmlOut = sandbox.OutDir+"/json", sandbox.OutDir+"/junit", sandbox.OutDir+"/html"
	if !reflect.DeepEqual(g, want) {
		t.Errorf("the guest's flags:\n%+v\nwant:\n%+v", g, want)
	}
	if !reflect.DeepEqual(back.Files, []string{"a.md", "-b.md"}) || back.Command != "run" {
		t.Errorf("files %q, command %q", back.Files, back.Command)
	}
	if want := map[string]string{"json": "o.json", "junit": "j.xml", "html": "r.html"}; !reflect.DeepEqual(outputs, want) {
		t.Errorf("outputs = %v, want %v", outputs, want)
	}
	f.jsonOut = "-"
	f.jobsSet = false
	if c, outputs := newGuestConfig("run", f, nil); c.JSON != "-" || outputs["json"] != "" || c.Jobs != 0 {
		t.Errorf("--json - without -j: guest %q, -j %d, outputs %v", c.JSON, c.Jobs, outputs)
	}
}

func TestCheckSandbox(t *testing.T) {
	for _, ok := range []string{"", "host", "vm", "uml"} {
		if err := checkSandbox(ok); err != nil && (ok != "uml" || sandbox.Lookup("uml") != nil) {
			t.Errorf("checkSandbox(%q) = %v", ok, err)
		}
	}
	for _, bad := range []string{"vmm", "docker"} {
		if err := checkSandbox(bad); err == nil || !strings.Contains(err.Error(), "unknown sandbox") {
			t.Errorf("checkSandbox(%q) = %v, want unknown sandbox", bad, err)
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

func TestSandboxCommand(t *testing.T) {
	if _, stderr, code := wordish(t, "sandbox"); code != 2 || !strings.Contains(stderr, "usage: wordish sandbox check|install") {
		t.Errorf("no subcommand: status %d, stderr %q", code, stderr)
	}
	if _, stderr, code := wordish(t, "sandbox", "check", "docker"); code != 2 || !strings.Contains(stderr, "unknown sandbox") {
		t.Errorf("unknown backend: status %d, stderr %q", code, stderr)
	}
	if _, stderr, code := wordish(t, "sandbox", "guest"); code != 2 || !strings.Contains(stderr, "WORDISH_SANDBOX_CONFIG") {
		t.Errorf("guest outside the sandbox: status %d, stderr %q", code, stderr)
	}
	sandboxSkip(t)
	stdout, stderr, code := wordish(t, "sandbox", "check", "uml")
	if code != 0 || !strings.HasPrefix(stdout, "uml: usable (xstate ") || strings.Count(stdout, "\n") != 1 {
		t.Errorf("sandbox check uml: status %d, stdout %q, stderr %q", code, stdout, stderr)
	}
}
