//go:build linux && amd64

package sandbox

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestUMLDiagnose(t *testing.T) {
	tests := []struct{ console, want string }{
		{"Linux version 6.1\nuserspace - ptrace set fp regs failed, errno = 14\nKernel panic - not syncing: Attempted to kill init! exitcode=0x0000000b\n",
			"UML kernel panic: ptrace set fp regs failed"},
		{"Kernel panic - not syncing: VFS: Unable to mount root fs\n", "UML kernel panic: VFS: Unable to mount root fs"},
		{"wordish-vm init: hostfs /run/x\n", "guest init failed: hostfs /run/x"},
		{"wordish-vm init: ready at 1.2s\n", "the guest reported no exit status"},
	}
	for _, tt := range tests {
		if got := umlDiagnose(tt.console); !strings.HasPrefix(got, tt.want) {
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
