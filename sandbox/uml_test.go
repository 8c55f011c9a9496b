//go:build linux && amd64

package sandbox

import (
	"bytes"
	"context"
	"errors"
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
		{"wordish-vm init: ready at 1.2s\n", "the guest reported no exit status (its console ends: wordish-vm init: ready at 1.2s)"},
		{"Too few physical memory! Needed=1, given=0\n\n", "the guest reported no exit status (its console ends: Too few physical memory!"},
		{"", "the guest reported no exit status"},
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
	backendTest(t, uml{}, func(t *testing.T, b Backend, tmp string) {
		t.Setenv(shimKnob, "1")
		shim := freshShim(t)
		out := newConsole()
		mapped := make(chan bool, 1)
		go func() {
			for !strings.Contains(out.String(), "started") {
				time.Sleep(20 * time.Millisecond)
			}
			mapped <- mapsHold(tmp, umlKernel, shim)
		}()
		// floating point and vector registers survive context switches
		status, err := b.Run(context.Background(), Spec{Stdout: out,
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

// failXstate builds testdata/uml-fail-xstate.c and preloads it into the
// guest programs the test starts: linux.uml then fails as it does on an
// AMX host without the padding shim.
func failXstate(t *testing.T) {
	t.Helper()
	requireCC(t)
	so := filepath.Join(t.TempDir(), "fail.so")
	if out, err := exec.Command("cc", "-O2", "-shared", "-fPIC", "-o", so, "testdata/uml-fail-xstate.c", "-ldl").CombinedOutput(); err != nil {
		t.Fatalf("cc: %v\n%s", err, out)
	}
	t.Setenv("LD_PRELOAD", so)
	t.Setenv(shimKnob, "0")
}

// TestUMLXstateFailure: the AMX failure (reproduced by a preloaded shim
// that fails the call UML's ptrace FP restore makes) gives one line that
// says what happened, what to try, and where the console log is.
func TestUMLXstateFailure(t *testing.T) {
	backendTest(t, uml{}, func(t *testing.T, b Backend, tmp string) {
		failXstate(t)
		var out, errb bytes.Buffer
		_, err := b.Run(context.Background(), Spec{Argv: []string{"/bin/true"}, Stdout: &out, Stderr: &errb})
		var ge *GuestError
		if !errors.As(err, &ge) {
			t.Fatalf("err = %v, want a GuestError", err)
		}
		msg := err.Error()
		for _, want := range []string{"uml: UML kernel panic: ptrace set fp regs failed (host xstate ", "wordish sandbox check", "full console log: " + ge.Log} {
			if !strings.Contains(msg, want) {
				t.Errorf("error %q lacks %q", msg, want)
			}
		}
		if strings.Contains(msg, "\n") || out.Len()+errb.Len() > 0 {
			t.Errorf("error %q, stdout %q, stderr %q: want one line and nothing else", msg, out.String(), errb.String())
		}
		log, _ := os.ReadFile(ge.Log)
		if !strings.Contains(string(log), "ptrace set fp regs failed, errno = 14") {
			t.Errorf("console log %s lacks the panic:\n%s", ge.Log, log)
		}
		os.Remove(ge.Log)
		checkNothingLeft(t, tmp)
	})
}

// TestChooseAfterUMLFails: UML failing at the probe boot (as on an AMX
// host without the shim) makes Choose take the next backend.
func TestChooseAfterUMLFails(t *testing.T) {
	backendTest(t, uml{}, func(t *testing.T, b Backend, tmp string) {
		failXstate(t)
		next := &fake{name: "next", usable: true, works: true}
		withBackends(t, b, next)
		got, err := Choose(context.Background(), false, nil)
		if err != nil || got != Backend(next) {
			t.Errorf("Choose = %v, %v; want the next backend", got, err)
		}
		// the probe's console log is left for a person to read
		logs, _ := filepath.Glob(filepath.Join(tmp, "wordish-uml-console-*.log"))
		for _, l := range logs {
			os.Remove(l)
		}
		if len(logs) != 1 {
			t.Errorf("console logs: %v, want one", logs)
		}
		checkNothingLeft(t, tmp)
	})
}
