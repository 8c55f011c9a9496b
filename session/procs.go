package session

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// A session's processes are tracked by a reaper: the wordish binary run
// again (/proc/self/exe) with reaperArg0 as its argv[0], a small process
// that is the shell's parent and a child subreaper
// (PR_SET_CHILD_SUBREAPER). Every process the shell starts descends from
// it, and stays so whatever it does: a process whose parent dies is
// re-parented to the nearest subreaper, not to init, so setsid, a double
// fork, nohup, disown, a cleared environment or closed terminals change
// nothing. When the session closes, or when wordish dies in any way (its
// end of the reaper's control pipe closes), the reaper kills its
// descendants, and only those, until none is left. Being an ordinary
// process attribute, this works as root and as any other user.
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
const reaperArg0 = "wordish-session-reaper"

func init() {
	if len(os.Args) > 1 && os.Args[0] == reaperArg0 {
		os.Exit(reaperMain(os.Args[1:]))
	}
}

// reaperKillLimit bounds the reaper's killing at Close.
const reaperKillLimit = 3 * time.Second

func reaperMain(argv []string) int {
	report := os.NewFile(7, "report")
	ctl := os.NewFile(6, "control")
	// Signals meant for wordish's process group (Ctrl-C, `timeout`),
	// or a command's `kill $PPID`, must not end the reaper before its
	// work is done: it is in a process group of its own, and catches
	// them.
	// Caught, not ignored: an ignored signal would stay ignored in the
	// shell and every command.
	signal.Notify(make(chan os.Signal, 1), syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP,
		syscall.SIGQUIT, syscall.SIGTSTP, syscall.SIGTTIN, syscall.SIGTTOU, syscall.SIGPIPE)
	unix.CloseOnExec(6)
	unix.CloseOnExec(7)
	if err := unix.Prctl(unix.PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0); err != nil {
		fmt.Fprintf(report, "Eprctl: %v\n", err)
		return 1
	}
	attr := &syscall.ProcAttr{
		Env:   os.Environ(),
		Files: []uintptr{0, 1, 2, 3, 4, 5},
		Sys:   &syscall.SysProcAttr{Setsid: true, Setctty: true, Ctty: 0},
	}
	if wd, err := os.Getwd(); err == nil {
		attr.Dir = wd
	}
	pid, err := syscall.ForkExec(argv[0], argv[1:], attr)
	if err != nil {
		fmt.Fprintf(report, "E%v\n", err)
		return 1
	}
	// The reaper keeps no terminal nor channel open: only the shell
	// holds them.
	if null, err := unix.Open("/dev/null", unix.O_RDWR, 0); err == nil {
		for fd := 0; fd <= 2; fd++ {
			unix.Dup2(null, fd)
		}
		unix.Close(null)
	}
	for fd := 3; fd <= 5; fd++ {
		unix.Close(fd)
	}
	fmt.Fprintf(report, "P%d\n", pid)

	// Reap every child, the shell's status reported.
	go func() {
		for {
			var ws unix.WaitStatus
			wpid, err := unix.Wait4(-1, &ws, 0, nil)
			if err == unix.EINTR {
				continue
			}
			if err != nil { // ECHILD: none left for now
				time.Sleep(20 * time.Millisecond)
				continue
			}
			if wpid == pid {
				st := ws.ExitStatus()
				if ws.Signaled() {
					st = 128 + int(ws.Signal())
				}
				fmt.Fprintf(report, "X%d\n", st)
			}
		}
	}()

	var b [64]byte
	for {
		n, err := ctl.Read(b[:])
		if n == 0 || err != nil {
			break
		}
	}
	left := killDescendants(os.Getpid(), reaperKillLimit)
	// Zombies left to reap are children of this process: reaped here, not
	// left to an init that may never reap.
	for {
		var ws unix.WaitStatus
		if wpid, _ := unix.Wait4(-1, &ws, unix.WNOHANG, nil); wpid <= 0 {
			break
		}
	}
	fmt.Fprintf(report, "K%d\n", len(left))
	return 0
}

// killDescendants SIGKILLs the live descendants of root until none is
// left or limit has passed, and returns those still alive then. A process
// forking while it is killed leaves a child that is re-parented to root
// (a subreaper): the next round finds it.
func killDescendants(root int, limit time.Duration) []int {
	deadline := time.Now().Add(limit)
	for {
		procs := descendants(root)
		if len(procs) == 0 || time.Now().After(deadline) {
			return procs
		}
		for _, pid := range procs {
			unix.Kill(pid, unix.SIGKILL)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// procInfo is what descendants needs of a process.
type procInfo struct {
	pid, ppid int
	zombie    bool
}

func readProc(pid int) (procInfo, bool) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return procInfo{}, false
	}
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return procInfo{}, false
	}
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 2 {
		return procInfo{}, false
	}
	p := procInfo{pid: pid, zombie: f[0] == "Z" || f[0] == "X"}
	p.ppid, _ = strconv.Atoi(f[1])
	return p, true
}

// descendants lists the live (not zombie) descendants of root.
func descendants(root int) []int {
	ents, err := os.ReadDir("/proc")
	if err != nil {
		return nil
	}
	children := map[int][]procInfo{}
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if p, ok := readProc(pid); ok {
			children[p.ppid] = append(children[p.ppid], p)
		}
	}
	var out []int
	var walk func(int)
	walk = func(pid int) {
		for _, c := range children[pid] {
			if !c.zombie {
				out = append(out, c.pid)
			}
			walk(c.pid)
		}
	}
	walk(root)
	return out
}

// reaper is wordish's side of a session's reaper process.
type reaper struct {
	proc     *os.Process
	ctl      *os.File      // closing it makes the reaper kill everything
	exited   chan struct{} // closed when the shell ended (or the reaper died)
	status   int           // the shell's status, once exited is closed; -1 unknown
	finished chan struct{} // closed when the reaper's report ended
	left     int           // processes the reaper could not kill; -1 unknown
}

// startReaper starts the reaper, which starts the shell (path, args) with
// env in dir; files are the shell's descriptors 0 to 5. It returns once
// the shell is started, with its pid.
func startReaper(path string, args, env []string, dir string, files [6]*os.File) (*reaper, int, error) {
	ctlR, ctlW, err := os.Pipe()
	if err != nil {
		return nil, 0, err
	}
	repR, repW, err := os.Pipe()
	if err != nil {
		ctlR.Close()
		ctlW.Close()
		return nil, 0, err
	}
	defer ctlR.Close()
	defer repW.Close()
	p, err := os.StartProcess("/proc/self/exe", append([]string{reaperArg0, path}, args...), &os.ProcAttr{
		Dir:   dir,
		Env:   env,
		Files: []*os.File{files[0], files[1], files[2], files[3], files[4], files[5], ctlR, repW},
		// A process group of its own: signals to wordish's group
		// (Ctrl-C, timeout) are for wordish to handle, not the reaper.
		Sys: &syscall.SysProcAttr{Setpgid: true},
	})
	if err != nil {
		ctlW.Close()
		repR.Close()
		return nil, 0, fmt.Errorf("reaper: %w", err)
	}
	r := &reaper{proc: p, ctl: ctlW, exited: make(chan struct{}), finished: make(chan struct{}), status: -1, left: -1}
	rd := bufio.NewReader(repR)
	line, err := rd.ReadString('\n')
	pid := 0
	if strings.HasPrefix(line, "P") {
		pid, _ = strconv.Atoi(strings.TrimSpace(line[1:]))
	}
	if pid <= 0 {
		ctlW.Close()
		repR.Close()
		p.Wait()
		if strings.HasPrefix(line, "E") {
			return nil, 0, fmt.Errorf("%s", strings.TrimSpace(line[1:]))
		}
		return nil, 0, fmt.Errorf("reaper: %q %v", line, err)
	}
	go func() {
		defer close(r.finished)
		defer repR.Close()
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
	return r, pid, nil
}

// close makes the reaper kill every process of the session and waits for
// it; it returns how many processes it could not kill (-1: unknown).
func (r *reaper) close() int {
	r.ctl.Close()
	select {
	case <-r.finished:
	case <-time.After(reaperKillLimit + 2*time.Second):
		r.proc.Kill()
		<-r.finished
	}
	r.proc.Wait()
	return r.left
}
