package session

import (
	"bufio"
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"

	subreaper "github.com/wordish-go/wordish/internal/reaper"
)

// A session's processes are tracked by a reaper: the wordish binary run
// again (/proc/self/exe) with reaper.Arg0 as its argv[0], a small process
// that is the shell's parent and a child subreaper
// (PR_SET_CHILD_SUBREAPER); internal/reaper is its code, entered from
// that package's init before the heavy packages initialise. Every process
// the shell starts descends from it, and stays so whatever it does: a
// process whose parent dies is re-parented to the nearest subreaper, not
// to init, so setsid, a double fork, nohup, disown, a cleared environment
// or closed terminals change nothing. When the session closes, or when
// wordish dies in any way (its end of the reaper's control pipe closes),
// the reaper kills its descendants, and only those, until it has no child
// left. Being an ordinary process attribute, this works as root and as
// any other user.
//
// Descriptors of the reaper, from Start:
//
//	0, 1, 2  the main terminal (passed on to the shell)
//	3        the shell's script (passed on)
//	4        the standard error terminal (passed on)
//	5        the shell's end of the marker channel (passed on)
//	6        control, from wordish: end of file = kill everything, exit
//	7        report, to wordish: "P<shell pid>\n", "X<status>\n" when the
//	         shell ends, "K<processes left>\n" before the reaper exits

// reaperKillLimit bounds the reaper's killing at Close.
const reaperKillLimit = subreaper.KillLimit

// reaper is wordish's side of a session's reaper process.
type reaper struct {
	proc     *os.Process
	ctl      *os.File      // closing it makes the reaper kill everything
	rep      *os.File      // the reaper's report
	exited   chan struct{} // closed when the shell ended (or the reaper died)
	status   int           // the shell's status, once exited is closed; -1 unknown
	finished chan struct{} // closed when the reaper's report ended
	left     int           // processes the reaper could not kill; -1 unknown
}

// startReaper starts the reaper, which is to start the shell (path,
// args); files are the shell's descriptors 0 to 5. The reaper's runtime
// starts meanwhile wordish makes the session's directories: the shell
// itself starts at startShell.
func startReaper(path string, args []string, files [6]*os.File) (*reaper, error) {
	ctlR, ctlW, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	repR, repW, err := os.Pipe()
	if err != nil {
		ctlR.Close()
		ctlW.Close()
		return nil, err
	}
	defer ctlR.Close()
	defer repW.Close()
	p, err := os.StartProcess("/proc/self/exe", append([]string{subreaper.Arg0, path}, args...), &os.ProcAttr{
		// The shell's environment comes with its directory (startShell).
		Env:   []string{subreaper.RuntimeEnv},
		Files: []*os.File{files[0], files[1], files[2], files[3], files[4], files[5], ctlR, repW},
		// A process group of its own: signals to wordish's group
		// (Ctrl-C, timeout) are for wordish to handle, not the reaper.
		Sys: &syscall.SysProcAttr{Setpgid: true},
	})
	if err != nil {
		ctlW.Close()
		repR.Close()
		return nil, fmt.Errorf("reaper: %w", err)
	}
	return &reaper{proc: p, ctl: ctlW, rep: repR, exited: make(chan struct{}), finished: make(chan struct{}), status: -1, left: -1}, nil
}

// startShell has the reaper start the shell with env in dir, and returns
// the shell's pid once it is forked. On error the reaper is gone.
func (r *reaper) startShell(dir string, env []string) (int, error) {
	if _, err := r.ctl.Write(subreaper.StartMessage(dir, env)); err != nil {
		r.abort()
		return 0, fmt.Errorf("reaper: %w", err)
	}
	rd := bufio.NewReader(r.rep)
	line, err := rd.ReadString('\n')
	pid := 0
	if strings.HasPrefix(line, "P") {
		pid, _ = strconv.Atoi(strings.TrimSpace(line[1:]))
	}
	if pid <= 0 {
		r.abort()
		if strings.HasPrefix(line, "E") {
			return 0, fmt.Errorf("%s", strings.TrimSpace(line[1:]))
		}
		return 0, fmt.Errorf("reaper: %q %v", line, err)
	}
	go func() {
		defer close(r.finished)
		defer r.rep.Close()
		exited := false
		defer func() {
			if !exited {
				close(r.exited)
			}
		}()
		for {
			line, err := rd.ReadString('\n')
			n, aerr := strconv.Atoi(strings.TrimSpace(line[min(1, len(line)):]))
			switch {
			case aerr != nil:
			case strings.HasPrefix(line, "X") && !exited:
				r.status, exited = n, true
				close(r.exited)
			case strings.HasPrefix(line, "K"):
				r.left = n
			}
			if err != nil {
				return
			}
		}
	}()
	return pid, nil
}

// abort ends a reaper whose shell has not started (or failed to): an end
// of file on its control pipe before the start message makes it exit.
func (r *reaper) abort() {
	r.ctl.Close()
	r.rep.Close()
	r.proc.Wait()
}

// close makes the reaper kill every process of the session and waits for
// it; it returns how many processes it could not kill (-1: unknown).
func (r *reaper) close() int {
	r.ctl.Close()
	select {
	case <-r.finished:
		// The report ends when the reaper exits, its work done (every
		// descendant killed and reaped): the end of its threads, some
		// milliseconds on a loaded machine (9.5 ms median at load 15),
		// is not waited for.
		go r.proc.Wait()
	case <-time.After(reaperKillLimit + 2*time.Second):
		r.proc.Kill()
		<-r.finished
		r.proc.Wait()
	}
	return r.left
}
