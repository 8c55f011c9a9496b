package runner

import (
	"context"
	"fmt"
	"math/rand"
	"strings"
	"testing"
	"time"

	"github.com/wordish-go/wordish/expect"
	"github.com/wordish-go/wordish/parser"
	"github.com/wordish-go/wordish/session"
)

func parseMD(t *testing.T, src string) *parser.Document {
	t.Helper()
	doc, err := parser.Parse("t.md", []byte(src), parser.Config{})
	if err != nil {
		t.Fatal(err)
	}
	return doc
}

// outcomes is the compact form of a run: "L3:passed L5:failed ...".
func outcomes(res *DocResult) string {
	var parts []string
	for _, s := range res.Steps {
		p := fmt.Sprintf("L%d:%s", s.Step.Line, s.Outcome)
		if s.Deferred {
			p += "(deferred)"
		}
		parts = append(parts, p)
	}
	return strings.Join(parts, " ")
}

type nopReporter struct{}

func (nopReporter) StartDoc(string)          {}
func (nopReporter) Step(string, *StepResult) {}
func (nopReporter) EndDoc(*DocResult)        {}

func TestRunOutcomes(t *testing.T) {
	tests := []struct {
		name string
		src  string
		opts Options
		want string
	}{
		{"pass and fail", "```console\n$ echo hi\nhi\n$ echo ho\nhu\n$ echo end\nend\n```\n", Options{},
			"L2:passed L4:failed L6:passed"},
		{"error bails out", "```console\n$ echo a\na\n$ false\n$ echo b\nb\n$ echo c\nc\n```\n", Options{},
			"L2:passed L4:errored L5:not run L7:not run"},
		{"keep going", "```console\n$ false\n$ echo b\nb\n```\n", Options{KeepGoing: true},
			"L2:errored L3:passed"},
		{"status options", "```console\n$ false # wordish: status=1\n$ false # wordish: status=nonzero\n" +
			"$ exit_3() { return 3; }; exit_3 # wordish: status=any\n$ true # wordish: status=nonzero\n$ echo x\n```\n", Options{},
			"L2:passed L3:passed L4:passed L5:errored L6:not run"},
		{"skip", "<!-- wordish: skip -->\n```console\n$ rm -rf /nothing-here\n```\n\n```console\n$ echo ok\nok\n```\n", Options{},
			"L3:skipped L7:passed"},
		{"skip inside batch", "```console\n$ x=1\n$ echo never # wordish: skip\n$ echo $x\n1\n```\n", Options{},
			"L2:passed L3:skipped L4:passed"},
		{"cleanup in place", "```console\n$ echo a\na\n```\n<!-- wordish: cleanup -->\n```console\n$ echo clean\nclean\n```\n", Options{},
			"L2:passed L7:passed"},
		{"cleanup deferred after error", "```console\n$ touch f\n$ false\n$ echo never\n```\n<!-- wordish: cleanup -->\n```console\n$ rm f\n$ ls f\n```\n", Options{},
			"L2:passed L3:errored L4:not run L8:passed(deferred) L9:errored(deferred)"},
		{"cleanup after the shell exited", "```console\n$ touch f\n$ exit 3\n$ echo never\n```\n<!-- wordish: cleanup -->\n```console\n$ rm f\n```\n", Options{},
			"L2:passed L3:errored L4:not run L8:passed(deferred)"},
		{"timeout", "```console\n$ sleep 5 # wordish: timeout=200ms\n$ echo after\n```\n", Options{},
			"L2:errored L3:not run"},
		{"stderr option", "```console\n$ echo err >&2 # wordish: stderr\nerr\n$ echo out; echo err >&2 # wordish: stderr\nerr\n```\n", Options{},
			"L2:passed L4:passed"},
		// The pause keeps the order of the two streams certain: the
		// session merges them as they arrive from two terminals.
		{"merged transcript", "```console\n$ echo out; sleep 0.1; echo err >&2\nout\nerr\n$ echo out; echo err >&2\nout\n```\n", Options{},
			"L2:passed L5:passed"},
		{"ignore-output", "```console\n$ date # wordish: ignore-output\nyesterday\n```\n", Options{},
			"L2:passed"},
		{"state carries over", "```console\n$ f() { echo \"f:$1\"; }\n$ cd /tmp\n```\n\n```console\n$ f x; pwd\nf:x\n/tmp\n```\n", Options{},
			"L2:passed L3:passed L7:passed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			doc := parseMD(t, tt.src)
			res := Run(context.Background(), doc, tt.opts, nopReporter{})
			if res.Err != nil {
				t.Fatal(res.Err)
			}
			if got := outcomes(res); got != tt.want {
				t.Errorf("got  %s\nwant %s", got, tt.want)
				for _, s := range res.Steps {
					t.Logf("L%d %s %q %q", s.Step.Line, s.Reason, s.Merged, s.Diff)
				}
			}
		})
	}
}

func TestRunInterrupt(t *testing.T) {
	doc := parseMD(t, "```console\n$ echo start\nstart\n$ sleep 30\n$ echo never\n```\n<!-- wordish: cleanup -->\n```console\n$ echo cleaned\ncleaned\n```\n")
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(300*time.Millisecond, cancel)
	t0 := time.Now()
	res := Run(ctx, doc, Options{}, nopReporter{})
	if d := time.Since(t0); d > 10*time.Second {
		t.Errorf("interrupt took %s", d)
	}
	want := "L2:passed L4:errored L5:not run L9:passed(deferred)"
	if got := outcomes(res); got != want {
		t.Fatalf("got  %s\nwant %s", got, want)
	}
	if r := res.Steps[1].Reason; r != "interrupted" {
		t.Errorf("reason %q", r)
	}
}

func TestRunCancelledBeforeStart(t *testing.T) {
	doc := parseMD(t, "```console\n$ echo a\na\n```\n<!-- wordish: cleanup -->\n```console\n$ echo c\n```\n")
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	res := Run(ctx, doc, Options{}, nopReporter{})
	if got, want := outcomes(res), "L2:not run L7:not run"; got != want {
		t.Fatalf("got %s, want %s", got, want)
	}
}

func TestCheckRoot(t *testing.T) {
	defer func(f func() int) { geteuid = f }(geteuid)
	geteuid = func() int { return 1000 }
	doc := parseMD(t, "```console\n$ echo a\na\n```\n\n```console\n# id -u\n0\n```\n")
	err := CheckRoot(doc) // wordish.Run checks before replaying anything
	if err == nil {
		t.Fatal("no error")
	}
	for _, want := range []string{"t.md:7:", "root", "--sandbox vm"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %q", err, want)
		}
	}
	geteuid = func() int { return 0 }
	if err := CheckRoot(doc); err != nil {
		t.Errorf("as root: %v", err)
	}
}

func TestJudgeReasons(t *testing.T) {
	step := &parser.Step{File: "f.md", Line: 1, Command: "x", Expected: "out"}
	tests := []struct {
		name string
		cmd  session.Command
		res  session.Result
		want Outcome
		why  string
	}{
		{"pass", session.Command{}, session.Result{Stdout: []byte("out\n"), Transcript: []byte("out\n")}, Passed, ""},
		{"status", session.Command{}, session.Result{Status: 2}, Errored, "exit status 2, expected 0"},
		{"status nonzero", session.Command{Expect: expect.Nonzero}, session.Result{}, Errored, "exit status 0, expected non-zero"},
		{"status code", session.Command{Expect: expect.Code, Code: 3}, session.Result{Status: 1}, Errored, "exit status 1, expected 3"},
		{"timeout", session.Command{}, session.Result{TimedOut: true, Status: 130}, Errored, "timed out after 2s"},
		{"exited", session.Command{}, session.Result{Exited: true, Status: 3}, Errored, "the command ended the shell (exit status 3)"},
		{"interrupted", session.Command{}, session.Result{Interrupted: true, Status: 130}, Errored, "interrupted"},
		{"fail", session.Command{}, session.Result{Stdout: []byte("other\n")}, Failed, ""},
	}
	for _, tt := range tests {
		sr := judge(step, tt.cmd, tt.res, 2*time.Second)
		if sr.Outcome != tt.want || sr.Reason != tt.why {
			t.Errorf("%s: got %s %q, want %s %q", tt.name, sr.Outcome, sr.Reason, tt.want, tt.why)
		}
	}
}

func TestJudgeDiffPicksCloserStream(t *testing.T) {
	tests := []struct {
		name           string
		expected       string
		stdout, stderr string
		merged         string
		wantMerged     bool
	}{
		{"stdout shown, new warning", "a\nb", "a\nB\n", "warn\n", "a\nB\nwarn\n", false},
		{"stdout shown, more output", "a\nb", "a\nb\nc\n", "warn\n", "a\nb\nc\nwarn\n", false},
		{"terminal shown, stdout changed", "a\nwarn\nc", "a\nC\n", "warn\n", "a\nwarn\nC\n", true},
		{"terminal shown, more stderr", "a\nwarn1\nc", "a\nc\n", "warn1\nwarn2\n", "a\nwarn1\nwarn2\nc\n", true},
	}
	for _, tt := range tests {
		step := &parser.Step{File: "f.md", Line: 1, Command: "x", Expected: tt.expected}
		res := session.Result{Stdout: []byte(tt.stdout), Stderr: []byte(tt.stderr), Transcript: []byte(tt.merged)}
		sr := judge(step, session.Command{}, res, time.Second)
		if sr.Outcome != Failed || (sr.Actual == sr.Merged) != tt.wantMerged {
			t.Errorf("%s: outcome %s, actual %q", tt.name, sr.Outcome, sr.Actual)
		}
	}
}

func TestJudgeDiffPicksTranscript(t *testing.T) {
	step := &parser.Step{File: "f.md", Line: 1, Command: "x", Expected: "a\nwarning: b\nc"}
	res := session.Result{
		Stdout:     []byte("a\nc\n"),
		Stderr:     []byte("warning: B\n"),
		Transcript: []byte("a\nwarning: B\nc\n"),
	}
	sr := judge(step, session.Command{}, res, time.Second)
	// Both match two expected lines, but the transcript has as many
	// lines as the expected text: the article shows the terminal.
	if sr.Outcome != Failed || sr.Actual != sr.Merged {
		t.Fatalf("outcome %s, actual %q", sr.Outcome, sr.Actual)
	}
	if want := "@@ -1,3 +1,3 @@\n a\n-warning: b\n+warning: B\n c\n"; !strings.HasSuffix(sr.Diff, want) {
		t.Errorf("diff\n%s", sr.Diff)
	}
}

// normalize's fast path must agree with session.Normalize.
func TestNormalizeFastPath(t *testing.T) {
	r := rand.New(rand.NewSource(2))
	alphabet := []byte("ab \t\n\x01\x7f~\f\v")
	for i := 0; i < 5000; i++ {
		b := make([]byte, r.Intn(20))
		for k := range b {
			b[k] = alphabet[r.Intn(len(alphabet))]
		}
		if got, want := normalize(b), session.Normalize(b); got != want {
			t.Fatalf("normalize(%q) = %q, session.Normalize = %q", b, got, want)
		}
	}
}
