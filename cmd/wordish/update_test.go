package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestUpdateCommand(t *testing.T) {
	if testing.Short() {
		t.Skip("replays articles")
	}
	tests := []struct {
		name    string
		file    string
		src     string
		args    []string
		status  int
		want    string // the file afterwards; "" = unchanged
		message string // in standard error
	}{{
		name:    "drift rewritten, wildcard kept",
		file:    "a.md",
		src:     "```console\n$ seq 3\n1\n...\n9\n$ echo same\nsame\n```\n",
		status:  0,
		want:    "```console\n$ seq 3\n1\n...\n3\n$ echo same\nsame\n```\n",
		message: "a.md: rewrote the expected output of 1 step(s)",
	}, {
		name:   "errored step not rewritten",
		file:   "b.md",
		src:    "```console\n$ echo out; false\nold\n$ echo x\ny\n```\n",
		status: 1,
	}, {
		name:    "html refused before replaying",
		file:    "c.html",
		src:     "<pre>$ echo 1 > ran\n2\n</pre>\n",
		status:  2,
		message: "update the source the page was built from",
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, tt.file)
			if err := os.WriteFile(path, []byte(tt.src), 0o644); err != nil {
				t.Fatal(err)
			}
			var out, errb bytes.Buffer
			args := append(append([]string{"--workdir", dir}, tt.args...), path)
			st := runUpdate(args, &out, &errb)
			if st != tt.status {
				t.Errorf("status %d, want %d\nstdout:\n%s\nstderr:\n%s", st, tt.status, out.String(), errb.String())
			}
			if !strings.Contains(errb.String(), tt.message) {
				t.Errorf("stderr lacks %q:\n%s", tt.message, errb.String())
			}
			got, _ := os.ReadFile(path)
			want := tt.want
			if want == "" {
				want = tt.src
			}
			if string(got) != want {
				t.Errorf("file afterwards:\n%s\nwant:\n%s", got, want)
			}
			if _, err := os.Stat(filepath.Join(dir, "ran")); err == nil {
				t.Errorf("a command ran")
			}
		})
	}
	var out, errb bytes.Buffer
	if st := runUpdate(nil, &out, &errb); st != 2 {
		t.Errorf("no file: status %d, want 2", st)
	}
}

// update -i needs the host's terminal: with --sandbox it is a usage error
// before any guest boots.
func TestUpdateInteractiveSandboxRefused(t *testing.T) {
	doc := filepath.Join(t.TempDir(), "a.md")
	if err := os.WriteFile(doc, []byte("```console\n$ echo hi\nho\n```\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, errOut, code := wordish(t, "update", "-i", "--sandbox", "vm", doc)
	if code != exitUsage || !strings.Contains(errOut, "update -i cannot ask from inside the sandbox") {
		t.Fatalf("exit %d, stderr %q; want exit %d and the reason", code, errOut, exitUsage)
	}
	if data, _ := os.ReadFile(doc); string(data) != "```console\n$ echo hi\nho\n```\n" {
		t.Errorf("the article changed: %q", data)
	}
}
