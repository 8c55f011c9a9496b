package main

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/wordish-go/wordish/parser"
)

// buildWordish builds the command once per test into a temporary directory.
func buildWordish(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "wordish")
	out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

func runBin(t *testing.T, bin string, args ...string) (stdout, stderr string, status int) {
	t.Helper()
	cmd := exec.Command(bin, args...)
	var o, e bytes.Buffer
	cmd.Stdout, cmd.Stderr = &o, &e
	err := cmd.Run()
	if ee, ok := err.(*exec.ExitError); ok {
		status = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return o.String(), e.String(), status
}

type jsonStep struct {
	File     string         `json:"file"`
	Line     int            `json:"line"`
	Prompt   string         `json:"prompt"`
	Command  string         `json:"command"`
	Expected string         `json:"expected"`
	Root     bool           `json:"root"`
	Options  map[string]any `json:"options"`
}

func TestListEndToEnd(t *testing.T) {
	bin := buildWordish(t)
	dir := t.TempDir()
	md := filepath.Join(dir, "a.md")
	os.WriteFile(md, []byte("Intro.\n\n<!-- wordish: timeout=90s -->\n```console\n$ echo hi\nhi\n\n# not a prompt here\n$ false # wordish: status=1\n```\n\n```\n# id -u\n0\n```\n"), 0o644)
	bad := filepath.Join(dir, "b.md")
	os.WriteFile(bad, []byte("```console\n$ ls # wordish: sikp\n```\n"), 0o644)
	odd := filepath.Join(dir, "c.doc")
	os.WriteFile(odd, []byte("<pre>$ pwd\n/tmp\n</pre>\n"), 0o644)

	t.Run("json", func(t *testing.T) {
		out, errOut, status := runBin(t, bin, "list", "--json", md)
		if status != 0 || errOut != "" {
			t.Fatalf("status %d, stderr %q", status, errOut)
		}
		var steps []jsonStep
		if err := json.Unmarshal([]byte(out), &steps); err != nil {
			t.Fatalf("%v\n%s", err, out)
		}
		if len(steps) != 3 {
			t.Fatalf("%d steps: %s", len(steps), out)
		}
		s := steps[0]
		if s.File != md || s.Line != 5 || s.Command != "echo hi" || s.Expected != "hi" /* the "#" line is an annotation (parser/doc.go) */ || s.Root || s.Prompt != "$ " ||
			s.Options["timeout"] != "1m30s" || s.Options["status"] != "0" {
			t.Errorf("step 0: %+v", s)
		}
		if s := steps[1]; s.Line != 9 || s.Options["status"] != "1" || s.Options["timeout"] != "1m30s" {
			t.Errorf("step 1: %+v", s)
		}
		if s := steps[2]; s.Line != 13 || !s.Root || s.Command != "id -u" || s.Expected != "0" || s.Options["timeout"] != nil {
			t.Errorf("step 2: %+v", s)
		}
		// Exactly the keys the issue asks for, at least.
		var raw []map[string]any
		json.Unmarshal([]byte(out), &raw)
		for _, k := range []string{"file", "line", "command", "expected", "root", "options", "prompt"} {
			if _, ok := raw[0][k]; !ok {
				t.Errorf("no key %q", k)
			}
		}
	})

	t.Run("text", func(t *testing.T) {
		out, _, status := runBin(t, bin, "list", md)
		if status != 0 || !strings.Contains(out, md+":5:") || !strings.Contains(out, "$ false # wordish: status=1") || !strings.Contains(out, "[status=1 timeout=1m30s]") {
			t.Errorf("status %d:\n%s", status, out)
		}
	})

	t.Run("errors", func(t *testing.T) {
		out, errOut, status := runBin(t, bin, "list", "--json", bad, filepath.Join(dir, "missing.md"), odd, md, filepath.Join("..", "..", "go.mod"))
		if status != 2 {
			t.Errorf("status %d", status)
		}
		want := []string{
			"wordish: " + bad + `:2: unknown option "sikp"`,
			"wordish: " + filepath.Join(dir, "missing.md") + ": no such file or directory",
			"wordish: " + odd + `: unknown file type ".doc"; use --format ` + parser.FormatNames(),
			"wordish: " + filepath.Join("..", "..", "go.mod") + `: unknown file type ".mod"; use --format ` + parser.FormatNames(),
		}
		if got := strings.Split(strings.TrimSuffix(errOut, "\n"), "\n"); strings.Join(got, "\n") != strings.Join(want, "\n") {
			t.Errorf("stderr:\n%s\nwant:\n%s", errOut, strings.Join(want, "\n"))
		}
		var steps []jsonStep
		if err := json.Unmarshal([]byte(out), &steps); err != nil || len(steps) != 3 {
			t.Errorf("the good file is still listed: %v %s", err, out)
		}
	})

	t.Run("format and prompt", func(t *testing.T) {
		out, errOut, status := runBin(t, bin, "list", "--json", "--format", "html", odd)
		var steps []jsonStep
		json.Unmarshal([]byte(out), &steps)
		if status != 0 || len(steps) != 1 || steps[0].Expected != "/tmp" {
			t.Errorf("status %d %s %s", status, errOut, out)
		}
		sql := filepath.Join(dir, "d.md")
		os.WriteFile(sql, []byte("```\nsql> SELECT 1;\n1\n```\n"), 0o644)
		out, _, _ = runBin(t, bin, "list", "--json", "--prompt", "sql> ", "--prompt", "x# ", sql)
		steps = nil
		json.Unmarshal([]byte(out), &steps)
		if len(steps) != 1 || steps[0].Command != "SELECT 1;" {
			t.Errorf("--prompt: %s", out)
		}
		if _, _, status := runBin(t, bin, "list", "--format", "pdf", md); status != 2 {
			t.Errorf("--format pdf: status %d", status)
		}
		if out, errOut, status := runBin(t, bin, "list", "--help"); status != 0 || !strings.Contains(out+errOut, "usage: wordish list") {
			t.Errorf("--help: status %d %q", status, out+errOut)
		}
		if _, _, status := runBin(t, bin, "list"); status != 2 {
			t.Errorf("no files: status %d", status)
		}
	})

	t.Run("lvm article", func(t *testing.T) {
		articles := filepath.Join("..", "..", "..", "shared", "articles")
		rst, html := filepath.Join(articles, "lvm-2010.rst"), filepath.Join(articles, "lvm-2010.html")
		if _, err := os.Stat(rst); err != nil {
			t.Skip("shared articles not present")
		}
		list := func(path string) []jsonStep {
			out, errOut, status := runBin(t, bin, "list", "--json", path)
			if status != 0 {
				t.Fatalf("%s: status %d: %s", path, status, errOut)
			}
			var steps []jsonStep
			if err := json.Unmarshal([]byte(out), &steps); err != nil {
				t.Fatal(err)
			}
			return steps
		}
		r, h := list(rst), list(html)
		if len(r) != 41 || len(h) != 41 {
			t.Fatalf("%d and %d steps, want 41", len(r), len(h))
		}
		norm := func(c string) string {
			ls := strings.Split(c, "\n")
			for i := range ls {
				ls[i] = strings.TrimLeft(ls[i], " \t")
			}
			return strings.Join(ls, "\n")
		}
		for i := range r {
			if norm(r[i].Command) != norm(h[i].Command) || r[i].Expected != h[i].Expected {
				t.Errorf("step %d: %q %q / %q %q", i, r[i].Command, r[i].Expected, h[i].Command, h[i].Expected)
			}
		}
	})
}
