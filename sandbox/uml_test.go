//go:build linux && amd64

package sandbox

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestUMLDiagnose(t *testing.T) {
	tests := []struct{ console, want string }{
		{"Linux version 6.1\nuserspace - ptrace set fp regs failed, errno = 14\nKernel panic - not syncing: Attempted to kill init! exitcode=0x0000000b\n",
			"UML kernel panic: ptrace set fp regs failed (host xstate 11008 bytes > 2696: with the padding shim)"},
		{"Kernel panic - not syncing: VFS: Unable to mount root fs\n", "UML kernel panic: VFS: Unable to mount root fs"},
		{"wordish-vm init: hostfs /run/x\n", "guest init failed: hostfs /run/x"},
		{"wordish-vm init: ready at 1.2s\n", "the guest reported no exit status"},
	}
	for _, tt := range tests {
		if got := umlDiagnose(tt.console, xstateInfo{Size: 11008}, true); !strings.HasPrefix(got, tt.want) {
			t.Errorf("umlDiagnose(%q) = %q, want %q...", tt.console, got, tt.want)
		}
	}
}

// TestUMLMissingPackages: without the packages, Run says exactly what to
// install (dpkg-query is faked to report nothing installed).
func TestUMLMissingPackages(t *testing.T) {
	if os.Geteuid() != 0 {
		_, err := uml{}.Run(context.Background(), Spec{Argv: []string{"true"}})
		if err == nil || !strings.Contains(err.Error(), "root") {
			t.Errorf("err = %v, want a message saying root is needed", err)
		}
		return
	}
	bin := t.TempDir()
	os.WriteFile(filepath.Join(bin, "dpkg-query"), []byte("#!/bin/sh\nexit 1\n"), 0o755)
	t.Setenv("PATH", bin+":"+os.Getenv("PATH"))
	if m := (uml{}).Missing(); strings.Join(m, " ") != "user-mode-linux busybox-static" {
		t.Errorf("Missing() = %q", m)
	}
	_, err := uml{}.Run(context.Background(), Spec{Argv: []string{"true"}})
	if err == nil || !strings.Contains(err.Error(), "apt-get install user-mode-linux busybox-static") {
		t.Errorf("err = %v, want the apt-get command", err)
	}
}

// TestUMLWithShim boots UML with the padding shim forced on (needed on
// AMX hosts; harmless elsewhere): the guest works, and the shim is mapped
// into the running kernel's processes.
func TestUMLWithShim(t *testing.T) {
	eachBackend(t, func(t *testing.T, b Backend, tmp string) {
		if b.Name() != "uml" {
			t.Skip("UML only")
		}
		if _, err := exec.LookPath("cc"); err != nil {
			t.Skip("no cc: apt-get install gcc libc6-dev")
		}
		t.Setenv(shimKnob, "1")
		t.Setenv("XDG_CACHE_HOME", t.TempDir())
		shim, err := buildShim(false, nil)
		if err != nil {
			t.Fatal(err)
		}
		var out lockedBuffer
		mapped := make(chan bool, 1)
		go func() {
			for !strings.Contains(out.String(), "started") {
				time.Sleep(20 * time.Millisecond)
			}
			mapped <- mapsHold(tmp, umlKernel, shim)
		}()
		// floating point and vector registers survive context switches
		status, err := b.Run(context.Background(), Spec{Stdout: &out,
			Argv: []string{"/bin/bash", "-c", `echo started; sleep 1; awk 'BEGIN { s = 0; for (i = 1; i <= 200000; i++) s += 1/i; printf "%.6f\n", s }'`}})
		if err != nil || status != 0 {
			t.Fatalf("status %d, err %v", status, err)
		}
		if got := out.String(); got != "started\n12.783291\n" {
			t.Errorf("stdout = %q", got)
		}
		if !<-mapped {
			t.Errorf("%s is not mapped into the UML kernel", shim)
		}
		checkNothingLeft(t, tmp)
	})
}

// mapsHold reports whether a process whose command line holds both dir
// and prog has lib mapped.
func mapsHold(dir, prog, lib string) bool {
	ents, _ := os.ReadDir("/proc")
	for _, e := range ents {
		cl, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if err != nil || !strings.Contains(string(cl), dir) || !strings.HasPrefix(string(cl), prog) {
			continue
		}
		if maps, err := os.ReadFile(filepath.Join("/proc", e.Name(), "maps")); err == nil && strings.Contains(string(maps), lib) {
			return true
		}
	}
	return false
}
