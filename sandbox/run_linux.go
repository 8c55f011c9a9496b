//go:build linux

package sandbox

// The host side of a guest's processes, for every backend: the guest
// program (linux.uml, qemu) runs under a small guardian shell that leads a
// new session and process group, shared by the program and whatever
// helpers it forks, so that one signal reaches them all. The guardian
// reads a lifeline pipe whose other end only this process holds: if this
// process dies without cleaning up (SIGKILL), the read ends, and the
// guardian stops the program, removes the run directory and kills the
// group itself.

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	subreaper "github.com/wordish-go/wordish/internal/reaper"
)

// guardian is the guardian shell's script: $1 is the run directory, $2 the
// lifeline's descriptor (the last one passed; the watcher closes the ones
// before it, so it holds none of the program's pipes), the rest the
// program's command line. SIGTERM is passed on to the program. When the
// lifeline ends, the program gets SIGTERM and up to 3 s to exit.
const guardian = `run=$1 life=$2; shift 2
eval '"$@" </dev/null '"$life"'<&- &'
child=$!
{
	i=3
	while [ $i -lt $life ]; do eval "exec $i>&-"; i=$((i+1)); done
	eval 'read _ <&'"$life"
	kill -TERM $child 2>/dev/null
	n=0
	while kill -0 $child 2>/dev/null && [ $n -lt 30 ]; do sleep 0.1; n=$((n+1)); done
	rm -rf "$run"
	kill -KILL 0
} </dev/null >/dev/null 2>&1 &
eval "exec $life<&-"
trap 'kill -TERM $child 2>/dev/null' TERM
while kill -0 $child 2>/dev/null; do wait $child; done
`

// guarded is a guest program running under the guardian.
type guarded struct {
	run    string
	cmd    *exec.Cmd
	pid    int // the guardian's, and the process group's ID
	life   *os.File
	exited chan struct{} // closed when the guardian has exited (not reaped)
	copies sync.WaitGroup
	reads  []*os.File // read ends being copied
}

// startGuarded starts argv under the guardian, in run, with env, its
// stdout and stderr on the given files and extra as descriptors 3, 4...
// The caller closes its copies of the files it passed.
func startGuarded(run string, argv, env []string, stdout, stderr *os.File, extra []*os.File) (*guarded, error) {
	lifeR, lifeW, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	defer lifeR.Close()
	args := append([]string{"-c", guardian, "wordish-vm-guard", run, strconv.Itoa(3 + len(extra))}, argv...)
	cmd := exec.Command("/bin/sh", args...)
	cmd.Stdout, cmd.Stderr = stdout, stderr
	cmd.ExtraFiles = append(append([]*os.File{}, extra...), lifeR)
	cmd.Env = env
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := cmd.Start(); err != nil {
		lifeW.Close()
		return nil, fmt.Errorf("start %s: %w", argv[0], err)
	}
	g := &guarded{run: run, cmd: cmd, pid: cmd.Process.Pid, life: lifeW, exited: make(chan struct{})}
	// the guardian's exit (it follows the program's), seen without
	// reaping it: its PID, which is also the process group's ID, stays
	// reserved until cmd.Wait in kill
	go func() {
		defer close(g.exited)
		var info unix.Siginfo
		for {
			err := unix.Waitid(unix.P_PID, g.pid, &info, unix.WEXITED|unix.WNOWAIT, nil)
			if err != unix.EINTR {
				return
			}
		}
	}()
	return g, nil
}

// pipes makes the pipes of one run and closes, at the end, the ends that
// were not closed already; the first error is kept in err.
type pipes struct {
	open map[*os.File]bool
	err  error
}

func (p *pipes) pipe() (r, w *os.File) {
	if p.err != nil {
		return nil, nil
	}
	r, w, p.err = os.Pipe()
	if p.err == nil {
		if p.open == nil {
			p.open = map[*os.File]bool{}
		}
		p.open[r], p.open[w] = true, true
	}
	return r, w
}

// closeNow closes fs, ends that this process no longer needs.
func (p *pipes) closeNow(fs ...*os.File) {
	for _, f := range fs {
		if p.open[f] {
			f.Close()
			delete(p.open, f)
		}
	}
}

func (p *pipes) close() {
	for f := range p.open {
		f.Close()
	}
	p.open = nil
}

// copy copies r to w until r ends; wait waits for every copy.
func (g *guarded) copy(w io.Writer, r *os.File) {
	g.reads = append(g.reads, r)
	g.copies.Add(1)
	go func() {
		defer g.copies.Done()
		io.Copy(w, r)
	}()
}

// terminate asks the program to stop (SIGTERM, through the guardian) and
// kills the whole group if it has not within d.
func (g *guarded) terminate(d time.Duration) {
	syscall.Kill(g.pid, syscall.SIGTERM)
	if !waitFor(g.exited, d) {
		syscall.Kill(-g.pid, syscall.SIGKILL)
		<-g.exited
	}
}

// supervise waits for the program to end, or for ctx: then it calls
// stop (the backend's graceful stop request), waits up to grace (none if
// the command has not started: there is nothing to clean up), terminates
// the program, and after 5 s more kills it. It returns ctx's error if
// ctx stopped the run, else nil.
func (g *guarded) supervise(ctx context.Context, grace time.Duration, stop func(), log io.Writer, backend string) error {
	select {
	case <-g.exited:
		return nil
	case <-ctx.Done():
	}
	if !started(g.run) {
		grace = 0
	}
	if log != nil {
		fmt.Fprintf(log, "wordish %s: stopping (%v): SIGINT to the command, %v to clean up\n", backend, ctx.Err(), grace)
	}
	if stop != nil {
		stop()
	}
	if !waitFor(g.exited, grace) {
		if grace > 0 && log != nil {
			fmt.Fprintf(log, "wordish %s: the guest did not stop within %v; terminating it\n", backend, grace)
		}
		g.terminate(5 * time.Second)
	}
	return ctx.Err()
}

// kill makes sure nothing of the guest is left: it kills the process
// group until it is empty, reaps the guardian, and kills whatever still
// names the run directory; then it waits for the copies (5 s at most:
// something left may hold a write end) and closes their read ends.
func (g *guarded) kill() {
	// A guest's helper processes (UML's) outlive a killed program; they
	// are in its process group. Zombies, left to init, are dead enough.
	syscall.Kill(-g.pid, syscall.SIGKILL)
	g.cmd.Wait()
	g.life.Close()
	// Under load a helper may still be on its way out, or have left the
	// group; one forked during the kill stops itself (its tracer is
	// gone): kill again until none is left.
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); {
		if killNamed(g.run) == 0 && !groupAlive(g.pid) {
			break
		}
		syscall.Kill(-g.pid, syscall.SIGKILL)
		time.Sleep(10 * time.Millisecond)
	}
	done := make(chan struct{})
	go func() { g.copies.Wait(); close(done) }()
	if !waitFor(done, 5*time.Second) {
		for _, r := range g.reads {
			r.Close()
		}
		<-done
	}
	for _, r := range g.reads {
		r.Close()
	}
}

// killNamed sends SIGKILL to every live process whose command line holds
// dir (the guest program and its helpers name the run directory) and says
// how many it found.
func killNamed(dir string) int {
	ents, err := os.ReadDir("/proc")
	if err != nil {
		return 0
	}
	n := 0
	for _, e := range ents {
		name := e.Name()
		if name[0] < '0' || name[0] > '9' {
			continue
		}
		cl, err := os.ReadFile("/proc/" + name + "/cmdline")
		if err != nil || !bytes.Contains(cl, []byte(dir)) {
			continue
		}
		if p, err := strconv.Atoi(name); err == nil && p != os.Getpid() {
			syscall.Kill(p, syscall.SIGKILL)
			n++
		}
	}
	return n
}

// groupAlive reports whether a process of the process group pgid is
// still running. Zombies do not count: the killed helpers' parent is gone,
// and the processes that inherit them (init, or a subreaper) may take a
// while to reap them.
func groupAlive(pgid int) bool {
	if syscall.Kill(-pgid, 0) == syscall.ESRCH {
		return false
	}
	ents, err := os.ReadDir("/proc")
	if err != nil {
		return true
	}
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if p, ok := subreaper.ReadStat(pid); ok && p.PGID == pgid && !p.Zombie() {
			return true
		}
	}
	return false
}
