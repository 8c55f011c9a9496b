package session

// The VM sandbox: run a command as root inside a throwaway User-Mode Linux
// guest whose root filesystem is the host's own /, read-only, under a tmpfs
// overlay. Every host tool is there at the same path (lvm2, rsync, the
// wordish binary itself) and nothing the guest writes reaches the host,
// except directories shared explicitly (VMConfig.Shares). The guest kernel
// has loop, dm-mod and dm-snapshot, which the host may lack, and lvm2 is set
// up to work without udev.
//
// How a run goes (see vm_init.sh for the guest side):
//   - a run directory RUN is created under os.TempDir(); it holds the init
//     script, the generated stage3 script (the command), and later the
//     command's exit status; the guest mounts it read-write at /run/vmhost;
//   - linux.uml boots with init=RUN/init in its own session and process
//     group, under a guardian shell that cleans up if this process dies
//     without doing so (SIGKILL); the command's stdout and stderr come back on the serial lines
//     ttyS0 and ttyS1 (host pipes, streamed live), the kernel console on a
//     third pipe, kept in memory for error messages;
//   - to stop early (context done, whole-run timeout), the host writes a
//     line on ttyS2: the guest sends SIGINT to the command, which may clean
//     up; after VMConfig.Grace the kernel gets SIGTERM, then the whole
//     process group SIGKILL;
//   - whatever happens, when RunInVM returns, no UML process is left and
//     the run directory is removed.

import (
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

//go:embed vm_init.sh
var vmInit []byte

// UMLKernel is the User-Mode Linux kernel RunInVM boots, and UMLModules the
// directory holding its module trees (one per kernel version), as installed
// by Debian's user-mode-linux package.
const (
	UMLKernel  = "/usr/bin/linux.uml"
	UMLModules = "/usr/lib/uml/modules"
)

// VMPackages are the Debian packages the sandbox itself needs.
var VMPackages = []string{"user-mode-linux", "busybox-static"}

// VMConfig describes a sandbox run. Its zero value runs the command in
// /root with 1024M of memory, no time limit, and discards its output.
type VMConfig struct {
	Memory  string            // guest memory, as linux.uml's mem=; "" = "1024M"
	Shares  []string          // host directories shared read-write at the same path
	Outputs map[string]string // NAME: host path; see VMOutDir
	Env     []string          // K=V added to the command's clean environment
	Dir     string            // working directory in the guest; "" = /root
	Install bool              // apt-get install missing packages instead of failing
	Timeout time.Duration     // limit for the whole run, boot included; 0 = none
	Grace   time.Duration     // how long a stopped command may take to clean up; 0 = 20 s
	TTY     bool              // the command's stdout/stderr are the guest's serial terminals, not pipes
	Stdout  io.Writer         // the command's standard output, streamed live; nil = discard
	Stderr  io.Writer         // its standard error, and (Verbose) the guest console; nil = discard
	Verbose bool              // copy the guest console and timings to Stderr
}

// VMOutDir is the guest directory for files meant for the host: when the
// run ends, however it ends, each file VMOutDir/NAME that the command wrote,
// for NAME in VMConfig.Outputs, is copied to the host path it maps to.
// (The directory belongs to the run, so nothing of it outlives the run.)
const VMOutDir = "/run/vmhost/out"

// ErrVMStopped is wrapped by RunInVM's error when the run was stopped
// early by its context or time limit; errors.Is also matches the context's
// own error (context.Canceled or context.DeadlineExceeded).
var ErrVMStopped = errors.New("sandbox stopped")

// VMMissing returns the Debian packages the sandbox needs (plus extra, for
// example the tools a document uses) that are not installed here, or nil.
func VMMissing(extra ...string) []string {
	pkgs := append(append([]string{}, VMPackages...), extra...)
	if _, err := exec.LookPath("dpkg-query"); err != nil {
		// not Debian: look for the files instead
		var missing []string
		if _, err := os.Stat(UMLKernel); err != nil {
			missing = append(missing, "user-mode-linux")
		}
		if _, err := os.Stat("/bin/busybox"); err != nil {
			missing = append(missing, "busybox-static")
		}
		return missing
	}
	var missing []string
	for _, p := range pkgs {
		out, err := exec.Command("dpkg-query", "-W", "-f=${db:Status-Abbrev}", p).Output()
		if err != nil || !strings.HasPrefix(string(out), "ii") {
			missing = append(missing, p)
		}
	}
	return missing
}

// VMInstall installs pkgs with apt-get, its messages going to w.
func VMInstall(pkgs []string, w io.Writer) error {
	if len(pkgs) == 0 {
		return nil
	}
	if w == nil {
		w = io.Discard
	}
	run := func(args ...string) error {
		c := exec.Command("apt-get", args...)
		c.Env = append(os.Environ(), "DEBIAN_FRONTEND=noninteractive")
		c.Stdout, c.Stderr = w, w
		return c.Run()
	}
	fmt.Fprintf(w, "wordish: installing %s\n", strings.Join(pkgs, " "))
	opts := []string{"install", "-y", "-q", "--no-install-recommends", "-o", "DPkg::Lock::Timeout=300"}
	if run(append(opts, pkgs...)...) == nil {
		return nil
	}
	if err := run("-q", "-o", "DPkg::Lock::Timeout=300", "update"); err != nil {
		return fmt.Errorf("apt-get update: %w", err)
	}
	if err := run(append(opts, pkgs...)...); err != nil {
		return fmt.Errorf("apt-get install %s: %w", strings.Join(pkgs, " "), err)
	}
	return nil
}

// vmCheck makes sure the sandbox can run here, installing what is missing
// when asked, and returns the UML kernel version.
func vmCheck(cfg *VMConfig) (string, error) {
	if os.Geteuid() != 0 {
		return "", errors.New("the VM sandbox must run as root (hostfs reads the host as the calling user)")
	}
	if missing := VMMissing(); missing != nil {
		if !cfg.Install {
			return "", fmt.Errorf("the VM sandbox needs Debian packages that are not installed; run: apt-get install %s (or use --sandbox-install)",
				strings.Join(missing, " "))
		}
		if err := VMInstall(missing, cfg.Stderr); err != nil {
			return "", err
		}
	}
	out, err := exec.Command(UMLKernel, "--version").Output()
	if err != nil {
		return "", fmt.Errorf("%s --version: %v", UMLKernel, err)
	}
	fields := strings.Fields(string(out))
	if len(fields) == 0 {
		return "", fmt.Errorf("%s --version printed nothing", UMLKernel)
	}
	kv := fields[len(fields)-1]
	if _, err := os.Stat(filepath.Join(UMLModules, kv)); err != nil {
		return "", fmt.Errorf("no kernel modules for UML %s in %s (reinstall user-mode-linux)", kv, UMLModules)
	}
	return kv, nil
}

// vmEnvBase is the command's environment before VMConfig.Env.
var vmEnvBase = []string{
	"HOME=/root", "USER=root", "LOGNAME=root", "SHELL=/bin/bash",
	"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
	"TERM=dumb",
}

// vmStage3 returns the bash script that runs argv in the guest: it records
// its PID (the stop watcher signals it) and the start time, then replaces
// itself with argv in a clean environment.
func vmStage3(cfg *VMConfig, argv []string) string {
	dir := cfg.Dir
	if dir == "" {
		dir = "/root"
	}
	env := map[string]int{}
	var vars []string
	for _, kv := range append(append([]string{}, vmEnvBase...), cfg.Env...) {
		k, _, _ := strings.Cut(kv, "=")
		if i, ok := env[k]; ok {
			vars[i] = kv
			continue
		}
		env[k] = len(vars)
		vars = append(vars, kv)
	}
	var b strings.Builder
	b.WriteString("#!/bin/bash\n")
	b.WriteString("printf 'start %s\\n' \"$EPOCHREALTIME\" >/run/vmhost/timing\n")
	b.WriteString("echo $$ >/run/wordish-vm.pid\n")
	fmt.Fprintf(&b, "cd -- %s || exit 126\n", shellQuote(dir))
	b.WriteString("exec /usr/bin/env -i")
	for _, kv := range vars {
		b.WriteString(" " + shellQuote(kv))
	}
	for _, a := range argv {
		b.WriteString(" " + shellQuote(a))
	}
	b.WriteString("\n")
	return b.String()
}

// shellQuote quotes s for bash.
func shellQuote(s string) string {
	if s != "" && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_./=:,+@%") == "" {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// vmPrepare fills the run directory.
func vmPrepare(run string, cfg *VMConfig, argv []string) error {
	var shares strings.Builder
	for _, s := range cfg.Shares {
		abs, err := filepath.Abs(s)
		if err != nil {
			return err
		}
		if st, err := os.Stat(abs); err != nil || !st.IsDir() {
			return fmt.Errorf("share %s: not a directory", s)
		}
		if strings.ContainsAny(abs, "\n") {
			return fmt.Errorf("share %q: newline in path", s)
		}
		shares.WriteString(abs + "\n")
	}
	files := []struct {
		name string
		data string
		mode os.FileMode
	}{
		{"init", string(vmInit), 0o755},
		{"stage3", vmStage3(cfg, argv), 0o755},
		{"shares", shares.String(), 0o644},
	}
	if cfg.TTY {
		files = append(files, struct {
			name string
			data string
			mode os.FileMode
		}{"tty", "", 0o644})
	}
	if err := os.Mkdir(filepath.Join(run, "out"), 0o755); err != nil {
		return err
	}
	for name := range cfg.Outputs {
		if name == "" || strings.ContainsAny(name, "/") || name == "." || name == ".." {
			return fmt.Errorf("output %q: want a plain file name", name)
		}
	}
	for _, f := range files {
		if err := os.WriteFile(filepath.Join(run, f.name), []byte(f.data), f.mode); err != nil {
			return err
		}
	}
	return nil
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

// vmCollect copies the outputs the command wrote from the run directory
// to their host paths.
func vmCollect(run string, outputs map[string]string) error {
	var errs []error
	for name, dst := range outputs {
		src := filepath.Join(run, "out", name)
		if _, err := os.Stat(src); err != nil {
			continue // not written
		}
		if err := copyFile(src, dst); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// copyFile copies the file src to dst, replacing dst.
func copyFile(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.Create(dst)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

// tailLines keeps the last bytes written to it, for error messages.
type tailLines struct {
	buf []byte
	max int
}

func (t *tailLines) Write(p []byte) (int, error) {
	t.buf = append(t.buf, p...)
	if len(t.buf) > t.max {
		t.buf = append(t.buf[:0], t.buf[len(t.buf)-t.max:]...)
	}
	return len(p), nil
}

// last returns the last n lines.
func (t *tailLines) last(n int) string {
	s := strings.TrimRight(string(t.buf), "\n")
	lines := strings.Split(s, "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
