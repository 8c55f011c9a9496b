//go:build linux && amd64

package sandbox

// The host side of a qemu run (see qemu.go for how a run goes): qemu under
// the guardian (run_linux.go) with its pipes, the saved guest, Run.

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"golang.org/x/sys/unix"
)

// qemuLaunch is one qemu process under the guardian, with its pipes.
type qemuLaunch struct {
	g     *guarded
	ctl   *os.File   // writes to the guest's ttyS1
	mon   *os.File   // the HMP monitor's input, for a guest being saved
	watch *qemuWatch // the console's lines, as they come
	args  []string   // qemu's command line, for the log
	outW  *os.File   // the stdout/stderr write ends this process holds
	errW  *os.File   // until the launch is over
	fifos []*os.File // this process's ends of the FIFOs
}

// qemuStartLaunch starts qemu for c, in c.RunDir: its console goes to
// con (and watch), the command's stdout and stderr to stdout and stderr,
// qemu's own messages to RUN/qemu.log. With monitor, an HMP monitor reads
// l.mon.
func qemuStartLaunch(c qemuConfig, con, stdout, stderr io.Writer, monitor bool, extra ...string) (*qemuLaunch, error) {
	l := &qemuLaunch{watch: newQemuWatch()}
	names := []string{"ctl"}
	if monitor {
		names = append(names, "mon")
	}
	for _, n := range names {
		for _, end := range []string{".in", ".out"} {
			p := filepath.Join(c.RunDir, n+end)
			if err := unix.Mkfifo(p, 0o600); err != nil && !errors.Is(err, os.ErrExist) {
				l.close()
				return nil, err
			}
			// O_RDWR: the open does not wait for qemu
			f, err := os.OpenFile(p, os.O_RDWR, 0)
			if err != nil {
				l.close()
				return nil, err
			}
			l.fifos = append(l.fifos, f)
			if end == ".out" {
				go io.Copy(io.Discard, f) // what the guest echoes; nothing, normally
			} else if n == "ctl" {
				l.ctl = f
			} else {
				l.mon = f
			}
		}
	}
	var args []string
	if sp, err := exec.LookPath("setpriv"); err == nil {
		// qemu dies with the guardian, even if that is killed first
		args = []string{sp, "--pdeathsig", "KILL"}
	}
	args = append(append(args, qemuBinary), qemuArgs(c)...)
	if monitor {
		args = append(args, "-chardev", "pipe,id=mon,path="+qemuEsc(filepath.Join(c.RunDir, "mon")), "-mon", "chardev=mon,mode=readline")
	}
	l.args = append(args, extra...)
	log, err := os.Create(filepath.Join(c.RunDir, "qemu.log"))
	if err != nil {
		l.close()
		return nil, err
	}
	defer log.Close()
	var p pipes
	conR, conW := p.pipe()
	outR, outW := p.pipe()
	errR, errW := p.pipe()
	if p.err != nil {
		p.close()
		l.close()
		return nil, p.err
	}
	// fds 3, 4, 5 in qemu: qemuFdConsole, qemuFdStdout, qemuFdStderr
	g, err := startGuarded(c.RunDir, l.args, os.Environ(), log, log, []*os.File{conW, outW, errW})
	p.closeNow(conW)
	if err != nil {
		p.close()
		l.close()
		return nil, fmt.Errorf("qemu: %w", err)
	}
	l.g = g
	// this process keeps the output pipes' write ends until the launch is
	// over, so the copies do not end early; the read ends are the copies'
	l.outW, l.errW = outW, errW
	g.copy(io.MultiWriter(con, l.watch), conR)
	g.copy(stdout, outR)
	g.copy(stderr, errR)
	return l, nil
}

// end makes sure qemu and its guardian are gone and the output copied.
func (l *qemuLaunch) end() {
	if l.outW != nil {
		l.outW.Close()
		l.errW.Close()
		l.outW, l.errW = nil, nil
	}
	if l.g != nil {
		l.g.kill()
		l.g = nil
	}
	l.close()
}

func (l *qemuLaunch) close() {
	for _, f := range l.fifos {
		f.Close()
	}
	l.fifos = nil
}

// qemuWatch splits the console into lines and tells when one starting
// with a given prefix came.
type qemuWatch struct {
	mu      sync.Mutex
	partial []byte
	seenOf  map[string]bool
	waiters map[string]chan struct{}
}

func newQemuWatch() *qemuWatch {
	return &qemuWatch{seenOf: map[string]bool{}, waiters: map[string]chan struct{}{}}
}

func (w *qemuWatch) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.partial = append(w.partial, p...)
	for {
		i := bytes.IndexByte(w.partial, '\n')
		if i < 0 {
			break
		}
		line := strings.TrimRight(string(w.partial[:i]), "\r")
		w.partial = w.partial[i+1:]
		for prefix, ch := range w.waiters {
			if strings.HasPrefix(line, prefix) {
				close(ch)
				delete(w.waiters, prefix)
				w.seenOf[prefix] = true
			}
		}
	}
	if len(w.partial) > 4096 {
		w.partial = w.partial[:0] // no prefix is that long
	}
	return len(p), nil
}

// seen returns a channel closed once a line starting with prefix came.
func (w *qemuWatch) seen(prefix string) <-chan struct{} {
	w.mu.Lock()
	defer w.mu.Unlock()
	if ch, ok := w.waiters[prefix]; ok {
		return ch
	}
	ch := make(chan struct{})
	if w.seenOf[prefix] {
		close(ch)
	} else {
		w.waiters[prefix] = ch
	}
	return ch
}

// errSnapshotSlow is a saved guest not made in time, or stopped.
var errSnapshotSlow = errors.New("too slow")

// qemuMakeSnapshot boots a guest that stops at the snapshot point and
// saves it to snap with the monitor's migrate command.
func qemuMakeSnapshot(ctx context.Context, c qemuConfig, snap string) error {
	dir, err := os.MkdirTemp("", "wordish-vm-qemu-snap-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	c.Snap, c.RunDir, c.Shares = true, dir, nil
	con := newConsole()
	l, err := qemuStartLaunch(c, con, io.Discard, io.Discard, true)
	if err != nil {
		return err
	}
	defer l.end()
	slow, cancel := context.WithTimeout(ctx, 180*time.Second)
	defer cancel()
	qemuSays := func() string {
		b, _ := os.ReadFile(filepath.Join(dir, "qemu.log"))
		return lastLine(string(b))
	}
	select {
	case <-l.watch.seen("wordish-qemu: snapshot point"):
	case <-l.g.exited:
		return fmt.Errorf("the guest stopped while booting: %s %s", lastLine(con.String()), qemuSays())
	case <-slow.Done():
		return fmt.Errorf("%w: it did not boot within 180 s: %s", errSnapshotSlow, lastLine(con.String()))
	}
	tmp := snap + ".new"
	defer os.Remove(tmp)
	// migrate without -d holds the monitor until it is done, so quit
	// can follow at once (exec: runs sh -c)
	fmt.Fprintf(l.mon, "migrate \"exec:cat > %s\"\nquit\n", shellQuote(tmp))
	select {
	case <-l.g.exited:
	case <-slow.Done():
		return fmt.Errorf("%w: saving it took more than 180 s", errSnapshotSlow)
	}
	if !qemuUsable(tmp) {
		return fmt.Errorf("qemu saved nothing: %s", qemuSays())
	}
	return os.Rename(tmp, snap)
}

// Run runs spec.Argv in a fresh qemu guest (see qemu.go and Backend).
//
// The error is non-nil when the backend cannot run here (not root,
// missing packages or kernel: the message says what to run), when the
// guest reported no exit status (a GuestError: one line, and the saved
// console log), or when ctx was done or spec.Timeout hit before the
// command ended by itself (it wraps ErrStopped and ctx's error; the
// command was asked to stop with SIGINT and given spec.Grace; its status
// is returned if it then exited, else -1).
//
// spec.Timeout counts from qemu's start: a first run's download of the
// kernel and saving of a booted guest are not the command's time.
func (q *qemuBackend) Run(ctx context.Context, spec Spec) (status int, err error) {
	spec = withDefaults(spec)
	if err := checkSpec(&spec); err != nil {
		return -1, err
	}
	k, a, err := q.ready(ctx, &spec)
	if err != nil {
		return -1, err
	}
	// The saved guest comes first (it depends on the number of shares,
	// not on their paths), before there is a run directory to leave
	// behind. Stderr is the command's: making it (once) is noted there
	// only when asked to prepare, like the download, or with Verbose.
	var notes io.Writer = io.Discard
	if spec.Verbose || spec.Install {
		notes = spec.Stderr
	}
	snap, serr := qemuEnsureSnapshot(ctx, q.config(k, a, spec.Memory, spec.Shares), notes, false)
	if serr != nil {
		fmt.Fprintf(spec.Stderr, "wordish: qemu: %v; booting instead\n", serr)
	}
	run, err := newRunDir(&spec)
	if err != nil {
		return -1, err
	}
	defer os.RemoveAll(run)
	r := &qemuRun{spec: &spec, run: run, snap: snap, con: newConsole()}
	if err := r.setup(q.config(k, a, spec.Memory, nil), k); err != nil {
		return -1, err
	}
	ctx, cancel, err := runContext(ctx, &spec)
	if err != nil {
		return -1, err
	}
	defer cancel()
	defer r.stdout.flush()
	defer r.stderr.flush()

	start := time.Now()
	if err := r.start(ctx); err != nil {
		return -1, err
	}
	stopped, qemuLog := r.wait(ctx)
	if spec.Verbose {
		fmt.Fprintf(spec.Stderr, "%s (%s, %s)\n", timingLine("qemu", run, start, time.Now()), r.mode, a.Reason)
	}
	return outcome("qemu", run, &spec, stopped, func() error {
		text := r.con.String() + "\n=== qemu's messages\n" + qemuLog
		return guestFailed("qemu", qemuDiagnose(r.con.String(), qemuLog), text)
	})
}

// ready makes sure the backend can run spec here (installing what is
// missing if spec.Install) and returns the kernel and the accelerator.
func (q *qemuBackend) ready(ctx context.Context, spec *Spec) (*qemuKernel, qemuAccelChoice, error) {
	var a qemuAccelChoice
	if os.Geteuid() != 0 {
		return nil, a, errors.New("qemu: " + qemuNeedsRoot)
	}
	if err := needPackages(q.Missing(), spec.Install, spec.Stderr); err != nil {
		return nil, a, fmt.Errorf("qemu: %w", err)
	}
	k, err := qemuLoadKernel(ctx)
	if errors.Is(err, errNoKernel) {
		if !spec.Install {
			return nil, a, fmt.Errorf("qemu: the guest kernel is not in the cache (%s) yet; run: wordish sandbox install", qemuCacheDir())
		}
		k, err = qemuEnsureKernel(ctx, spec.Stderr)
	}
	if err != nil {
		return nil, a, err
	}
	a = q.chooseAccel(ctx, k)
	if err := os.MkdirAll(filepath.Join(qemuCacheDir(), "empty"), 0o755); err != nil {
		return nil, a, fmt.Errorf("qemu: cache: %w", err)
	}
	return k, a, nil
}

// qemuRun is the state of one Run once its run directory exists.
type qemuRun struct {
	spec           *Spec
	run            string         // the run directory
	snap           string         // the saved guest to resume; "" to boot
	cfg            qemuConfig     // this run's qemu settings
	con            *console       // the guest console, kept
	stdout, stderr *qemuEndWriter // the command's output, up to the nonce
	l              *qemuLaunch    // the qemu process; nil when none
	mode           string         // "resumed" or "booted", for Verbose
}

// setup writes the run's own files (stage 2 of the guest's init, the
// nonce that ends each output stream) and makes cfg this run's.
func (r *qemuRun) setup(cfg qemuConfig, k *qemuKernel) error {
	shares, err := qemuReadLines(filepath.Join(r.run, "shares"))
	if err != nil {
		return err
	}
	cfg.Shares, cfg.RunDir = shares, r.run
	r.cfg = cfg
	if err := os.WriteFile(filepath.Join(r.run, "init"), guestInit(qemuInit2, "M="+k.Modules()), 0o755); err != nil {
		return err
	}
	// a NUL byte first: text does not end with one (see qemuEndWriter)
	nonce := make([]byte, 16)
	rand.Read(nonce[1:])
	if err := os.WriteFile(filepath.Join(r.run, "nonce"), nonce, 0o644); err != nil {
		return err
	}
	r.stdout, r.stderr = newQemuEndWriter(r.spec.Stdout, nonce), newQemuEndWriter(r.spec.Stderr, nonce)
	return nil
}

// start resumes the saved guest, or boots one when there is none or it
// does not resume (nothing of the command ran then).
func (r *qemuRun) start(ctx context.Context) error {
	out := consoleSink(r.con, r.spec)
	var err error
	if r.snap != "" {
		rc := r.cfg
		rc.Snap = true
		if r.l, err = qemuStartLaunch(rc, out, r.stdout, r.stderr, false, "-incoming", "exec:cat "+shellQuote(r.snap)); err != nil {
			return err
		}
		r.mode = "resumed"
		now := time.Now()
		os.Chtimes(r.snap, now, now) // in use: not pruned
		why := qemuResume(ctx, r.l)
		if why == "" || ctx.Err() != nil {
			return nil
		}
		r.l.end()
		os.Remove(r.snap)
		fmt.Fprintf(r.spec.Stderr, "wordish: qemu: guest did not resume (%s); deleted the saved guest, booting instead\n", why)
		fmt.Fprintf(r.con, "\n=== wordish: qemu: guest did not resume (%s); booting\n", why)
	}
	r.mode = "booted"
	r.cfg.Snap = false
	r.l, err = qemuStartLaunch(r.cfg, out, r.stdout, r.stderr, false)
	if err != nil {
		r.l = nil
	}
	return err
}

// wait lets the guest run until it ends or ctx is done (see supervise),
// and then makes sure qemu is gone. It returns ctx's error if ctx stopped
// the run, and qemu's own messages.
func (r *qemuRun) wait(ctx context.Context) (stopped error, qemuLog string) {
	l := r.l
	defer l.end()
	// the launch's write ends go now: qemu has its own
	l.outW.Close()
	l.errW.Close()
	l.outW, l.errW = nil, nil
	// once both streams are complete, the guest may go
	go func(ctl *os.File, exited <-chan struct{}) {
		for _, e := range []*qemuEndWriter{r.stdout, r.stderr} {
			select {
			case <-e.seen:
			case <-exited:
				return
			}
		}
		ctl.Write([]byte("bye\n"))
	}(l.ctl, l.g.exited)
	stopped = l.g.supervise(ctx, r.spec.Grace, func() { l.ctl.Write([]byte("stop\n")) }, r.spec.verboseLog(), "qemu")
	log, _ := os.ReadFile(filepath.Join(r.run, "qemu.log"))
	return stopped, string(log)
}

// qemuResume sends the go line until the guest says it resumed; it
// returns why it did not ("" if it did): bytes that reach the serial
// line while qemu is still loading the saved state are lost, hence the
// repeats. The time (seconds) and 32 random bytes are in the line: the
// saved guest's clock and random pool are those of the day it was saved.
func qemuResume(ctx context.Context, l *qemuLaunch) string {
	rnd := make([]byte, 32)
	rand.Read(rnd)
	resumed := l.watch.seen("wordish-qemu: resumed")
	deadline := time.NewTimer(60 * time.Second)
	defer deadline.Stop()
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		// the guest sets whole seconds: the nearest one is at most 0.5 s off
		fmt.Fprintf(l.ctl, "go %d %s end\n", time.Now().Add(500*time.Millisecond).Unix(), hex.EncodeToString(rnd))
		select {
		case <-resumed:
			return ""
		case <-l.g.exited:
			return "qemu exited"
		case <-deadline.C:
			return "no answer within 60 s"
		case <-ctx.Done():
			return "stopped"
		case <-tick.C:
		}
	}
}

// qemuDiagnose says in a few words what went wrong, from the guest
// console and qemu's own messages.
func qemuDiagnose(console, qemuLog string) string {
	if what := consoleTrouble(console, "guest kernel panic", "wordish-qemu init: ", "wordish-qemu initramfs: "); what != "" {
		return what
	}
	if l := lastLine(qemuLog); l != "" {
		return "qemu said: " + l
	}
	return "the guest reported no exit status"
}

// qemuReadLines returns the non-empty lines of a file.
func qemuReadLines(name string) ([]string, error) {
	data, err := os.ReadFile(name)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, l := range strings.Split(string(data), "\n") {
		if l != "" {
			out = append(out, l)
		}
	}
	return out, nil
}

// qemuEndWriter passes a port's stream on to w, up to the run's nonce,
// which the guest writes after the command's output (see qemu_init2.sh):
// seen is closed when it came, so the host knows it has everything. Only
// bytes that could be the start of the nonce are held back (it begins
// with a NUL byte, which text does not end with), so the output stays
// live. An error of w does not stop the reading: a guest whose output
// nobody reads would wait forever.
type qemuEndWriter struct {
	mu    sync.Mutex
	w     io.Writer
	nonce []byte
	held  []byte
	seen  chan struct{}
	done  bool
	err   error
}

func newQemuEndWriter(w io.Writer, nonce []byte) *qemuEndWriter {
	return &qemuEndWriter{w: w, nonce: nonce, seen: make(chan struct{})}
}

func (e *qemuEndWriter) Write(p []byte) (int, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.done {
		e.pass(p) // after the nonce: a daemon the command left, say
		return len(p), nil
	}
	buf := append(e.held, p...)
	if i := bytes.Index(buf, e.nonce); i >= 0 {
		e.pass(buf[:i])
		e.held = nil
		e.done = true
		close(e.seen)
		e.pass(buf[i+len(e.nonce):])
		return len(p), nil
	}
	// hold the longest end of buf that begins the nonce
	keep := 0
	for k := min(len(buf), len(e.nonce)-1); k > 0; k-- {
		if bytes.Equal(buf[len(buf)-k:], e.nonce[:k]) {
			keep = k
			break
		}
	}
	e.pass(buf[:len(buf)-keep])
	e.held = append([]byte(nil), buf[len(buf)-keep:]...)
	return len(p), nil
}

func (e *qemuEndWriter) pass(p []byte) {
	if len(p) > 0 && e.err == nil {
		_, e.err = e.w.Write(p)
	}
}

// flush passes on what is held (the stream ended without the nonce).
func (e *qemuEndWriter) flush() {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.pass(e.held)
	e.held = nil
}
