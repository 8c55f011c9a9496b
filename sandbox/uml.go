//go:build linux && amd64

package sandbox

// The User-Mode Linux backend: Debian's linux.uml boots straight into the
// host's own / through hostfs, read-only, and uml_init.sh (PID 1) puts a
// tmpfs overlay on it. How a run goes:
//   - the run directory (run.go) also gets init, uml_init.sh;
//   - linux.uml runs under the guardian (run_linux.go) with
//     init=RUN/init; the command's stdout and stderr come back on the
//     serial lines ttyS0 and ttyS1 (host pipes, streamed live), the kernel
//     console on a third pipe, kept for error messages;
//   - to stop early (context done, whole-run timeout), the host writes a
//     line on ttyS2: the guest sends SIGINT to the command, which may clean
//     up; after Spec.Grace the kernel gets SIGTERM, then the whole process
//     group SIGKILL.

import (
	"context"
	_ "embed"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
)

//go:embed uml_init.sh
var umlInit []byte

// umlKernel is the kernel Debian's user-mode-linux package installs, and
// umlModules the directory of its module trees (one per kernel version).
const (
	umlKernel  = "/usr/bin/linux.uml"
	umlModules = "/usr/lib/uml/modules"
)

// umlPackages are the Debian packages the backend needs, with a file each
// package installs (looked for where dpkg is not).
var umlPackages = map[string]string{"user-mode-linux": umlKernel, "busybox-static": "/bin/busybox"}

// umlPackageList is umlPackages' keys, in the order apt-get is told.
var umlPackageList = []string{"user-mode-linux", "busybox-static"}

type uml struct{}

func init() { register(uml{}) }

func (uml) Name() string { return "uml" }

func (uml) Missing() []string {
	missing := missingPackages(umlPackageList, umlPackages)
	if needShim(hostXstate(), os.Getenv(shimKnob)) {
		if path, err := shimPath(); err == nil {
			if _, err := os.Stat(path); err == nil {
				return missing // built already: no compiler needed
			}
		}
		if _, err := exec.LookPath("cc"); err != nil {
			missing = append(missing, missingPackages(shimPackages, nil)...)
		}
	}
	return missing
}

func (b uml) Check(ctx context.Context) Status {
	x := hostXstate()
	shim := needShim(x, os.Getenv(shimKnob))
	if _, _, err := b.ready(false, nil); err != nil {
		return Status{Reason: err.Error() + " (" + x.describe(shim) + ")"}
	}
	return Status{Usable: true, Reason: x.describe(shim)}
}

// Version names the UML kernel and the shim (for the choice cache).
func (b uml) Version() string {
	out, _ := exec.Command(umlKernel, "--version").Output()
	v := strings.TrimSpace(string(out))
	if needShim(hostXstate(), os.Getenv(shimKnob)) {
		p, _ := shimPath()
		v += " shim " + filepath.Base(p)
	}
	return v
}

func (b uml) Prepare(ctx context.Context, w io.Writer) error {
	_, shim, err := b.ready(true, w)
	if err == nil && shim != "" && w != nil {
		fmt.Fprintf(w, "wordish: uml: the xstate padding shim is %s\n", shim)
	}
	return err
}

// ready makes sure the backend can run here, installing what is missing
// when asked, and returns the UML kernel version and the padding shim to
// preload ("" if none is needed), built if need be.
func (b uml) ready(install bool, w io.Writer) (kv, shim string, err error) {
	kv, err = b.kernel(install, w)
	if err != nil {
		return "", "", err
	}
	if needShim(hostXstate(), os.Getenv(shimKnob)) {
		if shim, err = buildShim(install, w); err != nil {
			return "", "", err
		}
	}
	return kv, shim, nil
}

// kernel checks the packages and returns the UML kernel version.
func (b uml) kernel(install bool, w io.Writer) (string, error) {
	if os.Geteuid() != 0 {
		return "", errors.New("needs root (hostfs reads the host as the calling user)")
	}
	if err := needPackages(missingPackages(umlPackageList, umlPackages), install, w); err != nil {
		return "", err
	}
	out, err := exec.Command(umlKernel, "--version").Output()
	if err != nil {
		return "", fmt.Errorf("%s --version: %v", umlKernel, err)
	}
	fields := strings.Fields(string(out))
	if len(fields) == 0 {
		return "", fmt.Errorf("%s --version printed nothing", umlKernel)
	}
	kv := fields[len(fields)-1]
	if _, err := os.Stat(filepath.Join(umlModules, kv)); err != nil {
		return "", fmt.Errorf("no kernel modules for UML %s in %s (reinstall user-mode-linux)", kv, umlModules)
	}
	return kv, nil
}

// Run boots a throwaway UML guest and runs spec.Argv in it (see Backend).
//
// The error is non-nil when the backend cannot run here (not root,
// missing packages: the message names the apt-get command), when the guest
// reported no exit status (one line: what the console shows happened, and
// where the whole console was saved), or when ctx was done or
// spec.Timeout hit before the command ended by itself (the error wraps
// ErrStopped and ctx's error). In the last case the command was first
// asked to stop with SIGINT and given spec.Grace to clean up; if it then
// exited, its status is returned with the error, otherwise -1.
func (b uml) Run(ctx context.Context, spec Spec) (status int, err error) {
	spec = withDefaults(spec)
	if err := checkSpec(&spec); err != nil {
		return -1, err
	}
	_, shim, err := b.ready(spec.Install, spec.Stderr)
	if err != nil {
		return -1, fmt.Errorf("uml: %w", err)
	}
	ctx, cancel, err := runContext(ctx, &spec)
	if err != nil {
		return -1, err
	}
	defer cancel()
	run, err := newRunDir(&spec)
	if err != nil {
		return -1, err
	}
	defer os.RemoveAll(run)
	if err := os.WriteFile(filepath.Join(run, "init"), guestInit(umlInit), 0o755); err != nil {
		return -1, err
	}

	// pipes: the command's stdout and stderr (ssl0, ssl1: fds 5 and 6 in
	// the kernel), the console (con0, fd 3), the stop line (ssl2 input,
	// fd 4). What linux.uml itself prints on its stdout and stderr (host
	// side messages, an abort) goes to the console too, not to the
	// command's output.
	var p pipes
	defer p.close()
	outR, outW := p.pipe()
	errR, errW := p.pipe()
	conR, conW := p.pipe()
	stopR, stopW := p.pipe()
	if p.err != nil {
		return -1, p.err
	}
	env := append(withoutVar(os.Environ(), "TMPDIR"), "TMPDIR="+umlTempDir())
	con := newConsole()
	start := time.Now()
	g, err := startGuarded(run, umlArgv(run, spec.Memory, shim), env, conW, conW, []*os.File{conW, stopR, outW, errW})
	if err != nil {
		return -1, fmt.Errorf("uml: %w", err)
	}
	p.closeNow(outW, errW, conW, stopR) // the guest has them
	g.copy(spec.Stdout, outR)
	g.copy(spec.Stderr, errR)
	g.copy(consoleSink(con, &spec), conR)

	stopped := g.supervise(ctx, spec.Grace, func() { stopW.Write([]byte("stop\n")) }, spec.verboseLog(), "uml")
	g.kill()
	if spec.Verbose {
		fmt.Fprintln(spec.Stderr, timingLine("uml", run, start, time.Now()))
	}
	return outcome("uml", run, &spec, stopped, func() error {
		return guestFailed("uml", umlDiagnose(con.String(), hostXstate(), shim != ""), con.String())
	})
}

// umlArgv is the command line of linux.uml for a guest booting from run,
// with shim preloaded ("" for none).
func umlArgv(run, memory, shim string) []string {
	umid := "wordish-" + strings.TrimPrefix(filepath.Base(run), "wordish-vm-")
	var argv []string
	if shim != "" {
		// preloaded into the kernel only, not the guardian
		argv = []string{"/usr/bin/env", "LD_PRELOAD=" + strings.TrimPrefix(os.Getenv("LD_PRELOAD")+" "+shim, " ")}
	}
	return append(argv, umlKernel,
		"mem="+memory, "umid="+umid, "uml_dir="+run,
		"rootfstype=hostfs", "rootflags=/", "ro", "init="+run+"/init", "quiet",
		"con=null", "ssl=null", "con0=null,fd:3",
		"ssl0=null,fd:5", "ssl1=null,fd:6", "ssl2=fd:4,null",
		"--", run)
}

// umlDiagnose says in a few words what a UML console shows went wrong.
func umlDiagnose(console string, x xstateInfo, shim bool) string {
	if strings.Contains(console, "ptrace set fp regs failed") {
		what := "UML kernel panic: ptrace set fp regs failed (host " + x.describe(shim) + ")"
		if !shim {
			what += "; " + shimKnob + "=1 forces the padding shim"
		}
		return what
	}
	if what := consoleTrouble(console, "UML kernel panic", "wordish-vm init: "); what != "" {
		return what
	}
	what := "the guest reported no exit status"
	if last := clip(lastLine(console), 120); last != "" {
		what += " (its console ends: " + last + ")"
	}
	return what
}

// umlTempDir is where UML should map guest memory from: /dev/shm when it is
// a tmpfs that allows exec, else os.TempDir().
func umlTempDir() string {
	data, err := os.ReadFile("/proc/self/mountinfo")
	if err == nil {
		for _, line := range strings.Split(string(data), "\n") {
			f := strings.Fields(line)
			if len(f) < 6 || f[4] != "/dev/shm" {
				continue
			}
			i := 6
			for i < len(f) && f[i] != "-" {
				i++
			}
			if i+1 < len(f) && f[i+1] == "tmpfs" && !strings.Contains(","+f[5]+",", ",noexec,") {
				return "/dev/shm"
			}
		}
	}
	return os.TempDir()
}
