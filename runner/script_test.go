package runner

import (
	"bytes"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/wordish-go/wordish/parser"
)

func TestScript(t *testing.T) {
	src := "# Demo\n\n```console\n$ echo one\none\n\n$ for i in 1 2; do\n>   echo $i\n> done\n1\n2\n$ rm -rf / # wordish: skip\n$ false # wordish: status=1\n```\n"
	doc, err := parser.Parse("demo.md", []byte(src), parser.Config{})
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := Script(&buf, doc); err != nil {
		t.Fatal(err)
	}
	want := `#!/usr/bin/env bash
# The shell sessions of demo.md, as a script written by ` + "`wordish script`" + `.
# Expected output is shown as comments; steps marked skip are commented out.
# Like wordish, it runs in a fresh temporary directory and goes on after errors.
cd "$(mktemp -d)" || exit

# demo.md:4
echo one
# one

# demo.md:7
for i in 1 2; do
  echo $i
done
# 1
# 2

# demo.md:12 (skip)
# rm -rf / # wordish: skip

# demo.md:13 (exit status 1 expected)
false # wordish: status=1
`
	if buf.String() != want {
		t.Errorf("got:\n%s\nwant:\n%s", buf.String(), want)
	}

	// The script is valid bash that does what the article shows, and does
	// not stop at the failing command.
	bash, err := exec.LookPath("bash")
	if err != nil {
		t.Skip("no bash")
	}
	cmd := exec.Command(bash, "-c", buf.String()+"\necho end\n")
	cmd.Env = os.Environ()
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("bash: %v", err)
	}
	if got := strings.TrimSpace(string(out)); got != "one\n1\n2\nend" {
		t.Errorf("script output %q", got)
	}
}
