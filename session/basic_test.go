package session

import (
	"testing"
	"time"
)

func start(t *testing.T, cfg Config) *Session {
	t.Helper()
	s, err := Start(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Error(err)
		}
	})
	return s
}

func TestTimeoutKeepsSession(t *testing.T) {
	s := start(t, Config{})
	var got []Result
	n := s.RunBatch([]Command{
		{Text: "echo before"},
		{Text: "echo start; sleep 5; echo after", Timeout: 300 * time.Millisecond},
		{Text: "echo never"},
	}, func(i int, r Result) { got = append(got, r) })
	if n != 2 || len(got) != 2 {
		t.Fatalf("ran %d, results %+v", n, got)
	}
	r := got[1]
	if !r.TimedOut || r.Exited || string(r.Stdout) != "start\n" || r.Status != 130 {
		t.Errorf("timed out command: %+v %q", r, r.Stdout)
	}
	if !s.Alive() {
		t.Fatal("session died")
	}
	r = s.Run(Command{Text: "echo $?; echo yes"})
	if string(r.Stdout) != "130\nyes\n" || r.Status != 0 {
		t.Errorf("after timeout: %+v %q", r, r.Stdout)
	}
}
