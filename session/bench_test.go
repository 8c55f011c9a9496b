package session

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// BenchmarkTrue runs N `true` commands through RunBatch, one command at a
// time in the shell's sense (each with its own status and end marker),
// and the same N commands as a plain bash script, and reports ms/cmd for
// both and their ratio.
func BenchmarkTrue(b *testing.B) {
	const n = 1000
	s, err := Start(Config{})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	cmds := make([]Command, n)
	for i := range cmds {
		cmds[i] = Command{Text: "true"}
	}
	s.Run(Command{Text: "true"}) // the shell is up
	script := filepath.Join(b.TempDir(), "true.sh")
	if err := os.WriteFile(script, []byte(strings.Repeat("true\n", n)), 0o644); err != nil {
		b.Fatal(err)
	}
	var sess, plain time.Duration
	b.ResetTimer()
	for b.Loop() {
		t0 := time.Now()
		ran := s.RunBatch(cmds, func(i int, r Result) {
			if r.Status != 0 {
				b.Fatalf("command %d: %+v", i, r)
			}
		})
		sess += time.Since(t0)
		if ran != n {
			b.Fatalf("ran %d of %d", ran, n)
		}
		t0 = time.Now()
		if out, err := exec.Command("bash", "--noprofile", "--norc", script).CombinedOutput(); err != nil {
			b.Fatalf("plain bash: %v %s", err, out)
		}
		plain += time.Since(t0)
	}
	per := float64(sess.Nanoseconds()) / float64(b.N*n) / 1e6
	perPlain := float64(plain.Nanoseconds()) / float64(b.N*n) / 1e6
	b.ReportMetric(per, "ms/cmd")
	b.ReportMetric(perPlain, "ms/cmd-plain")
	b.ReportMetric(per/perPlain, "ratio")
}

// BenchmarkRoundTrip runs `true` with one Run call at a time.
func BenchmarkRoundTrip(b *testing.B) {
	s, err := Start(Config{})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	s.Run(Command{Text: "true"})
	b.ResetTimer()
	for b.Loop() {
		if r := s.Run(Command{Text: "true"}); r.Status != 0 {
			b.Fatalf("%+v", r)
		}
	}
}

// BenchmarkStart starts a session and runs its first command.
func BenchmarkStart(b *testing.B) {
	var start time.Duration
	for b.Loop() {
		t0 := time.Now()
		s, err := Start(Config{})
		if err != nil {
			b.Fatal(err)
		}
		start += time.Since(t0)
		b.StopTimer()
		s.Close()
		b.StartTimer()
	}
	b.ReportMetric(float64(start.Nanoseconds())/float64(b.N)/1e6, "ms/start")
}
