//go:build linux && amd64

package sandbox

// Guest tests of what only the qemu backend does (backend_test.go has the
// ones every backend passes): few, each boots a guest.

import (
	"bytes"
	"context"
	"crypto/rand"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// qemuGuestTest skips unless the qemu backend can run here.
func qemuGuestTest(t *testing.T) Backend {
	t.Helper()
	if testing.Short() {
		t.Skip("boots a guest; skipped with -short")
	}
	if os.Geteuid() != 0 {
		t.Skip("the sandbox needs root")
	}
	b := Lookup("qemu")
	if st := status(b); !st.Usable {
		t.Skipf("qemu not usable here: %s", st.Reason)
	}
	t.Setenv("TMPDIR", t.TempDir())
	return b
}

// TestQemuBigOutput: megabytes on stdout and stderr come back intact and
// apart (virtio-serial; the serial port would take half a minute), even
// when the host reads them slowly and they are still on their way when
// the command ends.
func TestQemuBigOutput(t *testing.T) {
	b := qemuGuestTest(t)
	data := make([]byte, 7<<20)
	rand.Read(data)
	src := filepath.Join(t.TempDir(), "random")
	if err := os.WriteFile(src, data, 0o644); err != nil {
		t.Fatal(err)
	}
	want, err := exec.Command("seq", "1", "300000").Output()
	if err != nil {
		t.Skip(err)
	}
	var out, errb bytes.Buffer
	status, err := b.Run(context.Background(), Spec{Stdout: slowWriter{&out}, Stderr: &errb,
		Argv: []string{"/bin/bash", "-c", `cat "$1" & seq 1 300000 >&2; wait`, "x", src}})
	if err != nil || status != 0 {
		t.Fatalf("status %d, err %v", status, err)
	}
	if !bytes.Equal(out.Bytes(), data) {
		t.Errorf("stdout: %d bytes, not the %d written", out.Len(), len(data))
	}
	if !bytes.Equal(errb.Bytes(), want) {
		t.Errorf("stderr: %d bytes, not the %d of seq", errb.Len(), len(want))
	}
}

// TestQemuTTYStreams: with TTY, stdout and stderr are two terminals
// (virtconsole ports), each on its own host stream, raw (no \r added).
func TestQemuTTYStreams(t *testing.T) {
	b := qemuGuestTest(t)
	var out, errb bytes.Buffer
	status, err := b.Run(context.Background(), Spec{Stdout: &out, Stderr: &errb, TTY: true,
		Argv: []string{"/bin/bash", "-c", `[ -t 2 ] && echo "err $(readlink /proc/$$/fd/2)" >&2; [ -t 1 ] && echo "out $(readlink /proc/$$/fd/1)"`}})
	if err != nil || status != 0 {
		t.Fatalf("status %d, err %v", status, err)
	}
	if !strings.HasPrefix(out.String(), "out /dev/hvc") || !strings.HasSuffix(out.String(), "\n") || strings.Contains(out.String(), "\r") {
		t.Errorf("stdout = %q, want out /dev/hvcN and a bare newline", out.String())
	}
	if !strings.HasPrefix(errb.String(), "err /dev/hvc") || errb.String()[4:] == out.String()[4:] {
		t.Errorf("stderr = %q, want err and another /dev/hvcN than stdout's %q", errb.String(), out.String())
	}
}

// TestQemuBadSnapshot: a saved guest that does not resume is deleted and
// the run boots instead. It runs on a copy of the cache (links to the
// real kernel) so that the real saved guest is left alone.
func TestQemuBadSnapshot(t *testing.T) {
	b := qemuGuestTest(t)
	k, err := qemuLoadKernel(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	cache := t.TempDir()
	t.Setenv("XDG_CACHE_HOME", cache)
	kd := filepath.Join(qemuCacheDir(), filepath.Base(k.Dir))
	if err := os.MkdirAll(kd, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"release", "config", "modules", filepath.Base(k.Image), filepath.Base(k.Initrd)} {
		if err := os.Symlink(filepath.Join(k.Dir, f), filepath.Join(kd, f)); err != nil {
			t.Fatal(err)
		}
	}
	os.WriteFile(filepath.Join(qemuCacheDir(), "current"), []byte(filepath.Base(kd)+"\n"), 0o644)
	k2, err := qemuLoadKernel(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	q := b.(*qemuBackend)
	cfg := q.config(k2, q.chooseAccel(context.Background(), k2), "1024M", nil)
	snap := qemuSnapshot(cfg)
	if err := os.WriteFile(snap, bytes.Repeat([]byte("not a saved guest\n"), 1000), 0o644); err != nil {
		t.Fatal(err)
	}
	var out, errb bytes.Buffer
	status, err := b.Run(context.Background(), Spec{Stdout: slowWriter{&out}, Stderr: &errb, Verbose: os.Getenv("V") != "", Argv: []string{"/bin/echo", "booted"}})
	if err != nil || status != 0 || out.String() != "booted\n" {
		t.Fatalf("status %d, err %v, stdout %q, stderr %q", status, err, out.String(), errb.String())
	}
	if os.Getenv("V") != "" {
		t.Log(errb.String())
	}
	if !strings.Contains(errb.String(), "guest did not resume") {
		t.Errorf("stderr = %q, want a note that the saved guest did not resume", errb.String())
	}
	if _, err := os.Stat(snap); err == nil {
		t.Error("the bad saved guest is still there")
	}
}

// BenchmarkQemuRun is a whole run of a command that does nothing: the
// saved guest resumed, stage 2, and the way out.
func BenchmarkQemuRun(b *testing.B) {
	if os.Geteuid() != 0 {
		b.Skip("the sandbox needs root")
	}
	q := Lookup("qemu")
	if st := status(q); !st.Usable {
		b.Skipf("qemu not usable here: %s", st.Reason)
	}
	for i := 0; i < b.N; i++ {
		if st, err := q.Run(context.Background(), Spec{Argv: []string{"/bin/true"}}); err != nil || st != 0 {
			b.Fatalf("status %d, err %v", st, err)
		}
	}
}

// slowWriter takes its time with each write.
type slowWriter struct{ w io.Writer }

func (s slowWriter) Write(p []byte) (int, error) {
	time.Sleep(2 * time.Millisecond)
	return s.w.Write(p)
}
