package reaper

import (
	"os"
	"os/exec"
	"syscall"
	"testing"
)

func TestReadStat(t *testing.T) {
	self, ok := ReadStat(os.Getpid())
	if !ok || self.PPID != os.Getppid() || self.PGID != syscall.Getpgrp() || self.Zombie() {
		t.Fatalf("ReadStat(self) = %+v, %v; want ppid %d pgid %d, alive", self, ok, os.Getppid(), syscall.Getpgrp())
	}
	// A zombie: the child has exited, not reaped.
	cmd := exec.Command("sh", "-c", "exit 0")
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Wait()
	// Wait without reaping, so the child stays a zombie.
	if _, _, e := syscall.Syscall6(syscall.SYS_WAITID, 1 /* P_PID */, uintptr(cmd.Process.Pid), 0, syscall.WEXITED|0x01000000 /* WNOWAIT */, 0, 0); e != 0 {
		t.Fatal(e)
	}
	child, ok := ReadStat(cmd.Process.Pid)
	if !ok || !child.Zombie() || child.PPID != os.Getpid() || child.PGID != cmd.Process.Pid {
		t.Fatalf("ReadStat(exited child) = %+v, %v; want a zombie of ppid %d, pgid %d", child, ok, os.Getpid(), cmd.Process.Pid)
	}
	if _, ok := ReadStat(1 << 30); ok {
		t.Error("ReadStat of a pid that cannot exist: ok")
	}
}

func TestParseStat(t *testing.T) {
	tests := []struct {
		in   string
		want Proc
		ok   bool
	}{
		{"12 (bash) S 1 12 12 0", Proc{'S', 1, 12}, true},
		{"13 (a (b) c) Z 12 7 7 0", Proc{'Z', 12, 7}, true},
		{"14 (x) y) R 2 3 3", Proc{'R', 2, 3}, true},
		{"15 (cut", Proc{}, false},
		{"16 (short) S 1", Proc{}, false},
		{"", Proc{}, false},
	}
	for _, tt := range tests {
		got, ok := parseStat([]byte(tt.in))
		if got != tt.want || ok != tt.ok {
			t.Errorf("parseStat(%q) = %+v, %v; want %+v, %v", tt.in, got, ok, tt.want, tt.ok)
		}
	}
}
