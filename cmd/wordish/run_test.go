package main

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"
)

// End-to-end tests: the wordish binary, built once, replays the fixture
// articles in fixtures/ from the repository root (so the paths in the
// report are stable), and its whole text report is compared with
// fixtures/NAME.golden. `go test ./cmd/wordish -run Golden -update`
// rewrites the golden files; read the diff before committing them.

var update = flag.Bool("update", false, "rewrite the golden files")

var binary string // the wordish binary under test

const repoRoot = "../.."

func TestMain(m *testing.M) {
	flag.Parse()
	dir, err := os.MkdirTemp("", "wordish-e2e-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	binary = filepath.Join(dir, "wordish")
	build := exec.Command("go", "build", "-o", binary, ".")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "building wordish:", err)
		os.RemoveAll(dir)
		os.Exit(2)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// wordish runs the binary from the repository root without a terminal
// and without colours, returning stdout, stderr and the exit status.
func wordish(t *testing.T, args ...string) (string, string, int) {
	t.Helper()
	cmd := exec.Command(binary, args...)
	cmd.Dir = repoRoot
	cmd.Env = testEnv()
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return out.String(), errb.String(), code
}

func testEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "WORDISH_") {
			env = append(env, kv)
		}
	}
	return append(env, "NO_COLOR=1")
}

// durations in -v reports: " (12.3ms)" at the end of a line.
var durationRE = regexp.MustCompile(`(?m) \((\d+(\.\d+)?(ns|µs|ms|s)|\d+m[\d.]+s)\)$`)

func checkGolden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join(repoRoot, "fixtures", name+".golden")
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if got != string(want) {
		t.Errorf("report differs from %s:\n%s", path, lineDiff(string(want), got))
	}
}

// lineDiff is a minimal "want/got" listing of the lines that differ.
func lineDiff(want, got string) string {
	w, g := strings.Split(want, "\n"), strings.Split(got, "\n")
	var b strings.Builder
	for i := 0; i < len(w) || i < len(g); i++ {
		var wl, gl string
		if i < len(w) {
			wl = w[i]
		}
		if i < len(g) {
			gl = g[i]
		}
		if wl != gl {
			fmt.Fprintf(&b, "line %d:\n  want %q\n  got  %q\n", i+1, wl, gl)
		}
	}
	return b.String()
}

func TestGolden(t *testing.T) {
	tests := []struct {
		name string
		args []string
		code int
	}{
		{"pass", []string{"fixtures/pass.md"}, 0},
		{"fail", []string{"fixtures/fail.md"}, 1},
		{"error", []string{"fixtures/error.md"}, 1},
		{"skip", []string{"-v", "fixtures/skip.md"}, 0},
		{"cleanup", []string{"fixtures/cleanup.md"}, 1},
		{"wildcard", []string{"fixtures/wildcard.md"}, 1},
		{"status", []string{"fixtures/status.md"}, 1},
		{"stderr", []string{"fixtures/stderr.md"}, 1},
		{"keep-going", []string{"--keep-going", "fixtures/keep-going.md"}, 1},
		{"no-keep-going", []string{"fixtures/keep-going.md"}, 1},
		{"timeout", []string{"fixtures/timeout.md"}, 1},
		{"timeout-flag", []string{"--timeout", "200ms", "fixtures/slow.md"}, 1},
		{"rst", []string{"-v", "fixtures/article.rst"}, 1},
		{"html", []string{"fixtures/article.html"}, 1},
		// Several documents in parallel: each one's report kept whole, in
		// argument order; an unreadable one is reported and exit is 2.
		{"several", []string{"-j", "3", "fixtures/error.md", "fixtures/missing.md", "fixtures/pass.md", "fixtures/skip.md"}, 2},
		// A mistyped directive: the document is refused (no command of it
		// runs), the others run, exit 2.
		{"bad-option", []string{"fixtures/bad-option.md", "fixtures/skip.md"}, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			out, errOut, code := wordish(t, tt.args...)
			if code != tt.code {
				t.Errorf("exit status %d, want %d; stderr:\n%s", code, tt.code, errOut)
			}
			checkSummaryLast(t, out)
			checkGolden(t, tt.name, durationRE.ReplaceAllString(out, " (TIME)"))
		})
	}
}

// checkSummaryLast checks the report's contract: its last line is the
// summary, with all five counts.
func checkSummaryLast(t *testing.T, out string) {
	t.Helper()
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	last := lines[len(lines)-1]
	if !regexp.MustCompile(`^\d+ passed, \d+ failed, \d+ errored, \d+ skipped, \d+ not run(; 1 document unreadable|; \d+ documents unreadable)?$`).MatchString(last) {
		t.Errorf("last line %q is not the summary", last)
	}
}

// SIGINT (SIGTERM) while a step runs: the step is interrupted, the rest
// is not run, the cleanup steps run, the report is printed, exit status
// 130 (143).
func TestInterrupt(t *testing.T) {
	for _, sig := range []syscall.Signal{syscall.SIGINT, syscall.SIGTERM} {
		t.Run(sig.String(), func(t *testing.T) { testInterrupt(t, sig) })
	}
}

func testInterrupt(t *testing.T, sig syscall.Signal) {
	work := t.TempDir()
	cmd := exec.Command(binary, "--workdir", work, "fixtures/interrupt.md")
	cmd.Dir = repoRoot
	cmd.Env = testEnv()
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// The step before the sleep creates scratch/started.
	deadline := time.Now().Add(10 * time.Second)
	for {
		if _, err := os.Stat(filepath.Join(work, "scratch", "started")); err == nil {
			break
		}
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			t.Fatal("the replay never reached the sleep")
		}
		time.Sleep(10 * time.Millisecond)
	}
	time.Sleep(200 * time.Millisecond) // into the sleep
	t0 := time.Now()
	cmd.Process.Signal(sig)
	err := cmd.Wait()
	if d := time.Since(t0); d > 5*time.Second {
		t.Errorf("took %s to stop after SIGINT", d)
	}
	ee, ok := err.(*exec.ExitError)
	if want := 128 + int(sig); !ok || ee.ExitCode() != want {
		t.Errorf("exit %v, want status %d; stderr:\n%s", err, want, errb.String())
	}
	if _, err := os.Stat(filepath.Join(work, "scratch")); !os.IsNotExist(err) {
		t.Errorf("the cleanup step did not remove scratch: %v", err)
	}
	checkSummaryLast(t, out.String())
	checkGolden(t, "interrupt", out.String())
}

// Root steps without root: an error naming the step, exit 2, and no
// command run. As root the test drops to nobody with setpriv.
func TestRootSteps(t *testing.T) {
	dir := t.TempDir()
	os.Chmod(dir, 0o777)
	src, err := os.ReadFile(filepath.Join(repoRoot, "fixtures", "root.md"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "root.md"), src, 0o644); err != nil {
		t.Fatal(err)
	}
	args := []string{binary, "--workdir", dir, "root.md"}
	if os.Geteuid() == 0 {
		setpriv, err := exec.LookPath("setpriv")
		if err != nil {
			t.Skip("running as root and no setpriv to drop privileges")
		}
		// The binary's directory must be reachable by nobody.
		os.Chmod(filepath.Dir(binary), 0o755)
		args = append([]string{setpriv, "--reuid", "65534", "--regid", "65534", "--clear-groups"}, args...)
	}
	cmd := exec.Command(args[0], args[1:]...)
	cmd.Dir = dir
	cmd.Env = testEnv()
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err = cmd.Run()
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 2 {
		t.Errorf("exit %v, want status 2", err)
	}
	want := `wordish: root.md:11: this step has a root prompt "#" but wordish is not running as root: run it as root, or in the VM sandbox with --sandbox vm` + "\n"
	if errb.String() != want {
		t.Errorf("stderr %q, want %q", errb.String(), want)
	}
	if out.Len() != 0 {
		t.Errorf("stdout %q", out.String())
	}
	if _, err := os.Stat(filepath.Join(dir, "ran")); err == nil {
		t.Error("a command ran")
	}
}

func TestUsage(t *testing.T) {
	tests := []struct {
		name    string
		args    []string
		code    int
		stdout  string // a substring
		stderr  string // a substring
		nothing bool   // stdout must be empty
	}{
		{"no file", []string{}, 2, "", "no FILE", true},
		{"bad flag", []string{"--nope", "fixtures/pass.md"}, 2, "", "wordish: unknown flag --nope (see: wordish run --help)\n", true},
		{"bad env", []string{"--env", "NOEQUALS", "fixtures/pass.md"}, 2, "", "want K=V", true},
		{"bad sandbox", []string{"--sandbox", "docker", "fixtures/pass.md"}, 2, "", "unknown sandbox", true},
		{"bad format", []string{"--format", "pdf", "fixtures/pass.md"}, 2, "", "unknown format", true},
		{"help", []string{"--help"}, 0, "Commands:", "", false},
		{"run help", []string{"run", "--help"}, 0, "-keep-going", "", false},
		{"help run", []string{"help", "run"}, 0, "-keep-going", "", false},
		{"help list", []string{"help", "list"}, 0, "usage: wordish list", "", false},
		{"version", []string{"version"}, 0, "wordish ", "", false},
		{"flags after files", []string{"fixtures/skip.md", "-v"}, 0, "SKIP fixtures/skip.md:5", "", false},
		{"unknown extension", []string{"fixtures/pass.golden"}, 2, "unknown file type", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, errOut, code := wordish(t, tt.args...)
			if code != tt.code {
				t.Errorf("exit %d, want %d", code, tt.code)
			}
			if !strings.Contains(out, tt.stdout) {
				t.Errorf("stdout lacks %q:\n%s", tt.stdout, out)
			}
			if !strings.Contains(errOut, tt.stderr) {
				t.Errorf("stderr lacks %q:\n%s", tt.stderr, errOut)
			}
			if tt.nothing && out != "" {
				t.Errorf("stdout not empty:\n%s", out)
			}
		})
	}
}

// --json gives a test2json stream: one test per document, a subtest per
// step, and the final package event; --junit well-formed XML.
func TestMachineReports(t *testing.T) {
	dir := t.TempDir()
	jsonPath, junitPath := filepath.Join(dir, "r.json"), filepath.Join(dir, "r.xml")
	out, errOut, code := wordish(t, "--json", jsonPath, "--junit", junitPath, "fixtures/fail.md", "fixtures/error.md")
	if code != 1 {
		t.Fatalf("exit %d; stderr:\n%s", code, errOut)
	}
	checkSummaryLast(t, out)

	data, err := os.ReadFile(jsonPath)
	if err != nil {
		t.Fatal(err)
	}
	type event struct {
		Action, Package, Test, Output string
	}
	actions := map[string]string{} // test -> final action
	var last event
	for _, line := range strings.Split(strings.TrimSpace(string(data)), "\n") {
		var e event
		if err := json.Unmarshal([]byte(line), &e); err != nil {
			t.Fatalf("not a JSON event: %q: %v", line, err)
		}
		if e.Action == "pass" || e.Action == "fail" || e.Action == "skip" {
			actions[e.Test] = e.Action
		}
		last = e
	}
	want := map[string]string{
		"fixtures/fail.md":                        "fail",
		"fixtures/fail.md/L7_echo_hello_world":    "fail",
		"fixtures/fail.md/L20_echo_still_running": "pass",
		"fixtures/error.md":                       "fail",
		"fixtures/error.md/L4_echo_one":           "pass",
		"fixtures/error.md/L7_echo_two":           "skip",
		"":                                        "fail", // the package
	}
	for test, action := range want {
		if actions[test] != action {
			t.Errorf("test %q: final action %q, want %q", test, actions[test], action)
		}
	}
	if last.Test != "" || last.Action != "fail" {
		t.Errorf("last event %+v, want the package's fail", last)
	}

	x, err := os.ReadFile(junitPath)
	if err != nil {
		t.Fatal(err)
	}
	var suites struct {
		Suites []struct {
			Name  string `xml:"name,attr"`
			Cases []struct {
				Name string `xml:"name,attr"`
			} `xml:"testcase"`
		} `xml:"testsuite"`
	}
	if err := xml.Unmarshal(x, &suites); err != nil {
		t.Fatalf("JUnit XML: %v\n%s", err, x)
	}
	// Suites come in the order the documents started: with -j, any.
	cases := map[string]int{}
	for _, s := range suites.Suites {
		cases[s.Name] = len(s.Cases)
	}
	if len(suites.Suites) != 2 || cases["fixtures/fail.md"] != 7 || cases["fixtures/error.md"] != 5 {
		t.Errorf("unexpected suites: %+v", suites)
	}
}
