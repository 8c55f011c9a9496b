package wordishtest_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestGoTestModule is issue 6's acceptance test: a throwaway Go module that
// imports this one (through a replace directive) checks a small article
// with `go test`, as a user's project would. The article has a passing
// step and a drifted one that depends on the first's shell state.
func TestGoTestModule(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs go test in a throwaway module")
	}
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go command")
	}
	repo, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	sum, err := os.ReadFile(filepath.Join(repo, "go.sum"))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	write := func(name, text string) {
		t.Helper()
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("go.mod", "module example.com/userdocs\n\ngo 1.26\n\n"+
		"require github.com/wordish-go/wordish v0.0.0\n\n"+
		"replace github.com/wordish-go/wordish => "+repo+"\n")
	// The repository's go.sum holds the checksums of everything the runner
	// package needs, so the throwaway module builds offline from the
	// module cache.
	write("go.sum", string(sum))
	write("docs_test.go", `package userdocs

import (
	"testing"

	"github.com/wordish-go/wordish"
	"github.com/wordish-go/wordish/wordishtest"
)

func TestDocs(t *testing.T) {
	wordishtest.Test(t, wordish.Config{}, "article.md")
}
`)
	article := "# Greeting\n\n```console\n" +
		"$ greeting=hello; echo $greeting\n" + // line 4
		"hello\n" +
		"$ echo \"$greeting world\"\n" + // line 6
		"hello there\n" +
		"```\n"
	write("article.md", article)

	goTest := func(env []string, args ...string) (string, bool) {
		t.Helper()
		cmd := exec.Command(goBin, append([]string{"test", "-count=1"}, args...)...)
		cmd.Dir = dir
		cmd.Env = append(os.Environ(),
			"GOFLAGS=-mod=mod", "GOPROXY=off", "GOWORK=off", "GOSUMDB=off", "WORDISH_UPDATE=")
		cmd.Env = append(cmd.Env, env...)
		out, err := cmd.CombinedOutput()
		if _, isExit := err.(*exec.ExitError); err != nil && !isExit {
			t.Fatal(err)
		}
		if bytes.Contains(out, []byte("[setup failed]")) || bytes.Contains(out, []byte("[build failed]")) {
			t.Fatalf("the throwaway module does not build:\n%s", out)
		}
		return string(out), err == nil
	}

	// 1. go test fails, naming the drifted step's file:line, with the diff.
	out, ok := goTest(nil, "-v")
	if ok {
		t.Fatalf("go test passed on a drifted article:\n%s", out)
	}
	for _, want := range []string{
		"article.md:6: $ echo \"$greeting world\"",
		"-hello there",
		"+hello world", // the state of step 4 was replayed
		"--- PASS: TestDocs/article.md/L4_greeting_hello_echo_greeting",
		"--- FAIL: TestDocs/article.md/L6_echo_greeting_world",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("go test output lacks %q:\n%s", want, out)
		}
	}

	// 2. go test -json: one pass and one fail event for the step subtests.
	out, _ = goTest(nil, "-json")
	steps := jsonStepActions(t, out, "TestDocs/article.md/")
	if want := map[string]string{
		"TestDocs/article.md/L4_greeting_hello_echo_greeting": "pass",
		"TestDocs/article.md/L6_echo_greeting_world":          "fail",
	}; !equalMaps(steps, want) {
		t.Errorf("go test -json step results %v, want %v", steps, want)
	}

	// 3. -run selects one step: it is still replayed after the first one,
	// which is not reported.
	out, _ = goTest(nil, "-json", "-run", "TestDocs/article.md/L6")
	steps = jsonStepActions(t, out, "TestDocs/article.md/")
	if want := map[string]string{"TestDocs/article.md/L6_echo_greeting_world": "fail"}; !equalMaps(steps, want) {
		t.Errorf("go test -run L6: step results %v, want %v", steps, want)
	}
	if !strings.Contains(out, "+hello world") {
		t.Errorf("go test -run L6: the earlier step was not replayed:\n%s", out)
	}

	// 4. WORDISH_UPDATE=1 rewrites the article, and only its drifted output.
	out, ok = goTest([]string{"WORDISH_UPDATE=1"})
	if !ok {
		t.Errorf("go test in update mode failed:\n%s", out)
	}
	got, err := os.ReadFile(filepath.Join(dir, "article.md"))
	if err != nil {
		t.Fatal(err)
	}
	if want := strings.Replace(article, "hello there", "hello world", 1); string(got) != want {
		t.Errorf("updated article:\n%s\nwant:\n%s", got, want)
	}

	// 5. Then go test passes.
	if out, ok := goTest(nil); !ok {
		t.Errorf("go test after the update failed:\n%s", out)
	}
}

// jsonStepActions returns the final action (pass, fail, skip) of each test
// under prefix in a `go test -json` stream.
func jsonStepActions(t *testing.T, stream, prefix string) map[string]string {
	t.Helper()
	got := map[string]string{}
	sc := bufio.NewScanner(strings.NewReader(stream))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var e struct{ Action, Test string }
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
			t.Fatalf("not a test2json event: %q: %v", sc.Text(), err)
		}
		if strings.HasPrefix(e.Test, prefix) && (e.Action == "pass" || e.Action == "fail" || e.Action == "skip") {
			got[e.Test] = e.Action
		}
	}
	return got
}

func equalMaps(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}
