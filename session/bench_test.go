package session

import (
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
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
	var sess, plain, sessCPU, plainCPU time.Duration
	b.ResetTimer()
	for b.Loop() {
		c0, g0 := procCPU(s.pid), selfCPU()
		t0 := time.Now()
		ran := s.RunBatch(cmds, func(i int, r Result) {
			if r.Status != 0 {
				b.Fatalf("command %d: %+v", i, r)
			}
		})
		sess += time.Since(t0)
		sessCPU += procCPU(s.pid) - c0 + selfCPU() - g0
		if ran != n {
			b.Fatalf("ran %d of %d", ran, n)
		}
		t0 = time.Now()
		c := exec.Command("bash", "--noprofile", "--norc", script)
		if out, err := c.CombinedOutput(); err != nil {
			b.Fatalf("plain bash: %v %s", err, out)
		}
		plain += time.Since(t0)
		if ru, ok := c.ProcessState.SysUsage().(*syscall.Rusage); ok {
			plainCPU += time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
		}
	}
	per := float64(sess.Nanoseconds()) / float64(b.N*n) / 1e6
	perPlain := float64(plain.Nanoseconds()) / float64(b.N*n) / 1e6
	b.ReportMetric(per, "ms/cmd")
	b.ReportMetric(perPlain, "ms/cmd-plain")
	b.ReportMetric(per/perPlain, "ratio")
	// CPU time (the shell's and wordish's, or plain bash's): steadier
	// than wall time on a loaded machine.
	b.ReportMetric(float64(sessCPU.Nanoseconds())/float64(b.N*n)/1e6, "cpu-ms/cmd")
	b.ReportMetric(float64(plainCPU.Nanoseconds())/float64(b.N*n)/1e6, "cpu-ms/cmd-plain")
}

// procCPU is the CPU time pid used so far (in clock ticks of 10 ms).
func procCPU(pid int) time.Duration {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0
	}
	f := strings.Fields(string(b[strings.LastIndexByte(string(b), ')')+2:]))
	u, _ := strconv.Atoi(f[11])
	st, _ := strconv.Atoi(f[12])
	return time.Duration(u+st) * 10 * time.Millisecond
}

func selfCPU() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
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

// BenchmarkStart starts a session and runs its first command, `true`:
// ms/start is the median time until Start returns (the shell is forked),
// ms/ready the median time until that first command has run, the
// shell's set-up included (the first prompt, as a user would see it).
// Medians, because a loaded machine gives long tails. cpu-ms/session is
// the mean CPU time of a whole session (Start, the first command, Close),
// wordish's and its children's (the reaper, the shell): steadier than
// wall time on a shared machine.
func BenchmarkStart(b *testing.B) {
	var start, ready []time.Duration
	c0 := selfCPU() + childrenCPU()
	for b.Loop() {
		t0 := time.Now()
		s, err := Start(Config{})
		if err != nil {
			b.Fatal(err)
		}
		start = append(start, time.Since(t0))
		if r := s.Run(Command{Text: "true"}); r.Status != 0 {
			b.Fatalf("%+v", r)
		}
		ready = append(ready, time.Since(t0))
		b.StopTimer()
		s.Close()
		b.StartTimer()
	}
	b.ReportMetric(median(start), "ms/start")
	b.ReportMetric(median(ready), "ms/ready")
	b.ReportMetric(float64((selfCPU()+childrenCPU()-c0).Nanoseconds())/float64(len(start))/1e6, "cpu-ms/session")
}

// childrenCPU is the CPU time of the children waited for so far, and of
// their own children that they waited for.
func childrenCPU() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_CHILDREN, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkStartWarm is BenchmarkStart for a session started ahead
// (Prestart, as wordish does while the previous document runs): the
// timed part takes the spare, idle after its setup, and runs its first
// command. Not a cold start: that is BenchmarkStart.
func BenchmarkStartWarm(b *testing.B) {
	var ready []time.Duration
	for b.Loop() {
		b.StopTimer()
		Prestart(Config{})
		waitSpare(b)
		b.StartTimer()
		t0 := time.Now()
		s, err := Start(Config{})
		if err != nil {
			b.Fatal(err)
		}
		if r := s.Run(Command{Text: "true"}); r.Status != 0 {
			b.Fatalf("%+v", r)
		}
		ready = append(ready, time.Since(t0))
		b.StopTimer()
		s.Close()
		b.StartTimer()
	}
	b.ReportMetric(median(ready), "ms/ready-warm")
}

// median in milliseconds.
func median(d []time.Duration) float64 {
	slices.Sort(d)
	m := d[len(d)/2]
	if len(d)%2 == 0 {
		m = (d[len(d)/2-1] + m) / 2
	}
	return float64(m.Nanoseconds()) / 1e6
}
