package main

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// goldenStep is one step of a fixtures/articles/*.list.json golden. The
// goldens are written by hand from what a reader of the article sees;
// options left out mean the defaults.
type goldenStep struct {
	File     string         `json:"file"`
	Line     int            `json:"line"`
	Prompt   string         `json:"prompt"`
	Root     bool           `json:"root"`
	Command  string         `json:"command"`
	Expected string         `json:"expected"`
	Options  map[string]any `json:"options,omitempty"`
	Origin   string         `json:"origin,omitempty"`
}

var defaultOptions = map[string]any{"skip": false, "cleanup": false, "status": "0", "ignore-output": false,
	"stderr": false, "norm-ws": false, "regex": false, "merged": false}

// TestArticles lists every article of fixtures/articles, written in the
// styles of real projects' documentation, and compares the steps with
// the hand-written golden next to it. An article whose golden is empty
// must say that it has no sessions.
func TestArticles(t *testing.T) {
	bin := buildWordish(t)
	dir, err := filepath.Abs(filepath.Join("..", "..", "fixtures", "articles"))
	if err != nil {
		t.Fatal(err)
	}
	goldens, _ := filepath.Glob(filepath.Join(dir, "*.list.json"))
	if len(goldens) < 15 {
		t.Fatalf("%d articles with goldens in %s, want at least 15", len(goldens), dir)
	}
	for _, g := range goldens {
		name := strings.TrimSuffix(filepath.Base(g), ".list.json")
		t.Run(name, func(t *testing.T) {
			var want []goldenStep
			b, err := os.ReadFile(g)
			if err != nil {
				t.Fatal(err)
			}
			if err := json.Unmarshal(b, &want); err != nil {
				t.Fatalf("%s: %v", g, err)
			}
			for i := range want {
				o := map[string]any{}
				for k, v := range defaultOptions {
					o[k] = v
				}
				for k, v := range want[i].Options {
					o[k] = v
				}
				want[i].Options = o
			}
			cmd := exec.Command(bin, "list", "--json", name)
			cmd.Dir = dir
			var o, e bytes.Buffer
			cmd.Stdout, cmd.Stderr = &o, &e
			status := 0
			if err := cmd.Run(); err != nil {
				ee, ok := err.(*exec.ExitError)
				if !ok {
					t.Fatal(err)
				}
				status = ee.ExitCode()
			}
			out, errOut := o.String(), e.String()
			if status != 0 {
				t.Fatalf("status %d: %s", status, errOut)
			}
			var got []goldenStep
			if err := json.Unmarshal([]byte(out), &got); err != nil {
				t.Fatalf("%v\n%s", err, out)
			}
			if got == nil {
				got = []goldenStep{}
			}
			if want == nil {
				want = []goldenStep{}
			}
			if d := cmp.Diff(want, got); d != "" {
				t.Errorf("wordish list --json %s (-golden +got):\n%s", name, d)
			}
			noSessions := name + ": no shell sessions found\n"
			if len(want) == 0 && errOut != noSessions {
				t.Errorf("stderr %q, want %q", errOut, noSessions)
			} else if len(want) > 0 && errOut != "" {
				t.Errorf("stderr %q", errOut)
			}
		})
	}
}

// TestNoSessions: run and list say which files hold no session, on stderr,
// and count them as 0 steps with the usual status.
func TestNoSessions(t *testing.T) {
	bin := buildWordish(t)
	dir := filepath.Join("..", "..", "fixtures", "articles")
	for _, args := range [][]string{{"run"}, {"list"}, {"list", "--json"}} {
		cmd := exec.Command(bin, append(args, "typo-fence.md", "release-notes.txt", "rust-readme.md")...)
		if args[0] == "run" {
			cmd.Args = append(cmd.Args[:2], "typo-fence.md", "release-notes.txt") // rust-readme.md would install things
		}
		cmd.Dir = dir
		var o, e bytes.Buffer
		cmd.Stdout, cmd.Stderr = &o, &e
		if err := cmd.Run(); err != nil {
			t.Errorf("%v: %v\n%s", args, err, e.String())
		}
		want := "typo-fence.md: no shell sessions found\nrelease-notes.txt: no shell sessions found\n"
		if e.String() != want {
			t.Errorf("%v: stderr %q, want %q", args, e.String(), want)
		}
		if args[0] == "run" && !strings.Contains(o.String(), "0 passed, 0 failed") {
			t.Errorf("run: no summary of 0 steps:\n%s", o.String())
		}
	}
}
