//go:build linux

package session

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// RunInVM boots a throwaway User-Mode Linux guest and runs argv as root
// inside it (see VMConfig); it returns argv's exit status.
//
// The error is non-nil when the sandbox cannot run here (not root, missing
// packages: the message names the apt-get command), when the guest reported
// no exit status (the message ends with the last lines of its console), or
// when ctx was done or cfg.Timeout hit before the command ended by itself
// (the error wraps ErrVMStopped and ctx's error). In the last case the
// command was first asked to stop with SIGINT and given cfg.Grace to clean
// up; if it then exited, its status is returned with the error, otherwise
// the status is -1.
//
// Files listed in cfg.Outputs are copied to the host (see VMOutDir); if
// that fails, the error says so, with the command's status.
//
// When RunInVM returns, for any reason, no process of the guest is left
// and its temporary run directory is removed.
func RunInVM(ctx context.Context, cfg VMConfig, argv []string) (status int, err error) {
	if len(argv) == 0 {
		return -1, errors.New("RunInVM: no command")
	}
	if cfg.Stdout == nil {
		cfg.Stdout = io.Discard
	}
	if cfg.Stderr == nil {
		cfg.Stderr = io.Discard
	}
	cfg.Stderr = &lockedWriter{w: cfg.Stderr}
	if cfg.Memory == "" {
		cfg.Memory = "1024M"
	}
	if cfg.Grace <= 0 {
		cfg.Grace = 20 * time.Second
	}
	if _, err := vmCheck(&cfg); err != nil {
		return -1, err
	}
	if err := ctx.Err(); err != nil {
		return -1, fmt.Errorf("%w: %w", ErrVMStopped, err)
	}
	if cfg.Timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, cfg.Timeout)
		defer cancel()
	}

	run, err := os.MkdirTemp("", "wordish-vm-")
	if err != nil {
		return -1, err
	}
	defer os.RemoveAll(run)
	if err := vmPrepare(run, &cfg, argv); err != nil {
		return -1, err
	}

	// pipes: the command's stdout and stderr (ssl0, ssl1), the console
	// (con0, fd 3 in the kernel), the stop line (ssl2 input, fd 4)
	var pipes [4][2]*os.File
	defer func() {
		for _, p := range pipes {
			for _, f := range p {
				if f != nil {
					f.Close()
				}
			}
		}
	}()
	for i := range pipes {
		r, w, err := os.Pipe()
		if err != nil {
			return -1, err
		}
		pipes[i] = [2]*os.File{r, w}
	}
	outR, outW := pipes[0][0], pipes[0][1]
	errR, errW := pipes[1][0], pipes[1][1]
	conR, conW := pipes[2][0], pipes[2][1]
	stopR, stopW := pipes[3][0], pipes[3][1]

	umid := "wordish-" + strings.TrimPrefix(filepath.Base(run), "wordish-vm-")
	// The kernel runs under a small guardian shell, the leader of a new
	// session and process group that the kernel and its helper processes
	// share, so that one signal reaches them all. The guardian reads a
	// lifeline pipe whose other end only this process holds: if this
	// process dies without cleaning up (SIGKILL), the read ends, and the
	// guardian stops the kernel, removes the run directory and kills the
	// group itself.
	lifeR, lifeW, err := os.Pipe()
	if err != nil {
		return -1, err
	}
	defer lifeW.Close()
	cmd := exec.Command("/bin/sh", "-c", vmGuardian, "wordish-vm-guard", run, UMLKernel,
		"mem="+cfg.Memory, "umid="+umid, "uml_dir="+run,
		"rootfstype=hostfs", "rootflags=/", "ro", "init="+run+"/init", "quiet",
		"con=null", "ssl=null", "con0=null,fd:3",
		"ssl0=null,fd:1", "ssl1=null,fd:2", "ssl2=fd:4,null",
		"--", run)
	cmd.Stdout, cmd.Stderr = outW, errW
	cmd.ExtraFiles = []*os.File{conW, stopR, lifeR}
	cmd.Env = append(withoutVar(os.Environ(), "TMPDIR"), "TMPDIR="+umlTempDir())
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}

	console := &tailLines{max: 64 << 10}
	var conOut io.Writer = console
	if cfg.Verbose {
		conOut = io.MultiWriter(console, cfg.Stderr)
	}
	start := time.Now()
	if err := cmd.Start(); err != nil {
		return -1, fmt.Errorf("start %s: %w", UMLKernel, err)
	}
	pid := cmd.Process.Pid
	for _, f := range []*os.File{outW, errW, conW, stopR, lifeR} {
		f.Close()
	}
	pipes[0][1], pipes[1][1], pipes[2][1], pipes[3][0] = nil, nil, nil, nil

	var copies sync.WaitGroup
	copyTo := func(w io.Writer, r io.Reader) {
		copies.Add(1)
		go func() {
			defer copies.Done()
			io.Copy(w, r)
		}()
	}
	copyTo(cfg.Stdout, outR)
	copyTo(cfg.Stderr, errR)
	var conMu sync.Mutex // console is read after the copies end or time out
	copyTo(writerFunc(func(p []byte) (int, error) {
		conMu.Lock()
		defer conMu.Unlock()
		return conOut.Write(p)
	}), conR)

	// the guardian's exit (it follows the kernel's), seen without reaping
	// it: its PID, which is also the process group's ID, stays reserved
	// until cmd.Wait below
	exited := make(chan struct{})
	go func() {
		defer close(exited)
		var info unix.Siginfo
		for {
			err := unix.Waitid(unix.P_PID, pid, &info, unix.WEXITED|unix.WNOWAIT, nil)
			if err != unix.EINTR {
				return
			}
		}
	}()

	stopped := false
	select {
	case <-exited:
	case <-ctx.Done():
		stopped = true
		if cfg.Verbose {
			fmt.Fprintf(cfg.Stderr, "wordish vm: stopping (%v): SIGINT to the command, %v to clean up\n", ctx.Err(), cfg.Grace)
		}
		grace := cfg.Grace
		if _, err := os.Stat(filepath.Join(run, "timing")); err != nil {
			// the command has not started: nothing to clean up in the guest
			grace = 0
		}
		stopW.Write([]byte("stop\n"))
		if !waitFor(exited, grace) {
			if grace > 0 {
				fmt.Fprintf(cfg.Stderr, "wordish vm: the guest did not stop within %v; terminating it\n", grace)
			}
			syscall.Kill(pid, syscall.SIGTERM) // the guardian passes it on
			if !waitFor(exited, 5*time.Second) {
				syscall.Kill(-pid, syscall.SIGKILL)
				<-exited
			}
		}
	}
	// UML's helper processes outlive a killed kernel; they are all in its
	// process group. Wait until they are dead (zombies, left to init, are)
	syscall.Kill(-pid, syscall.SIGKILL)
	cmd.Wait()
	// Under load a helper may still be on its way out, or have left the
	// group: anything whose command line names this run's directory is
	// ours, and is killed too.
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); {
		// A helper forked while the kernel was being killed stops itself
		// (waiting for a tracer that is gone): kill again until none is left.
		if killNamed(run) == 0 && !groupAlive(pid) {
			break
		}
		syscall.Kill(-pid, syscall.SIGKILL)
		time.Sleep(10 * time.Millisecond)
	}
	end := time.Now()
	done := make(chan struct{})
	go func() { copies.Wait(); close(done) }()
	if !waitFor(done, 5*time.Second) {
		// something else holds a write end: stop reading
		outR.Close()
		errR.Close()
		conR.Close()
		<-done
	}

	if cfg.Verbose {
		msg := fmt.Sprintf("wordish vm: total %d ms", end.Sub(start).Milliseconds())
		if t, err := os.ReadFile(filepath.Join(run, "timing")); err == nil {
			if f := strings.Fields(string(t)); len(f) == 2 && f[0] == "start" {
				if s, err := strconv.ParseFloat(f[1], 64); err == nil {
					boot := time.Unix(0, int64(s*1e9)).Sub(start)
					msg = fmt.Sprintf("wordish vm: boot %d ms, command and shutdown %d ms, total %d ms",
						boot.Milliseconds(), end.Sub(start).Milliseconds()-boot.Milliseconds(), end.Sub(start).Milliseconds())
				}
			}
		}
		fmt.Fprintln(cfg.Stderr, msg)
	}

	status = -1
	data, rerr := os.ReadFile(filepath.Join(run, "status"))
	if rerr == nil {
		status, rerr = strconv.Atoi(strings.TrimSpace(string(data)))
		if rerr != nil {
			status = -1
		}
	}
	cerr := vmCollect(run, cfg.Outputs)
	if stopped {
		return status, fmt.Errorf("%w: %w", ErrVMStopped, ctx.Err())
	}
	if status < 0 {
		conMu.Lock()
		tail := console.last(40)
		conMu.Unlock()
		return -1, fmt.Errorf("the sandbox guest reported no exit status; the end of its console:\n%s", tail)
	}
	if cerr != nil {
		return status, fmt.Errorf("copying the sandbox's output files: %w", cerr)
	}
	return status, nil
}

// vmGuardian is the guardian shell's script: $1 is the run directory, the
// rest the kernel's command line; fd 5 is the lifeline. SIGTERM is passed
// on to the kernel (a clean UML shutdown).
const vmGuardian = `run=$1; shift
"$@" </dev/null 5<&- &
uml=$!
{
	read _ <&5
	kill -TERM $uml 2>/dev/null
	sleep 3
	rm -rf "$run"
	kill -KILL 0
} </dev/null >/dev/null 2>&1 3>&- 4>&- &
exec 5<&-
trap 'kill -TERM $uml 2>/dev/null' TERM
while kill -0 $uml 2>/dev/null; do wait $uml; done
`

// killNamed sends SIGKILL to every live process whose command line holds
// dir (the UML kernel and its helpers name the run directory) and says
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
		name := e.Name()
		if name[0] < '0' || name[0] > '9' {
			continue
		}
		data, err := os.ReadFile("/proc/" + name + "/stat")
		if err != nil {
			continue
		}
		// pid (comm) state ppid pgrp ...; comm may hold spaces and parentheses
		i := bytes.LastIndexByte(data, ')')
		if i < 0 {
			continue
		}
		f := strings.Fields(string(data[i+1:]))
		if len(f) < 3 || f[2] != strconv.Itoa(pgid) {
			continue
		}
		if f[0] != "Z" && f[0] != "X" {
			return true
		}
	}
	return false
}

// waitFor reports whether ch is closed within d.
func waitFor(ch <-chan struct{}, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ch:
		return true
	case <-t.C:
		return false
	}
}

// withoutVar returns env without the variable named k.
func withoutVar(env []string, k string) []string {
	var out []string
	for _, kv := range env {
		if !strings.HasPrefix(kv, k+"=") {
			out = append(out, kv)
		}
	}
	return out
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }

// lockedWriter serialises writes from the goroutines that share a writer.
type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}
