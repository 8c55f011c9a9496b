package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestScriptCommand(t *testing.T) {
	dir := t.TempDir()
	md := filepath.Join(dir, "a.md")
	if err := os.WriteFile(md, []byte("```console\n$ echo hi\nhi\n```\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		args       []string
		status     int
		stdout     string // a substring of standard output
		stderrPart string
	}{
		{[]string{md}, 0, "\n# " + md + ":2\necho hi\n# hi\n", ""},
		{[]string{}, 2, "", "wordish: script takes one FILE, got 0"},
		{[]string{md, md}, 2, "", "wordish: script takes one FILE, got 2"},
		{[]string{filepath.Join(dir, "missing.md")}, 2, "", "missing.md"},
		{[]string{"--format", "pdf", md}, 2, "", "unknown format"},
	}
	for _, tt := range tests {
		var out, errb bytes.Buffer
		st := runScript(tt.args, &out, &errb)
		if st != tt.status || !strings.Contains(out.String(), tt.stdout) || !strings.Contains(errb.String(), tt.stderrPart) {
			t.Errorf("wordish script %q = %d\nstdout: %s\nstderr: %s", tt.args, st, out.String(), errb.String())
		}
	}
}
