//go:build linux && amd64

package sandbox

// UML on hosts whose xstate is larger than UML's: Debian's UML (6.1, and
// 6.12) hands PTRACE_SETREGSET NT_X86_XSTATE a fixed 2696-byte buffer (the
// standard format up to PKRU), and the host kernel accepts only its full
// user xstate size (11008 bytes with AMX): EFAULT, and UML panics with
// "ptrace set fp regs failed". On such hosts linux.uml runs with
// shim/uml_xstate_pad.c preloaded, which pads that one call to the host's size.
// The shim is built once with the system cc into the cache.

import (
	"bytes"
	"crypto/sha256"
	_ "embed"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
)

// umlXstate is the xstate buffer size Debian's UML passes.
const umlXstate = 2696

//go:embed shim/uml_xstate_pad.c
var shimSource []byte

// shimPackages are the Debian packages that build the shim.
var shimPackages = []string{"gcc", "libc6-dev"}

// xstateInfo is what is known of the host's user xstate.
type xstateInfo struct {
	Size int    // bytes; 0 when unknown
	AMX  bool   // /proc/cpuinfo lists AMX (when CPUID could not tell the size)
	How  string // "CPUID 0xD" or "/proc/cpuinfo"
}

// hostXstate reads the host's user xstate size: CPUID leaf 0xD sub-leaf 0
// EBX (the size for the features enabled in XCR0, which is what the
// kernel's regset wants); without that leaf, /proc/cpuinfo's amx flags.
func hostXstate() xstateInfo {
	if max, _, _, _ := cpuid(0, 0); max >= 0xd {
		if _, ebx, _, _ := cpuid(0xd, 0); ebx > 0 {
			return xstateInfo{Size: int(ebx), How: "CPUID 0xD"}
		}
	}
	data, _ := os.ReadFile("/proc/cpuinfo")
	return xstateInfo{AMX: bytes.Contains(data, []byte(" amx_tile")), How: "/proc/cpuinfo"}
}

// shimKnob is WORDISH_UML_SHIM: "1" forces the shim on, "0" off; anything
// else (unset) decides from the host's xstate.
const shimKnob = "WORDISH_UML_SHIM"

// needShim decides whether UML needs the padding shim on a host with x,
// given the knob's value.
func needShim(x xstateInfo, knob string) bool {
	switch knob {
	case "1", "on", "yes", "true":
		return true
	case "0", "off", "no", "false":
		return false
	}
	if x.Size > 0 {
		return x.Size > umlXstate
	}
	return x.AMX
}

// describe says in a few words why the shim is (not) used, for Check.
func (x xstateInfo) describe(shim bool) string {
	var s string
	switch {
	case x.Size > umlXstate:
		s = fmt.Sprintf("xstate %d bytes > %d", x.Size, umlXstate)
	case x.Size > 0:
		s = fmt.Sprintf("xstate %d bytes <= %d", x.Size, umlXstate)
	case x.AMX:
		s = "AMX in /proc/cpuinfo"
	default:
		s = "no AMX in /proc/cpuinfo"
	}
	if shim {
		s += ": with the padding shim"
	}
	return s
}

// shimPath is where the shim built from this source lives in the cache.
func shimPath() (string, error) {
	dir, err := CacheDir()
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256(shimSource)
	return filepath.Join(dir, "uml-xstate-pad-"+hex.EncodeToString(sum[:8])+".so"), nil
}

var shimMu sync.Mutex

// buildShim returns the cached shim, building it first if needed (with
// cc, which install lets it install when missing).
func buildShim(install bool, w io.Writer) (string, error) {
	shimMu.Lock()
	defer shimMu.Unlock()
	path, err := shimPath()
	if err != nil {
		return "", err
	}
	if _, err := os.Stat(path); err == nil {
		return path, nil
	}
	if _, err := exec.LookPath("cc"); err != nil {
		if !install {
			return "", fmt.Errorf("the xstate padding shim needs a C compiler; run: apt-get install %s (or wordish sandbox install)", strings.Join(shimPackages, " "))
		}
		if err := Install(shimPackages, w); err != nil {
			return "", err
		}
	}
	dir := filepath.Dir(path)
	src, err := os.CreateTemp(dir, "uml-xstate-pad-*.c")
	if err != nil {
		return "", err
	}
	defer os.Remove(src.Name())
	if _, err := src.Write(shimSource); err != nil {
		src.Close()
		return "", err
	}
	src.Close()
	tmp := strings.TrimSuffix(src.Name(), ".c") + ".so"
	defer os.Remove(tmp)
	out, err := exec.Command("cc", "-O2", "-shared", "-fPIC", "-Wall", "-o", tmp, src.Name(), "-ldl").CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("building the xstate padding shim: cc: %v: %s", err, strings.TrimSpace(string(out)))
	}
	// rename: a concurrent wordish sees the whole file or none
	if err := os.Rename(tmp, path); err != nil {
		return "", err
	}
	return path, nil
}
