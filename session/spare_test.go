package session

import (
	"os"
	"strconv"
	"testing"
	"time"
)

// TestSpare: Start takes the session Prestart started for an equal
// config, and only for one; DropSpare leaves no process nor directory.
func TestSpare(t *testing.T) {
	cfg := Config{Env: []string{"SPARE=1"}}
	Prestart(cfg)
	s, err := Start(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if r := s.Run(Command{Text: "echo $SPARE"}); string(r.Stdout) != "1\n" {
		t.Fatalf("%+v", r)
	}
	if spare.ch != nil {
		t.Error("the spare is still there after Start took it")
	}

	Prestart(cfg)
	sp := waitSpare(t)
	other, err := Start(Config{Env: []string{"SPARE=2"}})
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	if other == sp {
		t.Fatal("Start took a spare of another config")
	}
	if r := other.Run(Command{Text: "echo $SPARE"}); string(r.Stdout) != "2\n" {
		t.Fatalf("%+v", r)
	}
	shell, reaper, dir := sp.pid, sp.reaper.proc.Pid, sp.Dir()
	DropSpare()
	if !procGone(shell) {
		t.Errorf("the dropped spare's shell (%d) is left", shell)
	}
	// The reaper has done its work when Close returns; its own exit is
	// not waited for.
	for deadline := time.Now().Add(5 * time.Second); !procGone(reaper) && time.Now().Before(deadline); {
		time.Sleep(time.Millisecond)
	}
	if !procGone(reaper) {
		t.Errorf("the dropped spare's reaper (%d) is left", reaper)
	}
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Errorf("the dropped spare's directory is left: %v", err)
	}

	// A kept or given directory is never started ahead.
	Prestart(Config{Keep: true})
	Prestart(Config{Workdir: t.TempDir()})
	if spare.ch != nil {
		t.Error("a spare for a kept or given directory")
	}
}

// waitSpare waits until the spare has started and its setup is done, and
// puts it back.
func waitSpare(t testing.TB) *Session {
	t.Helper()
	spare.mu.Lock()
	ch := spare.ch
	spare.mu.Unlock()
	if ch == nil {
		t.Fatal("no spare")
	}
	s := <-ch
	ch <- s
	if s == nil {
		t.Fatal("the spare did not start")
	}
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Microsecond) {
		if b, err := os.ReadFile("/proc/" + strconv.Itoa(s.pid) + "/syscall"); err == nil && len(b) > 7 && (string(b[:7]) == "0 0xfe " || string(b[:7]) == "0 0xff ") {
			return s // reading its script: the setup is done
		}
	}
	t.Fatal("the spare's shell is not idle")
	return nil
}
