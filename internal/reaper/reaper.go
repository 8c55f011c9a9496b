// Package reaper is the process that tracks one session's processes: the
// binary that imports it, run again with Arg0 as its argv[0], becomes a
// child subreaper (PR_SET_CHILD_SUBREAPER), starts the shell and, when
// told to or when its parent dies, kills every descendant and exits. The
// wordish side of it is session's startReaper (session/procs.go), which
// also documents the descriptors.
//
// The package imports the standard library only, so that Go initialises
// it, and its init enters the reaper, before the heavy packages of the
// binary (goldmark, x/net/html, mvdan.cc/sh): a reaper that started in
// main would pay for all their initialisation first (3.4 against 7.1 ms
// of CPU per start measured for the wordish binary).
package reaper

import (
	"os"
	"os/signal"
	"strconv"
	"syscall"
	"time"
)

// Arg0 is the reaper's argv[0]; its arguments are the shell's path and
// argv.
const Arg0 = "wordish-session-reaper"

// KillLimit bounds the reaper's killing at the end.
const KillLimit = 3 * time.Second

func init() {
	if len(os.Args) > 1 && os.Args[0] == Arg0 {
		os.Exit(reaperMain(os.Args[1:]))
	}
}

// Descriptors, from session's startReaper.
const (
	fdShellLast = 5 // 0 to 5: the shell's, passed on
	fdControl   = 6 // end of file: kill everything, exit
	fdReport    = 7 // "P<pid>\n", "X<status>\n", "K<left>\n", "E<error>\n"
)

func report(kind byte, s string) {
	b := append([]byte{kind}, s...)
	syscall.Write(fdReport, append(b, '\n'))
}

func reaperMain(argv []string) int {
	// Signals meant for wordish's process group (Ctrl-C, `timeout`), or a
	// command's `kill $PPID`, must not end the reaper before its work is
	// done: it is in a process group of its own, and catches them.
	// Caught, not ignored: an ignored signal would stay ignored in the
	// shell and every command.
	signal.Notify(make(chan os.Signal, 1), syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP,
		syscall.SIGQUIT, syscall.SIGTSTP, syscall.SIGTTIN, syscall.SIGTTOU, syscall.SIGPIPE)
	syscall.CloseOnExec(fdControl)
	syscall.CloseOnExec(fdReport)
	if _, _, e := syscall.RawSyscall(syscall.SYS_PRCTL, prSetChildSubreaper, 1, 0); e != 0 {
		report('E', "prctl: "+e.Error())
		return 1
	}
	// The shell's directory and environment come on the control pipe,
	// once wordish has made the directory (StartMessage); an end of file
	// first means the session was abandoned.
	dir, env, ok := readStart()
	if !ok {
		return 0
	}
	attr := &syscall.ProcAttr{
		Dir:   dir,
		Env:   env,
		Files: []uintptr{0, 1, 2, 3, 4, 5},
		Sys:   &syscall.SysProcAttr{Setsid: true, Setctty: true, Ctty: 0},
	}
	if err := syscall.Chdir(dir); err != nil {
		report('E', "chdir: "+err.Error())
		return 1
	}
	pid, err := syscall.ForkExec(argv[0], argv[1:], attr)
	if err != nil {
		report('E', err.Error())
		return 1
	}
	// The reaper keeps no terminal nor channel open: only the shell holds
	// them.
	if null, err := syscall.Open("/dev/null", syscall.O_RDWR, 0); err == nil {
		for fd := 0; fd <= 2; fd++ {
			syscall.Dup3(null, fd, 0)
		}
		syscall.Close(null)
	}
	for fd := 3; fd <= fdShellLast; fd++ {
		syscall.Close(fd)
	}
	report('P', strconv.Itoa(pid))

	// Reap every child, the shell's status reported.
	// Either the goroutine below or killAll reaps the shell; X is
	// reported before K either way (wordish needs the status).
	shellReaped := make(chan struct{})
	reaped := func(wpid int, ws syscall.WaitStatus) {
		if wpid == pid {
			st := ws.ExitStatus()
			if ws.Signaled() {
				st = 128 + int(ws.Signal())
			}
			report('X', strconv.Itoa(st))
			close(shellReaped)
		}
	}
	go func() {
		for {
			var ws syscall.WaitStatus
			wpid, err := syscall.Wait4(-1, &ws, 0, nil)
			if err == syscall.EINTR {
				continue
			}
			if err != nil { // ECHILD: none left for now
				time.Sleep(20 * time.Millisecond)
				continue
			}
			reaped(wpid, ws)
		}
	}()

	var b [64]byte
	for {
		n, err := syscall.Read(fdControl, b[:])
		if err == syscall.EINTR {
			continue
		}
		if n <= 0 || err != nil {
			break
		}
	}
	left := killAll(os.Getpid(), KillLimit, reaped)
	select { // reaped, when no child is left, but maybe not yet reported
	case <-shellReaped:
	case <-time.After(time.Second):
	}
	report('K', strconv.Itoa(len(left)))
	return 0
}

// RuntimeEnv is the reaper's whole environment: one processor is plenty
// for it, and its runtime starts with fewer threads (0.4 ms of CPU less
// per start, measured with an empty program). The shell's environment
// comes in StartMessage.
const RuntimeEnv = "GOMAXPROCS=1"

// StartMessage is what wordish writes on the control pipe to have the
// shell started in dir with env: "G" LENGTH "\n", then dir and each
// variable, each ended by a NUL byte.
func StartMessage(dir string, env []string) []byte {
	n := len(dir) + 1
	for _, kv := range env {
		n += len(kv) + 1
	}
	b := append([]byte{'G'}, strconv.Itoa(n)...)
	b = append(b, '\n')
	b = append(append(b, dir...), 0)
	for _, kv := range env {
		b = append(append(b, kv...), 0)
	}
	return b
}

// readStart reads StartMessage from the control pipe.
func readStart() (dir string, env []string, ok bool) {
	var buf []byte
	var chunk [4096]byte
	need := -1
	for need < 0 || len(buf) < need {
		n, err := syscall.Read(fdControl, chunk[:])
		if err == syscall.EINTR {
			continue
		}
		if n <= 0 || err != nil {
			return "", nil, false
		}
		buf = append(buf, chunk[:n]...)
		if need < 0 {
			for i, c := range buf {
				if c != '\n' {
					continue
				}
				l, err := strconv.Atoi(string(buf[1:i]))
				if buf[0] != 'G' || err != nil || l < 1 {
					return "", nil, false
				}
				buf, need = buf[i+1:], l
				break
			}
		}
	}
	buf = buf[:need]
	var fields []string
	for len(buf) > 0 {
		i := 0
		for i < len(buf) && buf[i] != 0 {
			i++
		}
		fields = append(fields, string(buf[:i]))
		buf = buf[min(i+1, len(buf)):]
	}
	if len(fields) == 0 {
		return "", nil, false
	}
	return fields[0], fields[1:], true
}

// prSetChildSubreaper is PR_SET_CHILD_SUBREAPER (linux/prctl.h); syscall
// does not name it.
const prSetChildSubreaper = 36

// killAll SIGKILLs the descendants of root, the calling process, and
// reaps its children (each passed to reaped) until it has none left, or
// limit has passed; it
// returns the descendants still alive then. Having no child at all
// (ECHILD) is the proof that no descendant is left: root is a subreaper,
// so a process whose parent died becomes root's child, and zombies count
// until reaped. A process forking while it is killed leaves a child that
// becomes root's: the next round finds it.
func killAll(root int, limit time.Duration, reaped func(int, syscall.WaitStatus)) []int {
	deadline := time.Now().Add(limit)
	for {
		procs := Descendants(root)
		for _, pid := range procs {
			syscall.Kill(pid, syscall.SIGKILL)
		}
		for {
			var ws syscall.WaitStatus
			wpid, err := syscall.Wait4(-1, &ws, syscall.WNOHANG, nil)
			if err == syscall.ECHILD {
				return nil
			}
			if wpid <= 0 {
				break
			}
			reaped(wpid, ws) // the shell's status, should it be reaped here
		}
		if time.Now().After(deadline) {
			return Descendants(root)
		}
		time.Sleep(time.Millisecond)
	}
}

// Descendants lists the live (not zombie) descendants of root, found
// through /proc/PID/task/TID/children from root down: a few files per
// process of the tree rather than every process of the machine. Without
// those files (a kernel without CONFIG_PROC_CHILDREN) every process's
// stat is read instead.
func Descendants(root int) []int {
	var out []int
	todo := []int{root}
	for len(todo) > 0 {
		pid := todo[len(todo)-1]
		todo = todo[:len(todo)-1]
		p := "/proc/" + strconv.Itoa(pid) + "/task/"
		tasks, err := os.ReadDir(p)
		if err != nil {
			if pid == root {
				return descendantsScan(root)
			}
			continue // gone meanwhile
		}
		for _, t := range tasks {
			b, err := os.ReadFile(p + t.Name() + "/children")
			if err != nil {
				if pid == root && os.IsNotExist(err) {
					return descendantsScan(root)
				}
				continue
			}
			for len(b) > 0 {
				i := 0
				for i < len(b) && b[i] != ' ' && b[i] != '\n' {
					i++
				}
				if c, err := strconv.Atoi(string(b[:i])); err == nil {
					if st, ok := procState(c); ok && st != 'Z' && st != 'X' {
						out = append(out, c)
					}
					todo = append(todo, c)
				}
				if i < len(b) {
					i++
				}
				b = b[i:]
			}
		}
	}
	return out
}

// procState is the state letter of /proc/PID/stat.
func procState(pid int) (byte, bool) {
	p, ok := ReadStat(pid)
	return p.State, ok
}

// Proc is what /proc/PID/stat says of a process that wordish needs.
type Proc struct {
	State      byte // R, S, D, Z (zombie), X (dead)...
	PPID, PGID int
}

// Zombie reports whether the process has ended (not yet reaped).
func (p Proc) Zombie() bool { return p.State == 'Z' || p.State == 'X' }

// ReadStat reads /proc/PID/stat; false if the process is gone.
func ReadStat(pid int) (Proc, bool) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return Proc{}, false
	}
	return parseStat(b)
}

// parseStat reads "PID (COMM) S PPID PGRP ...": COMM may hold spaces and
// parentheses, so the last ')' ends it.
func parseStat(b []byte) (Proc, bool) {
	i := len(b) - 1
	for i >= 0 && b[i] != ')' {
		i--
	}
	if i < 0 || i+2 >= len(b) {
		return Proc{}, false
	}
	p := Proc{State: b[i+2]}
	var nums [2]int
	j := i + 3
	for k := range nums {
		for j < len(b) && b[j] == ' ' {
			j++
		}
		n, digits := 0, 0
		for ; j < len(b) && b[j] >= '0' && b[j] <= '9'; j++ {
			n, digits = n*10+int(b[j]-'0'), digits+1
		}
		if digits == 0 {
			return Proc{}, false
		}
		nums[k] = n
	}
	p.PPID, p.PGID = nums[0], nums[1]
	return p, true
}

// descendantsScan is Descendants by reading every process's stat.
func descendantsScan(root int) []int {
	ents, err := os.ReadDir("/proc")
	if err != nil {
		return nil
	}
	type proc struct {
		pid    int
		zombie bool
	}
	children := map[int][]proc{}
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if p, ok := ReadStat(pid); ok {
			children[p.PPID] = append(children[p.PPID], proc{pid, p.Zombie()})
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
