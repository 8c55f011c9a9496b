package sandbox

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"
)

// fake is a backend whose Check and probe answers are set by the test.
type fake struct {
	name   string
	usable bool
	works  bool // its guests run
	slow   bool // its guests run out of time
	runs   int
}

func (f *fake) Name() string { return f.name }
func (f *fake) Check(context.Context) Status {
	if !f.usable {
		return Status{Reason: "not installed"}
	}
	return Status{Usable: true, Reason: "fake"}
}
func (f *fake) Missing() []string                        { return nil }
func (f *fake) Prepare(context.Context, io.Writer) error { f.usable = true; return nil }
func (f *fake) Run(ctx context.Context, spec Spec) (int, error) {
	f.runs++
	if f.slow {
		return -1, fmt.Errorf("%w: %w", ErrStopped, context.DeadlineExceeded)
	}
	if !f.works {
		return -1, &GuestError{Backend: f.name, What: "fake kernel panic"}
	}
	fmt.Fprintln(spec.Stdout, strings.Join(spec.Argv[1:], " "))
	return 0, nil
}

// withBackends replaces the registered backends for one test.
func withBackends(t *testing.T, bs ...Backend) {
	saved := backends
	backends = bs
	t.Cleanup(func() { backends = saved })
	t.Setenv("XDG_CACHE_HOME", t.TempDir())
}

func TestChooseNextWhenProbeFails(t *testing.T) {
	a := &fake{name: "a", usable: true, works: false}
	b := &fake{name: "b", usable: false, works: true}
	c := &fake{name: "c", usable: true, works: true}
	withBackends(t, a, b, c)
	got, err := Choose(context.Background(), false, nil)
	if err != nil || got != Backend(c) {
		t.Fatalf("Choose = %v, %v; want c", got, err)
	}
	if a.runs != 1 || b.runs != 0 || c.runs != 1 {
		t.Errorf("probe runs a=%d b=%d c=%d, want 1 0 1", a.runs, b.runs, c.runs)
	}
	// cached: no probe the second time
	got, err = Choose(context.Background(), false, nil)
	if err != nil || got != Backend(c) || a.runs+c.runs != 2 {
		t.Errorf("second Choose = %v, %v after %d probes; want c from the cache", got, err, a.runs+c.runs)
	}
	// forgotten: probed again
	Forget(context.Background())
	if got, _ = Choose(context.Background(), false, nil); got != Backend(c) || c.runs != 2 {
		t.Errorf("after Forget: %v, c probed %d times", got, c.runs)
	}
	// the host's backends changed (b usable now): the key changes, b is probed
	b.usable = true
	if got, _ = Choose(context.Background(), false, nil); got != Backend(b) {
		t.Errorf("with b usable: %v, want b", got)
	}
}

func TestChooseNoneUsable(t *testing.T) {
	withBackends(t, &fake{name: "a", usable: false}, &fake{name: "b", usable: true, works: false})
	_, err := Choose(context.Background(), false, nil)
	if err == nil {
		t.Fatal("Choose found a backend")
	}
	for _, want := range []string{"a: not usable (not installed)", "b: not usable (the probe boot failed: b: fake kernel panic", "wordish sandbox check"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q lacks %q", err, want)
		}
	}
}

func TestChooseInstall(t *testing.T) {
	a := &fake{name: "a", usable: false, works: true}
	withBackends(t, a)
	got, err := Choose(context.Background(), true, io.Discard)
	if err != nil || got != Backend(a) {
		t.Errorf("Choose(install) = %v, %v; want a, prepared", got, err)
	}
}

func TestChooseStopped(t *testing.T) {
	withBackends(t, &fake{name: "a", usable: true, works: false}, &fake{name: "b", usable: true, works: true})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := Choose(ctx, false, nil); !errors.Is(err, ErrStopped) {
		t.Errorf("err = %v, want ErrStopped", err)
	}
}

func TestProbeLine(t *testing.T) {
	tests := []struct {
		p    Probe
		want string
	}{
		{Probe{Backend: "uml", Status: Status{Usable: true, Reason: "xstate 832 bytes <= 2696"}, OK: true, Duration: 1600e6},
			"uml: usable (xstate 832 bytes <= 2696; probe boot 1.6 s)"},
		{Probe{Backend: "qemu", Status: Status{Reason: "not installed: apt-get install qemu-system-x86"}},
			"qemu: not usable (not installed: apt-get install qemu-system-x86)"},
		{Probe{Backend: "uml", Status: Status{Usable: true}, Err: "uml: UML kernel panic: x"},
			"uml: not usable (the probe boot failed: uml: UML kernel panic: x)"},
	}
	for _, tt := range tests {
		if got := tt.p.Line(); got != tt.want {
			t.Errorf("Line() = %q, want %q", got, tt.want)
		}
	}
}

// TestChooseSlowNotCached: a faster backend whose probe only ran out of
// time (a loaded host) is not written off: the choice is not cached.
func TestChooseSlowNotCached(t *testing.T) {
	a := &fake{name: "a", usable: true, slow: true}
	b := &fake{name: "b", usable: true, works: true}
	withBackends(t, a, b)
	for i := 1; i <= 2; i++ {
		if got, err := Choose(context.Background(), false, nil); err != nil || got != Backend(b) {
			t.Fatalf("Choose = %v, %v; want b", got, err)
		}
		if a.runs != i {
			t.Errorf("after %d choices, a was probed %d times", i, a.runs)
		}
	}
}
