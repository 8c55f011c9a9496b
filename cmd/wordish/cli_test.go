package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/creack/pty"
)

// End-to-end tests of the command line itself (issue 13): usage errors,
// the summary, selection, CI output, sharding, version. Each golden file
// fixtures/cli-NAME.golden holds the exit status, standard output and
// standard error of one run from the repository root
// (`go test ./cmd/wordish -run CLIGolden -update` rewrites them).

// wordishEnv is wordish with extra environment variables (K=V; "K="
// alone removes K).
func wordishEnv(t *testing.T, extra []string, args ...string) (string, string, int) {
	t.Helper()
	cmd := exec.Command(binary, args...)
	cmd.Dir = repoRoot
	cmd.Env = withEnv(testEnv(), extra...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code := 0
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return out.String(), errb.String(), code
}

// withEnv sets (K=V) or removes (K=) variables of env.
func withEnv(env []string, extra ...string) []string {
	for _, kv := range extra {
		k, v, _ := strings.Cut(kv, "=")
		kept := env[:0:0]
		for _, e := range env {
			if !strings.HasPrefix(e, k+"=") {
				kept = append(kept, e)
			}
		}
		env = kept
		if v != "" {
			env = append(env, kv)
		}
	}
	return env
}

func TestCLIGolden(t *testing.T) {
	tests := []struct {
		name string
		env  []string
		args []string
	}{
		// 1. Usage errors: exit 2, one line starting "wordish: ", a
		// suggestion, nothing run.
		{"typo-command", nil, []string{"upate", "README.md"}},
		{"unknown-command", nil, []string{"frobnicate", "README.md"}},
		{"typo-flag", nil, []string{"run", "--tiemout", "1s", "fixtures/pass.md"}},
		{"typo-flag-list", nil, []string{"list", "--jsn", "fixtures/pass.md"}},
		{"missing-shell", nil, []string{"--shell", "nosuch", "fixtures/pass.md"}},
		{"flag-value", nil, []string{"fixtures/pass.md", "-j"}},
		// 2. The summary counts the documents it could not read.
		{"unreadable", nil, []string{"fixtures/pass.md", "fixtures/bad-option.md", "fixtures/missing.md"}},
		// 3. Selection.
		{"file-line", nil, []string{"-v", "fixtures/pass.md:10"}},
		{"file-lines", nil, []string{"fixtures/fail.md:9,30", "fixtures/pass.md:11"}},
		{"file-line-none", nil, []string{"fixtures/pass.md:3"}},
		{"run-regex", nil, []string{"-v", "--run", `pass.md/L(10|34)_`, "fixtures/pass.md", "fixtures/fail.md"}},
		{"run-none", nil, []string{"--run", "nosuchstep", "fixtures/pass.md"}},
		{"run-bad", nil, []string{"--run", "(", "fixtures/pass.md"}},
		{"directory", nil, []string{"fixtures/tree"}},
		{"directory-list", nil, []string{"list", "fixtures/tree/sub"}},
		{"doublestar", nil, []string{"fixtures/tree/**/*.md"}},
		{"pattern-none", nil, []string{"fixtures/tree/**/*.nope"}},
		// 4. CI output.
		{"quiet", nil, []string{"-q", "fixtures/pass.md", "fixtures/fail.md", "fixtures/error.md"}},
		{"recap", nil, []string{"fixtures/pass.md", "fixtures/fail.md", "fixtures/error.md"}},
		{"color-always", nil, []string{"--color=always", "fixtures/fail.md"}},
		{"force-color", []string{"NO_COLOR=", "FORCE_COLOR=1"}, []string{"fixtures/fail.md"}},
		{"no-color-wins", []string{"NO_COLOR=1", "FORCE_COLOR=1"}, []string{"fixtures/fail.md"}},
		{"color-never", []string{"NO_COLOR=", "FORCE_COLOR=1"}, []string{"--color", "never", "fixtures/fail.md"}},
		{"color-bad", nil, []string{"--color=sometimes", "fixtures/fail.md"}},
		// 5. Sharding.
		{"shard", nil, []string{"--shard", "2/3", "fixtures/tree"}},
		{"shard-bad", nil, []string{"--shard", "4/3", "fixtures/tree"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, errOut, code := wordishEnv(t, tt.env, tt.args...)
			got := "$ wordish " + strings.Join(tt.args, " ") + "\n" +
				"exit status " + strconv.Itoa(code) + "\n--- stdout\n" + out + "--- stderr\n" + errOut
			got = durationRE.ReplaceAllString(got, " (TIME)")
			checkGolden(t, "cli-"+tt.name, got)
			if errOut != "" && !strings.HasPrefix(errOut, "wordish: ") {
				t.Errorf("stderr does not start with \"wordish: \": %q", errOut)
			}
			if code == 2 && out == "" && strings.Count(errOut, "\n") != 1 {
				t.Errorf("a usage error is one line: %q", errOut)
			}
		})
	}
}

// On a terminal, the report is coloured and a progress line names the
// running step, with the total and its time, redrawn while it runs; with
// TERM=dumb there is no control sequence at all.
func TestCLITerminal(t *testing.T) {
	dir := t.TempDir()
	doc := filepath.Join(dir, "slow.md")
	os.WriteFile(doc, []byte("```console\n$ echo one\none\n$ sleep 1.2\n$ echo tow\ntwo\n```\n"), 0o644)
	run := func(term string) string {
		cmd := exec.Command(binary, doc)
		cmd.Env = withEnv(testEnv(), "NO_COLOR=", "FORCE_COLOR=", "TERM="+term)
		f, err := pty.StartWithSize(cmd, &pty.Winsize{Rows: 24, Cols: 80})
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		var out bytes.Buffer
		io.Copy(&out, f) // until the child closes it (EIO)
		if err := cmd.Wait(); err == nil || cmd.ProcessState.ExitCode() != 1 {
			t.Errorf("TERM=%s: exit %v, want status 1\n%q", term, err, out.String())
		}
		return out.String()
	}

	out := run("xterm")
	for _, want := range []string{
		"[1/3] " + doc + ":2: $ echo one (",
		"\r\x1b[K[2/3] " + doc + ":4: $ sleep 1.2 (0.",
		"\x1b[31mFAIL\x1b[0m " + doc + ":5: $ echo tow",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("TERM=xterm: no %q in\n%q", want, out)
		}
	}
	// The running step's time goes on while it runs.
	times := regexp.MustCompile(`\[2/3\] [^\r]*sleep 1\.2 \((\d+\.\d)s\)`).FindAllStringSubmatch(out, -1)
	seen := map[string]bool{}
	for _, m := range times {
		seen[m[1]] = true
	}
	if len(seen) < 2 {
		t.Errorf("the progress line was not redrawn while the step ran: %q", times)
	}
	if !strings.HasSuffix(out, "\r\x1b[K"+"\x1b[31mFAIL\x1b[0m "+doc+": 2 passed, 1 failed, 0 errored, 0 skipped, 0 not run\r\n2 passed, 1 failed, 0 errored, 0 skipped, 0 not run\r\n") &&
		!strings.HasSuffix(out, "\x1b[31mFAIL\x1b[0m "+doc+": 2 passed, 1 failed, 0 errored, 0 skipped, 0 not run\r\n2 passed, 1 failed, 0 errored, 0 skipped, 0 not run\r\n") {
		t.Errorf("TERM=xterm: the report does not end with the summary:\n%q", out)
	}

	out = run("dumb")
	if strings.ContainsAny(out, "\x1b") || strings.Contains(strings.ReplaceAll(out, "\r\n", "\n"), "\r") {
		t.Errorf("TERM=dumb: control sequences in\n%q", out)
	}
	if !strings.Contains(out, "FAIL "+doc+":5: $ echo tow") {
		t.Errorf("TERM=dumb: no report:\n%q", out)
	}
}

// The N shards of a run replay every document exactly once between them,
// whatever N, by step count or by the times of a previous report.
func TestCLIShardUnion(t *testing.T) {
	_, _, code := wordish(t, "list", "fixtures/tree")
	if code != 0 {
		t.Fatalf("list: exit %d", code)
	}
	all := docsOf(t, "fixtures/tree")
	if len(all) != 5 {
		t.Fatalf("fixtures/tree: %d documents: %q", len(all), all)
	}
	dir := t.TempDir()
	timing := filepath.Join(dir, "timing.json")
	junit := filepath.Join(dir, "timing.xml")
	if _, errOut, code := wordish(t, "--json", timing, "--junit", junit, "fixtures/tree"); code != 0 {
		t.Fatalf("timing run: exit %d\n%s", code, errOut)
	}
	for _, n := range []int{1, 2, 3, 5, 7} {
		for _, extra := range [][]string{nil, {"--shard-timing", timing}, {"--shard-timing", junit}} {
			var union []string
			for k := 1; k <= n; k++ {
				args := append([]string{"--shard", strconv.Itoa(k) + "/" + strconv.Itoa(n)}, extra...)
				union = append(union, docsOf(t, append(args, "fixtures/tree")...)...)
			}
			sort.Strings(union)
			if strings.Join(union, " ") != strings.Join(all, " ") {
				t.Errorf("N=%d %q: the shards replayed %q, want each of %q once", n, extra, union, all)
			}
		}
	}
}

// docsOf runs wordish and returns the documents its report lists.
func docsOf(t *testing.T, args ...string) []string {
	t.Helper()
	out, errOut, code := wordish(t, args...)
	if code != 0 {
		t.Fatalf("wordish %q: exit %d\n%s%s", args, code, out, errOut)
	}
	var docs []string
	for _, line := range strings.Split(out, "\n") {
		if p, ok := strings.CutPrefix(line, "ok   "); ok {
			docs = append(docs, p[:strings.Index(p, ": ")])
		}
	}
	sort.Strings(docs)
	return docs
}

// `wordish version` says which module version and commit it was built
// from, as Go recorded them.
func TestCLIVersion(t *testing.T) {
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("no git")
	}
	head, err := exec.Command("git", "-C", repoRoot, "rev-parse", "HEAD").Output()
	if err != nil {
		t.Skipf("not a git work tree: %v", err)
	}
	bin := filepath.Join(t.TempDir(), "wordish")
	build := exec.Command("go", "build", "-buildvcs=true", "-o", bin, ".")
	build.Env = withEnv(os.Environ(), "GOFLAGS=")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build -buildvcs=true: %v\n%s", err, out)
	}
	out, err := exec.Command(bin, "version").Output()
	if err != nil {
		t.Fatal(err)
	}
	re := regexp.MustCompile(`^wordish (\(devel\)|v\S+) \(commit ([0-9a-f]{40})(, modified)?, go1\.\S+\)\n$`)
	m := re.FindStringSubmatch(string(out))
	if fi, err := os.Stat(filepath.Join(repoRoot, ".git")); m == nil && err == nil && !fi.IsDir() {
		// go build does not see a git worktree (.git is a file there)
		// as a repository: no VCS information to show.
		t.Logf("a git worktree: no commit recorded: %q", out)
		re = regexp.MustCompile(`^wordish \(devel\) \(go1\.\S+\)\n$`)
		if !re.Match(out) {
			t.Errorf("wordish version = %q, want %s", out, re)
		}
	} else if m == nil {
		t.Fatalf("wordish version = %q, want %s", out, re)
	} else if m[2] != strings.TrimSpace(string(head)) {
		t.Errorf("commit %s, want HEAD %s", m[2], head)
	}

	// -X main.version wins; without VCS information only Go's version.
	build = exec.Command("go", "build", "-buildvcs=false", "-ldflags", "-X main.version=v1.2.3", "-o", bin, ".")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	out, _ = exec.Command(bin, "--version").Output()
	if !regexp.MustCompile(`^wordish v1\.2\.3 \(go1\.\S+\)\n$`).Match(out) {
		t.Errorf("wordish --version = %q", out)
	}
	_, errOut, code := wordish(t, "version", "extra")
	if code != 2 || !strings.HasPrefix(errOut, "wordish: ") {
		t.Errorf("version extra: exit %d, stderr %q", code, errOut)
	}
}

// `gotestsum --raw-command -- wordish run --json - ...` renders each step
// once: with --json -, standard output is the event stream and nothing
// else is written beside it.
func TestCLIGotestsum(t *testing.T) {
	if testing.Short() {
		t.Skip("installs gotestsum")
	}
	gobin := t.TempDir()
	install := exec.Command("go", "install", "gotest.tools/gotestsum@v1.13.0")
	install.Env = withEnv(os.Environ(), "GOBIN="+gobin, "GOFLAGS=")
	if out, err := install.CombinedOutput(); err != nil {
		if bytes.Contains(out, []byte("proxy")) || bytes.Contains(out, []byte("dial tcp")) || bytes.Contains(out, []byte("lookup ")) {
			t.Skipf("the module proxy refused gotestsum: %v\n%s", err, out)
		}
		t.Fatalf("go install gotestsum: %v\n%s", err, out)
	}
	cmd := exec.Command(filepath.Join(gobin, "gotestsum"), "--format", "testname", "--no-color",
		"--raw-command", "--", binary, "run", "--json", "-", "fixtures/pass.md", "fixtures/fail.md")
	cmd.Dir = repoRoot
	cmd.Env = testEnv()
	out, err := cmd.CombinedOutput()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 1 {
		t.Fatalf("gotestsum: %v, want exit status 1\n%s", err, out)
	}
	text := string(out)
	// gotestsum's testname format: one verdict line per test, and the
	// output (the diff) of each failed one.
	for _, step := range []string{"fixtures/pass.md/L10_greet_world", "fixtures/fail.md/L7_echo_hello_world", "fixtures/fail.md/L20_echo_still_running"} {
		verdict := regexp.MustCompile(`(?m)^(PASS|FAIL|SKIP) wordish\.` + regexp.QuoteMeta(step) + ` \(`)
		if n := len(verdict.FindAllString(text, -1)); n != 1 {
			t.Errorf("%s shows %d times, want once:\n%s", step, n, text)
		}
	}
	if strings.Contains(text, "passed, 1 failed") || strings.Contains(text, "ok   fixtures/pass.md") {
		t.Errorf("the text report is mixed in:\n%s", text)
	}
	// And the stream alone on stdout, stderr empty.
	stdout, stderr, code := wordish(t, "run", "--json", "-", "fixtures/pass.md")
	if code != 0 || stderr != "" {
		t.Errorf("--json -: exit %d, stderr %q", code, stderr)
	}
	for _, line := range strings.Split(strings.TrimSpace(stdout), "\n") {
		if !json.Valid([]byte(line)) {
			t.Errorf("not an event: %q", line)
		}
	}
}
