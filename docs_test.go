package wordish_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/wordish-go/wordish"
	"github.com/wordish-go/wordish/runner"
	"github.com/wordish-go/wordish/wordishtest"
)

// TestDocs checks that the README and the user guide still tell the truth:
// every shell session in them is replayed and its output compared, as
// `wordish run` would, with the wordish built from this tree first on the
// PATH. After a deliberate change of output, accept the new output with
// `WORDISH_UPDATE=1 go test -run TestDocs .`.
//
// docs/lvm.md is left out: it needs root and device-mapper, and runs in
// the VM sandbox (`wordish run --sandbox vm docs/lvm.md`).
func TestDocs(t *testing.T) {
	if testing.Short() {
		t.Skip("replays the documentation")
	}
	bin := t.TempDir()
	build := exec.Command("go", "build", "-o", filepath.Join(bin, "wordish"), "./cmd/wordish")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build ./cmd/wordish: %v\n%s", err, out)
	}
	opts := wordish.Config{Replay: runner.Options{
		Env: []string{"PATH=" + bin + string(os.PathListSeparator) + os.Getenv("PATH")},
	}}
	wordishtest.Test(t, opts, "README.md", "docs/*.md", "!docs/lvm.md")
}
