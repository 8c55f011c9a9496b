package sandbox

import (
	"bytes"
	"context"
	"os"
	"testing"
)

func TestQemuScratch(t *testing.T) {
	b := Lookup("qemu")
	var out, errb bytes.Buffer
	st, err := b.Run(context.Background(), Spec{Argv: []string{"/bin/bash", "-c", "echo hi; echo err >&2; uname -r; exit 3"}, Install: true, Stdout: &out, Stderr: &errb, Verbose: os.Getenv("V") != ""})
	t.Logf("status %d err %v\nout %q\nerr %s", st, err, out.String(), errb.String())
}
