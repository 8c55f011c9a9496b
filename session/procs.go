package session

import (
	"bytes"
	"os"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// procInfo is what sessionProcs needs of a process.
type procInfo struct {
	pid, ppid, sid int
	ttyNr          int
	zombie         bool
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
	if len(f) < 5 {
		return procInfo{}, false
	}
	p := procInfo{pid: pid, zombie: f[0] == "Z" || f[0] == "X"}
	p.ppid, _ = strconv.Atoi(f[1])
	p.sid, _ = strconv.Atoi(f[3])
	p.ttyNr, _ = strconv.Atoi(f[4])
	return p, true
}

// ttyNr encodes a device number as /proc/PID/stat's tty_nr does.
func ttyNr(path string) int {
	var st unix.Stat_t
	if err := unix.Stat(path, &st); err != nil {
		return -1
	}
	maj, mnr := int(unix.Major(st.Rdev)), int(unix.Minor(st.Rdev))
	return mnr&0xff | maj<<8 | (mnr&^0xff)<<12
}

// sessionProcs lists the live processes that belong to the session: in
// the shell's session, with one of its terminals as controlling terminal,
// holding one of its terminals open, tagged with its WORDISH_SESSION in
// their environment, or descending from any of those.
func (s *Session) sessionProcs() []int {
	ents, err := os.ReadDir("/proc")
	if err != nil {
		return nil
	}
	self := os.Getpid()
	ttys := map[int]bool{}
	for _, t := range []string{s.outTTY, s.errTTY} {
		if n := ttyNr(t); n > 0 {
			ttys[n] = true
		}
	}
	tag := []byte("WORDISH_SESSION=" + s.id)
	var all []procInfo
	match := map[int]bool{}
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid == self || pid == 1 {
			continue
		}
		p, ok := readProc(pid)
		if !ok || p.zombie {
			continue
		}
		all = append(all, p)
		if p.sid == s.pid || ttys[p.ttyNr] || s.holdsTTY(pid) || hasEnv(pid, tag) {
			match[pid] = true
		}
	}
	// Descendants of matched processes.
	for changed := true; changed; {
		changed = false
		for _, p := range all {
			if !match[p.pid] && match[p.ppid] {
				match[p.pid] = true
				changed = true
			}
		}
	}
	var out []int
	for pid := range match {
		out = append(out, pid)
	}
	return out
}

func hasEnv(pid int, tag []byte) bool {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/environ")
	if err != nil {
		return false
	}
	for len(b) > 0 {
		var kv []byte
		kv, b, _ = bytes.Cut(b, []byte{0})
		if bytes.Equal(kv, tag) {
			return true
		}
	}
	return false
}

func (s *Session) holdsTTY(pid int) bool {
	dir := "/proc/" + strconv.Itoa(pid) + "/fd/"
	ents, err := os.ReadDir(dir)
	if err != nil {
		return false
	}
	for _, e := range ents {
		l, err := os.Readlink(dir + e.Name())
		if err == nil && (l == s.outTTY || l == s.errTTY) {
			return true
		}
	}
	return false
}

// killAll SIGKILLs the session's processes until none is left or limit
// has passed; it returns those still alive then.
func (s *Session) killAll(limit time.Duration) []int {
	deadline := time.Now().Add(limit)
	unix.Kill(s.pid, unix.SIGKILL)
	for {
		procs := s.sessionProcs()
		if len(procs) == 0 {
			return nil
		}
		if time.Now().After(deadline) {
			return procs
		}
		for _, pid := range procs {
			unix.Kill(pid, unix.SIGKILL)
		}
		time.Sleep(5 * time.Millisecond)
	}
}
