package sandbox

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestStage3Quoting(t *testing.T) {
	s := stage3(&Spec{Dir: "/a b", Env: []string{"TERM=xterm", "X=it's"}, Argv: []string{"prog", "a b", "$HOME"}})
	for _, want := range []string{"cd -- '/a b'", "TERM=xterm", `'X=it'\''s'`, `prog 'a b' '$HOME'`} {
		if !strings.Contains(s, want) {
			t.Errorf("stage3 lacks %q:\n%s", want, s)
		}
	}
	if strings.Contains(s, "TERM=dumb") {
		t.Errorf("TERM=dumb not replaced:\n%s", s)
	}
}

func TestRunDir(t *testing.T) {
	t.Setenv("TMPDIR", t.TempDir())
	share := t.TempDir()
	run, err := newRunDir(&Spec{Argv: []string{"true"}, Shares: []string{share}, TTY: true,
		Files: map[string][]byte{"config.json": []byte("{}")}})
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(run)
	for name, want := range map[string]string{"shares": share + "\n", "tty": "", "config.json": "{}"} {
		if got, err := os.ReadFile(filepath.Join(run, name)); err != nil || string(got) != want {
			t.Errorf("%s: %q, %v; want %q", name, got, err, want)
		}
	}
	if st, err := os.Stat(filepath.Join(run, "out")); err != nil || !st.IsDir() {
		t.Errorf("no out directory: %v", err)
	}
}

func TestCheckSpec(t *testing.T) {
	bad := []Spec{
		{},
		{Argv: []string{"x"}, Files: map[string][]byte{"stage3": nil}},
		{Argv: []string{"x"}, Files: map[string][]byte{"a/b": nil}},
		{Argv: []string{"x"}, Outputs: map[string]string{"..": "/tmp/x"}},
		{Argv: []string{"x"}, Shares: []string{"/a\nb"}},
	}
	for i, s := range bad {
		if err := checkSpec(&s); err == nil {
			t.Errorf("%d: checkSpec(%+v) = nil, want an error", i, s)
		}
	}
	if err := checkSpec(&Spec{Argv: []string{"x"}, Files: map[string][]byte{"config.json": nil}}); err != nil {
		t.Error(err)
	}
}

func TestGuestErrorOneLine(t *testing.T) {
	e := &GuestError{Backend: "uml", What: "UML kernel panic: x", Log: "/tmp/l.log"}
	if msg := e.Error(); strings.Contains(msg, "\n") || !strings.Contains(msg, "/tmp/l.log") || !strings.HasPrefix(msg, "uml: UML kernel panic: x") {
		t.Errorf("%q", msg)
	}
}

func TestWriteFileAtomic(t *testing.T) {
	dir := t.TempDir()
	name := filepath.Join(dir, "current")
	for _, data := range []string{"one\n", "two\n"} {
		if err := writeFileAtomic(name, []byte(data)); err != nil {
			t.Fatal(err)
		}
		if got, _ := os.ReadFile(name); string(got) != data {
			t.Errorf("got %q, want %q", got, data)
		}
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 1 {
		t.Errorf("temporary files left: %v", ents)
	}
}
