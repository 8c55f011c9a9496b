package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"context"

	"github.com/wordish-go/wordish/sandbox"
)

// TestGuestConfig: every flag of run but the --sandbox ones changes the
// lib.Config, which reaches the guest as data, unchanged through JSON
// but for the output files, which become guest paths copied back.
func TestGuestConfig(t *testing.T) {
	newFlags := func() (*flag.FlagSet, *runFlags) {
		fs := flag.NewFlagSet("run", flag.ContinueOnError)
		f := &runFlags{}
		f.register(fs)
		return fs, f
	}
	fs, f := newFlags()
	defaults := f.config(io.Discard, io.Discard)
	fs.VisitAll(func(fl *flag.Flag) {
		if strings.HasPrefix(fl.Name, "sandbox") || fl.Name == "shell-on-failure" {
			return // --shell-on-failure is refused with --sandbox (it needs the host's terminal)
		}
		for _, v := range []string{"always", "markdown", "true", "3", "7s", "K=V", "1/2"} {
			fs1, f1 := newFlags()
			if fs1.Set(fl.Name, v) != nil || fs1.Lookup(fl.Name).Value.String() == fl.DefValue {
				continue
			}
			f1.defaults(fs1)
			if reflect.DeepEqual(f1.config(io.Discard, io.Discard), defaults) {
				continue
			}
			fs.Set(fl.Name, v)
			return
		}
		t.Errorf("no value of -%s changes the lib.Config", fl.Name)
	})
	f.defaults(fs)
	for name, path := range map[string]string{"json": "o.json", "junit": "j.xml", "html": "r.html"} {
		fs.Set(name, path)
	}
	cfg := f.config(io.Discard, io.Discard)
	cfg.Stdout, cfg.Stderr = nil, nil
	c, outputs := newGuestConfig(cfg, []string{"a.md", "-b.md"})
	data, err := json.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	var back guestConfig
	if err := json.Unmarshal(data, &back); err != nil {
		t.Fatal(err)
	}
	want := cfg
	want.Report.Files = map[string]string{"json": sandbox.OutDir + "/json", "junit": sandbox.OutDir + "/junit", "html": sandbox.OutDir + "/html"}
	if !reflect.DeepEqual(back.Config, want) {
		t.Errorf("the guest's config:\n%+v\nwant:\n%+v", back.Config, want)
	}
	if !reflect.DeepEqual(back.Files, []string{"a.md", "-b.md"}) {
		t.Errorf("files %q", back.Files)
	}
	if want := map[string]string{"json": "o.json", "junit": "j.xml", "html": "r.html"}; !reflect.DeepEqual(outputs, want) {
		t.Errorf("outputs = %v, want %v", outputs, want)
	}
	cfg.Report.Files = map[string]string{"json": "-"}
	cfg.Jobs = 0
	if c, outputs := newGuestConfig(cfg, nil); c.Config.Report.Files["json"] != "-" || outputs["json"] != "" || c.Config.Jobs != 0 {
		t.Errorf("--json - without -j: guest %q, -j %d, outputs %v", c.Config.Report.Files["json"], c.Config.Jobs, outputs)
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

// sandboxSkip skips a test that boots the VM sandbox (--sandbox vm) when
// no backend can run here; with CI=true that is a failure instead. pkgs
// are Debian packages the test's documents need.
func sandboxSkip(t *testing.T, pkgs ...string) {
	t.Helper()
	if testing.Short() {
		t.Skip("boots the VM sandbox; skipped with -short")
	}
	if os.Geteuid() != 0 {
		t.Skip("the VM sandbox needs root")
	}
	if m := sandbox.MissingPackages(pkgs...); m != nil {
		t.Skipf("the test needs: apt-get install %s", strings.Join(m, " "))
	}
	if len(usableBackends()) == 0 {
		var why []string
		for _, b := range sandbox.Backends() {
			why = append(why, b.Name()+": "+backendStatus(b).Reason)
		}
		if os.Getenv("CI") == "true" {
			t.Fatalf("CI=true and no sandbox backend is usable: %s", strings.Join(why, "; "))
		}
		t.Skipf("no sandbox backend is usable here: %s", strings.Join(why, "; "))
	}
}

var (
	statusOnce sync.Once
	statuses   map[string]sandbox.Status
)

// backendStatus is b's Check, asked once per test binary.
func backendStatus(b sandbox.Backend) sandbox.Status {
	statusOnce.Do(func() {
		statuses = map[string]sandbox.Status{}
		for _, b := range sandbox.Backends() {
			statuses[b.Name()] = b.Check(context.Background())
		}
	})
	return statuses[b.Name()]
}

// usableBackends names the backends Check finds usable here.
func usableBackends() []string {
	var names []string
	for _, b := range sandbox.Backends() {
		if backendStatus(b).Usable {
			names = append(names, b.Name())
		}
	}
	return names
}

// eachBackend runs f for every backend as a subtest, skipped with the
// reason where the backend cannot run.
func eachBackend(t *testing.T, f func(t *testing.T, name string)) {
	sandboxSkip(t)
	for _, b := range sandbox.Backends() {
		t.Run(b.Name(), func(t *testing.T) {
			if st := backendStatus(b); !st.Usable {
				t.Skipf("%s not usable here: %s", b.Name(), st.Reason)
			}
			f(t, b.Name())
		})
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

// TestSandboxKilled kills wordish with SIGINT, SIGTERM or SIGKILL while
// the guest runs a document, on every backend: after SIGINT and SIGTERM
// the document's cleanup step runs in the guest and wordish exits 130 or
// 143; after any of them, every process wordish started (looked for by
// PID) is gone, and so is the run directory.
func TestSandboxKilled(t *testing.T) {
	eachBackend(t, func(t *testing.T, backend string) {
		for _, sig := range []syscall.Signal{syscall.SIGINT, syscall.SIGTERM, syscall.SIGKILL} {
			t.Run(sig.String(), func(t *testing.T) { killDuringGuest(t, backend, sig) })
		}
	})
}

func killDuringGuest(t *testing.T, backend string, sig syscall.Signal) {
	dir := t.TempDir()
	tmp := t.TempDir()
	doc := filepath.Join(dir, "long.md")
	os.WriteFile(doc, []byte("```console\n# echo started\nstarted\n# sleep 600\n```\n\n<!-- wordish: cleanup -->\n```console\n# echo cleaning up\ncleaning up\n```\n"), 0o644)

	cmd := exec.Command(binary, "run", "--sandbox", backend, "-v", doc)
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
	procs := descendants(cmd.Process.Pid)
	if !strings.Contains(out.String(), "PASS") {
		cmd.Process.Signal(syscall.SIGKILL)
		<-done
		t.Fatalf("the first step never passed; stdout:\n%s\nstderr:\n%s", out.String(), errb.String())
	}
	if len(procs) == 0 {
		t.Fatal("wordish has no child processes while its guest runs")
	}
	cmd.Process.Signal(sig)
	err := <-done
	if sig != syscall.SIGKILL {
		if code := cmd.ProcessState.ExitCode(); code != 128+int(sig) {
			t.Errorf("exit status %d (%v), want %d", code, err, 128+int(sig))
		}
		if !strings.Contains(out.String(), "cleaning up") {
			t.Errorf("the cleanup step did not run; stdout:\n%s\nstderr:\n%s", out.String(), errb.String())
		}
	}
	// after SIGKILL the guardian cleans up: give it the time it takes
	for end := time.Now().Add(20 * time.Second); time.Now().Before(end) && (len(alive(procs)) > 0 || !emptyDir(tmp)); {
		time.Sleep(50 * time.Millisecond)
	}
	for _, p := range alive(procs) {
		t.Errorf("process left behind: %s", p)
	}
	assertNothingLeft(t, tmp)
}

// proc is a process, known by PID and start time (a PID can be reused).
type proc struct {
	pid   int
	start string
	cmd   string
}

func (p proc) String() string { return fmt.Sprintf("%d %s", p.pid, p.cmd) }

// procStat returns the parent PID, state and start time of pid.
func procStat(pid int) (ppid int, state, start string, ok bool) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, "", "", false
	}
	i := bytes.LastIndexByte(data, ')')
	if i < 0 {
		return 0, "", "", false
	}
	f := strings.Fields(string(data[i+1:]))
	if len(f) < 20 {
		return 0, "", "", false
	}
	ppid, _ = strconv.Atoi(f[1])
	return ppid, f[0], f[19], true
}

// descendants returns the processes below pid.
func descendants(pid int) []proc {
	children := map[int][]int{}
	ents, _ := os.ReadDir("/proc")
	for _, e := range ents {
		p, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if ppid, _, _, ok := procStat(p); ok {
			children[ppid] = append(children[ppid], p)
		}
	}
	var out []proc
	queue := children[pid]
	for len(queue) > 0 {
		p := queue[0]
		queue = queue[1:]
		if _, _, start, ok := procStat(p); ok {
			cl, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", p))
			out = append(out, proc{pid: p, start: start, cmd: string(bytes.ReplaceAll(cl, []byte{0}, []byte{' '}))})
		}
		queue = append(queue, children[p]...)
	}
	return out
}

// alive returns those of procs still running (zombies are dead enough:
// their parent is gone and init reaps them in its own time).
func alive(procs []proc) []proc {
	var out []proc
	for _, p := range procs {
		if _, state, start, ok := procStat(p.pid); ok && start == p.start && state != "Z" && state != "X" {
			out = append(out, p)
		}
	}
	return out
}

func emptyDir(dir string) bool {
	ents, _ := os.ReadDir(dir)
	return len(ents) == 0
}

// TestSandboxGuestFails: when the guest fails (here UML, made to fail as
// it does on an AMX host), wordish prints one line naming the backend,
// what happened, what to try and the saved console log, and exits 2.
func TestSandboxGuestFails(t *testing.T) {
	eachBackend(t, func(t *testing.T, backend string) {
		if backend != "uml" {
			t.Skip("the failure is reproduced for UML only")
		}
		if _, err := exec.LookPath("cc"); err != nil {
			t.Skip("no cc")
		}
		so := filepath.Join(t.TempDir(), "fail.so")
		if out, err := exec.Command("cc", "-shared", "-fPIC", "-o", so, filepath.Join(repoRoot, "sandbox/testdata/uml-fail-xstate.c"), "-ldl").CombinedOutput(); err != nil {
			t.Fatalf("cc: %v: %s", err, out)
		}
		tmp := t.TempDir()
		cmd := exec.Command(binary, "run", "--sandbox", "uml", "fixtures/pass.md")
		cmd.Dir = repoRoot
		cmd.Env = append(testEnv(), "LD_PRELOAD="+so, "TMPDIR="+tmp)
		var out, errb bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &errb
		cmd.Run()
		msg := errb.String()
		if code := cmd.ProcessState.ExitCode(); code != 2 || strings.Count(msg, "\n") != 1 || out.Len() > 0 {
			t.Errorf("exit status %d, stdout %q, stderr %q: want 2 and one line on stderr", code, out.String(), msg)
		}
		logs, _ := filepath.Glob(filepath.Join(tmp, "wordish-uml-console-*.log"))
		if len(logs) != 1 {
			t.Fatalf("console logs in TMPDIR: %v", logs)
		}
		for _, want := range []string{"wordish: --sandbox uml: uml: UML kernel panic: ptrace set fp regs failed", "wordish sandbox check", logs[0]} {
			if !strings.Contains(msg, want) {
				t.Errorf("stderr %q lacks %q", msg, want)
			}
		}
		os.Remove(logs[0])
		assertNothingLeft(t, tmp)
	})
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

// TestSandboxOutputs: report files asked for on the host (--html, --junit)
// are written by the guest and come back.
func TestSandboxOutputs(t *testing.T) {
	sandboxSkip(t)
	dir := t.TempDir()
	html, junit := filepath.Join(dir, "r.html"), filepath.Join(dir, "r.xml")
	_, stderr, code := wordish(t, "run", "--sandbox", "vm", "--html", html, "--junit", junit, "fixtures/pass.md")
	if code != 0 {
		t.Fatalf("exit status %d, stderr:\n%s", code, stderr)
	}
	for _, p := range []string{html, junit} {
		if data, err := os.ReadFile(p); err != nil || !bytes.Contains(data, []byte("pass.md")) {
			t.Errorf("%s: %v, %d bytes; want the report of fixtures/pass.md", p, err, len(data))
		}
	}
}
