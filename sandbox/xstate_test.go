//go:build linux && amd64

package sandbox

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

func TestNeedShim(t *testing.T) {
	tests := []struct {
		x    xstateInfo
		knob string
		want bool
	}{
		{xstateInfo{Size: 832}, "", false},     // AMD EPYC without AVX-512
		{xstateInfo{Size: 2696}, "", false},    // AVX-512: exactly UML's buffer
		{xstateInfo{Size: 11008}, "", true},    // AMX
		{xstateInfo{Size: 11008}, "0", false},  // forced off
		{xstateInfo{Size: 832}, "1", true},     // forced on
		{xstateInfo{Size: 832}, "auto", false}, // anything else: decide
		{xstateInfo{AMX: true}, "", true},      // no CPUID leaf 0xD: the flags
		{xstateInfo{}, "", false},              // nothing known
		{xstateInfo{Size: 2700, AMX: false}, "", true},
	}
	for _, tt := range tests {
		if got := needShim(tt.x, tt.knob); got != tt.want {
			t.Errorf("needShim(%+v, %q) = %v, want %v", tt.x, tt.knob, got, tt.want)
		}
	}
}

func TestXstateDescribe(t *testing.T) {
	tests := []struct {
		x    xstateInfo
		shim bool
		want string
	}{
		{xstateInfo{Size: 832}, false, "xstate 832 bytes <= 2696"},
		{xstateInfo{Size: 11008}, true, "xstate 11008 bytes > 2696: with the padding shim"},
		{xstateInfo{Size: 832}, true, "xstate 832 bytes <= 2696: with the padding shim"},
		{xstateInfo{AMX: true}, true, "AMX in /proc/cpuinfo: with the padding shim"},
	}
	for _, tt := range tests {
		if got := tt.x.describe(tt.shim); got != tt.want {
			t.Errorf("describe(%+v, %v) = %q, want %q", tt.x, tt.shim, got, tt.want)
		}
	}
}

// TestHostXstate: CPUID's answer agrees with what the kernel says of the
// host (AMX flags mean a size above UML's).
func TestHostXstate(t *testing.T) {
	x := hostXstate()
	data, _ := os.ReadFile("/proc/cpuinfo")
	amx := strings.Contains(string(data), " amx_tile")
	t.Logf("host xstate: %+v (amx_tile in /proc/cpuinfo: %v)", x, amx)
	if x.How == "CPUID 0xD" && (x.Size < 576 || x.Size > 1<<20) {
		t.Errorf("xstate size %d is not plausible", x.Size)
	}
	if amx && x.Size > 0 && x.Size <= umlXstate {
		t.Errorf("AMX host with xstate %d <= %d", x.Size, umlXstate)
	}
}

// TestShimBuildsAndLoads builds the shim into a fresh cache, checks that
// the dynamic loader preloads it without complaint, and that a second
// call reuses the cached file.
func TestShimBuildsAndLoads(t *testing.T) {
	path := freshShim(t)
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("/bin/sh", "-c", "echo ok")
	cmd.Env = append(os.Environ(), "LD_PRELOAD="+path)
	out, err := cmd.CombinedOutput()
	if err != nil || string(out) != "ok\n" {
		t.Errorf("preloading the shim: %v, output %q", err, out)
	}
	again, err := buildShim(false, nil)
	if err != nil || again != path {
		t.Fatalf("second build: %q, %v", again, err)
	}
	if st2, _ := os.Stat(again); !os.SameFile(st, st2) || !st2.ModTime().Equal(st.ModTime()) {
		t.Errorf("the cached shim was rebuilt")
	}
}

// TestShimWithoutCC: without a compiler, and without install, the error
// names the packages to install.
func TestShimWithoutCC(t *testing.T) {
	t.Setenv("XDG_CACHE_HOME", t.TempDir())
	t.Setenv("PATH", t.TempDir())
	_, err := buildShim(false, nil)
	if err == nil || !strings.Contains(err.Error(), "apt-get install gcc libc6-dev") {
		t.Errorf("err = %v, want the apt-get command", err)
	}
}

// TestShimPads exercises the shim's padding on this host, whatever its
// xstate size: testdata/xstate-pad-check.c restores a traced child's
// xstate from a 576-byte buffer, shorter than any XSAVE host's, which the
// host kernel refuses (EFAULT), as it refuses UML's 2696 bytes on AMX
// hosts. Preloaded, the shim makes the call work, and the registers in
// the short buffer arrive intact.
func TestShimPads(t *testing.T) {
	shim := freshShim(t)
	check := filepath.Join(t.TempDir(), "check")
	if out, err := exec.Command("cc", "-O2", "-o", check, "testdata/xstate-pad-check.c").CombinedOutput(); err != nil {
		t.Fatalf("cc: %v\n%s", err, out)
	}
	run := func(preload string) (string, int) {
		cmd := exec.Command(check)
		cmd.Env = os.Environ()
		if preload != "" {
			cmd.Env = append(cmd.Env, "LD_PRELOAD="+preload)
		}
		out, _ := cmd.CombinedOutput()
		return strings.TrimSpace(string(out)), cmd.ProcessState.ExitCode()
	}
	out, code := run("")
	if code == 3 {
		t.Skipf("nothing to pad here: %s", out)
	}
	t.Logf("without the shim: %s (exit status %d)", out, code)
	if out, code := run(shim); code != 0 || out != "ok" {
		t.Errorf("with the shim: %q, exit status %d; want ok", out, code)
	}
}

// freshShim builds the shim into a new, empty cache (skipping the test
// where there is no C compiler) and returns its path.
func freshShim(t *testing.T) string {
	t.Helper()
	requireCC(t)
	t.Setenv("XDG_CACHE_HOME", t.TempDir())
	path, err := buildShim(false, nil)
	if err != nil {
		t.Fatal(err)
	}
	return path
}

func requireCC(t *testing.T) {
	t.Helper()
	if _, err := exec.LookPath("cc"); err != nil {
		t.Skip("no cc: apt-get install gcc libc6-dev")
	}
}
