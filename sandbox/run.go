package sandbox

// What every backend shares: the run directory and what the host writes in
// it, the guest command's script, the exit status and output files coming
// back, the console kept for error messages, Debian packages.
//
// The run directory RUN is created under os.TempDir() and named
// wordish-vm-*; the guest mounts it read-write at RunDir. The host writes:
//
//	stage3      the command (bash): records its PID in /run/wordish-vm.pid
//	            and its start in RUN/timing, then execs Spec.Argv
//	shares      Spec.Shares, absolute, one a line
//	tty         present when Spec.TTY
//	NAME        each of Spec.Files
//	out/        the guest writes Spec.Outputs here
//
// and the guest's init writes RUN/status, the command's exit status, before
// powering off. A backend adds its own files (its init script).

import (
	"bytes"
	"context"
	_ "embed"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"
)

// reserved are the names of the run directory that Spec.Files cannot use.
var reserved = map[string]bool{
	"stage3": true, "shares": true, "tty": true, "status": true, "timing": true,
	"out": true, "init": true, "console": true,
}

// withDefaults returns spec with its zero values replaced by the defaults
// Spec documents.
func withDefaults(spec Spec) Spec {
	if spec.Stdout == nil {
		spec.Stdout = io.Discard
	}
	if spec.Stderr == nil {
		spec.Stderr = io.Discard
	}
	spec.Stderr = &lockedWriter{w: spec.Stderr}
	if spec.Memory == "" {
		spec.Memory = "1024M"
	}
	if spec.Grace <= 0 {
		spec.Grace = 20 * time.Second
	}
	if spec.Dir == "" {
		spec.Dir = "/root"
	}
	return spec
}

// checkSpec refuses a Spec no backend can run.
func checkSpec(spec *Spec) error {
	if len(spec.Argv) == 0 {
		return errors.New("sandbox: no command")
	}
	for name := range spec.Outputs {
		if !plainName(name) {
			return fmt.Errorf("sandbox: output %q: want a plain file name", name)
		}
	}
	for name := range spec.Files {
		if !plainName(name) || reserved[name] {
			return fmt.Errorf("sandbox: file %q: want a plain file name other than %s", name, "stage3, shares, tty, status, timing, out, init, console")
		}
	}
	for _, s := range spec.Shares {
		if strings.ContainsAny(s, "\n") {
			return fmt.Errorf("sandbox: share %q: newline in path", s)
		}
	}
	return nil
}

func plainName(name string) bool {
	return name != "" && name != "." && name != ".." && !strings.ContainsAny(name, "/\n")
}

// newRunDir creates a run directory for spec and fills it (see above).
// The caller removes it.
func newRunDir(spec *Spec) (string, error) {
	if err := checkSpec(spec); err != nil {
		return "", err
	}
	var shares strings.Builder
	for _, s := range spec.Shares {
		abs, err := filepath.Abs(s)
		if err != nil {
			return "", err
		}
		if st, err := os.Stat(abs); err != nil || !st.IsDir() {
			return "", fmt.Errorf("sandbox: share %s: not a directory", s)
		}
		shares.WriteString(abs + "\n")
	}
	run, err := os.MkdirTemp("", "wordish-vm-")
	if err != nil {
		return "", err
	}
	write := func(name, data string, mode os.FileMode) error {
		return os.WriteFile(filepath.Join(run, name), []byte(data), mode)
	}
	err = errors.Join(
		os.Mkdir(filepath.Join(run, "out"), 0o755),
		write("stage3", stage3(spec), 0o755),
		write("shares", shares.String(), 0o644),
	)
	if spec.TTY {
		err = errors.Join(err, write("tty", "", 0o644))
	}
	for name, data := range spec.Files {
		err = errors.Join(err, write(name, string(data), 0o644))
	}
	if err != nil {
		os.RemoveAll(run)
		return "", err
	}
	return run, nil
}

//go:embed guest_setup.sh
var guestSetup []byte

// guestInit returns a guest's init script as the run directory gets it:
// after its first line (#!...), the assignments vars (NAME=value, the
// value quoted here) and the functions of guest_setup.sh, which both
// backends' scripts call.
func guestInit(script []byte, vars ...string) []byte {
	first, rest, _ := bytes.Cut(script, []byte("\n"))
	var b bytes.Buffer
	b.Write(first)
	b.WriteString("\n")
	for _, kv := range vars {
		k, v, _ := strings.Cut(kv, "=")
		b.WriteString(k + "=" + shellQuote(v) + "\n")
	}
	b.Write(guestSetup)
	b.Write(rest)
	return b.Bytes()
}

// envBase is the command's environment before Spec.Env.
var envBase = []string{
	"HOME=/root", "USER=root", "LOGNAME=root", "SHELL=/bin/bash",
	"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
	"TERM=dumb",
}

// stage3 returns the bash script that runs spec.Argv in the guest: it
// records its PID (the guest's stop watcher signals it) and the start
// time, then replaces itself with the command in a clean environment.
func stage3(spec *Spec) string {
	dir := spec.Dir
	if dir == "" {
		dir = "/root"
	}
	env := map[string]int{}
	var vars []string
	for _, kv := range append(append([]string{}, envBase...), spec.Env...) {
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
	b.WriteString("printf 'start %s\\n' \"$EPOCHREALTIME\" >" + RunDir + "/timing\n")
	b.WriteString("echo $$ >/run/wordish-vm.pid\n")
	fmt.Fprintf(&b, "cd -- %s || exit 126\n", shellQuote(dir))
	b.WriteString("exec /usr/bin/env -i")
	for _, kv := range vars {
		b.WriteString(" " + shellQuote(kv))
	}
	for _, a := range spec.Argv {
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

// runContext returns ctx limited to spec.Timeout, or an error wrapping
// ErrStopped if ctx is done already, before anything started.
func runContext(ctx context.Context, spec *Spec) (context.Context, context.CancelFunc, error) {
	if err := ctx.Err(); err != nil {
		return nil, nil, fmt.Errorf("%w: %w", ErrStopped, err)
	}
	if spec.Timeout > 0 {
		ctx, cancel := context.WithTimeout(ctx, spec.Timeout)
		return ctx, cancel, nil
	}
	return ctx, func() {}, nil
}

// needPackages installs the missing Debian packages (messages on w) if
// install is set, else says what to run.
func needPackages(missing []string, install bool, w io.Writer) error {
	if len(missing) == 0 {
		return nil
	}
	if !install {
		return fmt.Errorf("needs Debian packages that are not installed; run: apt-get install %s (or wordish sandbox install)",
			strings.Join(missing, " "))
	}
	return Install(missing, w)
}

// verboseLog is where a run's notes go: spec.Stderr with Verbose, else nil.
func (spec *Spec) verboseLog() io.Writer {
	if spec.Verbose {
		return spec.Stderr
	}
	return nil
}

// consoleSink is where a guest's console goes: con, and with Verbose
// spec.Stderr too.
func consoleSink(con *console, spec *Spec) io.Writer {
	if spec.Verbose {
		return io.MultiWriter(con, spec.Stderr)
	}
	return con
}

// outcome is Run's answer once the guest is gone: the exit status the
// guest wrote, with an error wrapping ErrStopped and stopped when the run
// was stopped, failed's when the guest wrote no status, or one saying
// that the output files could not be copied.
func outcome(backend, run string, spec *Spec, stopped error, failed func() error) (int, error) {
	status := readStatus(run)
	cerr := collectOutputs(run, spec.Outputs)
	switch {
	case stopped != nil:
		return status, fmt.Errorf("%w: %w", ErrStopped, stopped)
	case status < 0:
		return -1, failed()
	case cerr != nil:
		return status, fmt.Errorf("%s: copying the sandbox's output files: %w", backend, cerr)
	}
	return status, nil
}

// readStatus returns the exit status the guest wrote in run, or -1.
func readStatus(run string) int {
	data, err := os.ReadFile(filepath.Join(run, "status"))
	if err != nil {
		return -1
	}
	status, err := strconv.Atoi(strings.TrimSpace(string(data)))
	if err != nil {
		return -1
	}
	return status
}

// started reports whether the guest command has started (stage3 ran).
func started(run string) bool {
	_, err := os.Stat(filepath.Join(run, "timing"))
	return err == nil
}

// timingLine is the Verbose summary of a run that went from start to end
// on the host clock.
func timingLine(backend, run string, start, end time.Time) string {
	total := end.Sub(start).Milliseconds()
	if t, err := os.ReadFile(filepath.Join(run, "timing")); err == nil {
		if f := strings.Fields(string(t)); len(f) == 2 && f[0] == "start" {
			if s, err := strconv.ParseFloat(f[1], 64); err == nil {
				boot := time.Unix(0, int64(s*1e9)).Sub(start).Milliseconds()
				return fmt.Sprintf("wordish %s: boot %d ms, command and shutdown %d ms, total %d ms", backend, boot, total-boot, total)
			}
		}
	}
	return fmt.Sprintf("wordish %s: total %d ms", backend, total)
}

// collectOutputs copies the outputs the command wrote in run/out to their
// host paths.
func collectOutputs(run string, outputs map[string]string) error {
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

// writeFileAtomic writes data to a temporary file beside name and renames
// it into place, so a reader never sees half a file.
func writeFileAtomic(name string, data []byte) error {
	f, err := os.CreateTemp(filepath.Dir(name), "."+filepath.Base(name)+".*")
	if err != nil {
		return err
	}
	defer os.Remove(f.Name())
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	if err := f.Chmod(0o644); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(f.Name(), name)
}

// missingPackages returns those of pkgs that dpkg does not list as
// installed. Without dpkg (not Debian), a package counts as installed
// when the file files[pkg] exists, or when files has no entry for it.
func missingPackages(pkgs []string, files map[string]string) []string {
	var missing []string
	if _, err := exec.LookPath("dpkg-query"); err != nil {
		for _, p := range pkgs {
			if f, ok := files[p]; ok {
				if _, err := os.Stat(f); err != nil {
					missing = append(missing, p)
				}
			}
		}
		return missing
	}
	for _, p := range pkgs {
		out, err := exec.Command("dpkg-query", "-W", "-f=${db:Status-Abbrev}", p).Output()
		if err != nil || !strings.HasPrefix(string(out), "ii") {
			missing = append(missing, p)
		}
	}
	return missing
}

// MissingPackages returns those of the Debian packages pkgs that are not
// installed (nil off Debian, where it cannot tell).
func MissingPackages(pkgs ...string) []string { return missingPackages(pkgs, nil) }

// Install installs the Debian packages pkgs with apt-get, its messages
// going to w (apt-get update first when the package lists are stale).
func Install(pkgs []string, w io.Writer) error {
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

// CacheDir is wordish's cache: $XDG_CACHE_HOME/wordish, else
// /var/cache/wordish for root, else ~/.cache/wordish. It is created.
func CacheDir() (string, error) {
	var dir string
	switch {
	case os.Getenv("XDG_CACHE_HOME") != "":
		dir = filepath.Join(os.Getenv("XDG_CACHE_HOME"), "wordish")
	case os.Geteuid() == 0:
		dir = "/var/cache/wordish"
	default:
		home, err := os.UserHomeDir()
		if err != nil {
			return "", fmt.Errorf("no cache directory: %w", err)
		}
		dir = filepath.Join(home, ".cache", "wordish")
	}
	return dir, os.MkdirAll(dir, 0o755)
}

// waitFor reports whether ch is closed within d.
func waitFor(ch <-chan struct{}, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ch:
		return true
	case <-t.C:
		return false
	}
}

// withoutVar returns env without the variable named k.
func withoutVar(env []string, k string) []string {
	var out []string
	for _, kv := range env {
		if !strings.HasPrefix(kv, k+"=") {
			out = append(out, kv)
		}
	}
	return out
}

// lockedWriter serialises writes from the goroutines that share a writer.
type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}
