package runner_test

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/wordish-go/wordish/parser"
	"github.com/wordish-go/wordish/report"
	"github.com/wordish-go/wordish/runner"
	"github.com/wordish-go/wordish/session"
)

// BenchmarkReplay1000 replays a generated 1000-step article end to end
// (parse, session, match, text report to io.Discard) and, in the same
// benchmark, runs the same commands as a plain bash script, reporting
// the time per step of both and their ratio. session-ms/step is the
// session alone (start, one RunBatch of the 1000 commands, close), to
// tell the runner's share from the session's:
//
//	go test ./runner -run XXX -bench Replay1000 -benchtime 20x
func BenchmarkReplay1000(b *testing.B) {
	const steps = 1000
	var md, script strings.Builder
	md.WriteString("# Generated\n\n```console\n")
	for i := 0; i < steps; i++ {
		fmt.Fprintf(&md, "$ echo %d\n%d\n", i, i)
		fmt.Fprintf(&script, "echo %d\n", i)
	}
	md.WriteString("```\n")
	dir := b.TempDir()
	mdPath := filepath.Join(dir, "gen.md")
	shPath := filepath.Join(dir, "gen.sh")
	if err := os.WriteFile(mdPath, []byte(md.String()), 0o644); err != nil {
		b.Fatal(err)
	}
	if err := os.WriteFile(shPath, []byte(script.String()), 0o644); err != nil {
		b.Fatal(err)
	}
	bash, err := exec.LookPath("bash")
	if err != nil {
		b.Skip("no bash")
	}

	cmds := make([]session.Command, steps)
	for i := range cmds {
		cmds[i] = session.Command{Text: fmt.Sprintf("echo %d", i)}
	}

	var inWordish, inBash, inSession time.Duration
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		t0 := time.Now()
		doc, err := parser.ParseFile(mdPath, parser.Config{})
		if err != nil {
			b.Fatal(err)
		}
		rep := report.NewTextReporter(io.Discard, report.TextOptions{})
		res := runner.Run(context.Background(), doc, runner.Options{}, rep)
		rep.Finish()
		inWordish += time.Since(t0)
		if c := res.Counts(); c.Passed != steps {
			b.Fatalf("replay: %s", c)
		}

		t0 = time.Now()
		cmd := exec.Command(bash, "--norc", "--noprofile", shPath)
		cmd.Stdout = io.Discard
		if err := cmd.Run(); err != nil {
			b.Fatal(err)
		}
		inBash += time.Since(t0)

		t0 = time.Now()
		sess, err := session.Start(session.Config{})
		if err != nil {
			b.Fatal(err)
		}
		n := sess.RunBatch(cmds, func(int, session.Result) {})
		sess.Close()
		inSession += time.Since(t0)
		if n != steps {
			b.Fatalf("session ran %d commands", n)
		}
	}
	perStep := func(d time.Duration) float64 {
		return float64(d) / float64(time.Millisecond) / float64(b.N*steps)
	}
	b.ReportMetric(perStep(inWordish), "wordish-ms/step")
	b.ReportMetric(perStep(inBash), "bash-ms/step")
	b.ReportMetric(perStep(inSession), "session-ms/step")
	b.ReportMetric(float64(inWordish)/float64(inBash), "ratio")
}

// BenchmarkMatchExact is the matcher's common path.
func BenchmarkMatchExact(b *testing.B) {
	m := runner.Compile("  total 12\n  drwxr-xr-x 2 root root 4096 a\n", parser.Options{})
	actual := "total 12\ndrwxr-xr-x 2 root root 4096 a\n"
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		if !m.Match(actual) {
			b.Fatal("no match")
		}
	}
}

// BenchmarkMatchEllipsis matches a wildcard pattern against 1 MiB.
func BenchmarkMatchEllipsis(b *testing.B) {
	actual := strings.Repeat("some line of output\n", 50000) + "done\n"
	m := runner.Compile("some line...\n...\ndone", parser.Options{})
	b.SetBytes(int64(len(actual)))
	for i := 0; i < b.N; i++ {
		if !m.Match(actual) {
			b.Fatal("no match")
		}
	}
}
