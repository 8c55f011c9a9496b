package wordish

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/wordish-go/wordish/runner"
)

// TestRun runs the pipeline as a library: the summary's counts and exit
// status, the text report on Stdout, the messages on Stderr, and the
// usage errors where nothing runs.
func TestRun(t *testing.T) {
	if testing.Short() {
		t.Skip("replays articles")
	}
	dir := t.TempDir()
	write := func(name, src string) string {
		t.Helper()
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	pass := write("pass.md", "```console\n$ echo hi\nhi\n```\n")
	fail := write("fail.md", "```console\n$ echo one\nuno\n$ echo two\ntwo\n```\n")
	empty := write("empty.md", "no sessions here\n")
	page := write("page.html", "<pre>$ echo 1\n1\n</pre>\n")

	tests := []struct {
		name   string
		cfg    Config
		paths  []string
		err    string // a usage error
		status int
		counts runner.Counts
		docs   int
		stderr string
	}{
		{name: "pass", paths: []string{pass}, counts: runner.Counts{Passed: 1}, docs: 1},
		{name: "fail", paths: []string{pass, fail}, status: StatusFailed, counts: runner.Counts{Passed: 2, Failed: 1}, docs: 2},
		{name: "unreadable wins", paths: []string{fail, filepath.Join(dir, "missing.md")}, status: StatusBad, counts: runner.Counts{Passed: 1, Failed: 1}, docs: 2},
		{name: "no sessions", paths: []string{empty}, docs: 1, stderr: "empty.md: no shell sessions found"},
		{name: "selection", cfg: Config{Run: "L4_echo_two"}, paths: []string{pass, fail}, counts: runner.Counts{Passed: 1}, docs: 1},
		{name: "selects nothing", cfg: Config{Run: "nothing"}, paths: []string{pass}, err: "selects no step"},
		{name: "bad regexp", cfg: Config{Run: "("}, paths: []string{pass}, err: "--run"},
		{name: "report over an article", cfg: Config{}, paths: []string{pass}, err: "is one of the documents"},
		{name: "update refuses html", cfg: Config{Update: true}, paths: []string{pass, page}, err: "cannot rewrite an HTML page"},
		{name: "shard", cfg: Config{Shard: Shard{K: 2, N: 2}}, paths: []string{pass, fail}, counts: runner.Counts{Passed: 1}, docs: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out, errb bytes.Buffer
			cfg := tt.cfg
			cfg.Stdout, cfg.Stderr = &out, &errb
			if tt.name == "report over an article" {
				cfg.Report.Files = map[string]string{"junit": pass}
			}
			sum, err := Run(context.Background(), cfg, tt.paths)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("err = %v, want %q", err, tt.err)
				}
				if out.Len() != 0 {
					t.Errorf("a report after a usage error:\n%s", out.String())
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if sum.Status != tt.status || sum.Counts != tt.counts || len(sum.Docs) != tt.docs {
				t.Errorf("status %d, counts %v, %d docs; want %d, %v, %d\n%s", sum.Status, sum.Counts, len(sum.Docs), tt.status, tt.counts, tt.docs, out.String())
			}
			if !strings.Contains(out.String(), sum.Counts.String()) {
				t.Errorf("the text report lacks the summary %q:\n%s", sum.Counts, out.String())
			}
			if !strings.Contains(errb.String(), tt.stderr) {
				t.Errorf("stderr lacks %q:\n%s", tt.stderr, errb.String())
			}
		})
	}
}

// TestRunUpdateStops: with Update, a failed step is rewritten and does
// not make the status 1; a Chooser that asks to stop leaves the
// documents after it unreplayed and untouched.
func TestRunUpdateStops(t *testing.T) {
	if testing.Short() {
		t.Skip("replays articles")
	}
	dir := t.TempDir()
	var paths []string
	for _, name := range []string{"a.md", "b.md", "c.md"} {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte("```console\n$ echo new\nold\n```\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		paths = append(paths, p)
	}
	asked := 0
	cfg := Config{Update: true, Choose: func(r *runner.DocResult) ([]*runner.StepResult, bool) {
		asked++
		return r.Steps, filepath.Base(r.Path) == "b.md"
	}}
	// One job: the Chooser of update -i asks in document order.
	cfg.Jobs = 1
	sum, err := Run(context.Background(), cfg, paths)
	if err != nil {
		t.Fatal(err)
	}
	if asked != 2 || len(sum.Docs) != 2 || sum.Status != StatusOK {
		t.Errorf("asked %d times, %d docs replayed, status %d; want 2, 2, 0", asked, len(sum.Docs), sum.Status)
	}
	for i, want := range []string{"new", "new", "old"} {
		got, _ := os.ReadFile(paths[i])
		if !strings.Contains(string(got), "$ echo new\n"+want+"\n") {
			t.Errorf("%s afterwards:\n%s", paths[i], got)
		}
	}
	if sum.Rewritten[paths[0]] != 1 || sum.Rewritten[paths[2]] != 0 {
		t.Errorf("Rewritten = %v", sum.Rewritten)
	}
}
