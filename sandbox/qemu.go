package sandbox

// The qemu backend: qemu-system-x86_64 with Debian's own kernel
// (kernel.go), under KVM when /dev/kvm can boot it, else TCG, which needs
// nothing of the host CPU.
//
// How a run goes:
//   - the guest's root is the host's / over virtio-9p (read-only, enforced
//     by qemu) under a tmpfs overlay; the run directory RUN is the 9p share
//     vmhost, read-write, seen at /run/vmhost; Spec.Shares are the shares
//     w0..wN at their own paths (at least qemuSlots of them, spares pointing
//     at an empty read-only directory, so that the device set is always the
//     same);
//   - the initramfs (qemu_init.sh) loads the boot modules, mounts all that
//     and switches to RUN/init2 (qemu_init2.sh), which runs RUN/stage3;
//   - the command's stdout and stderr are virtio-serial ports (a 16550
//     manages 0.34 MB/s under TCG), on host pipes that are copied to
//     Spec.Stdout and Spec.Stderr as they come; the kernel console is
//     ttyS0, on a third pipe, kept for error messages and its log; ttyS1
//     is the control line (the go line of a resumed guest, the stop line);
//   - a saved just-booted guest (qemuSnapshot) is resumed when there is one,
//     which saves 3 to 5 s of boot under TCG;
//   - to stop early, the host writes "stop" on ttyS1: the guest sends
//     SIGINT to the command; after Spec.Grace qemu is killed;
//   - qemu dies with this process even on SIGKILL (Pdeathsig), and a
//     guardian then removes the run directory.

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	_ "embed"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

//go:embed qemu_init2.sh
var qemuInit2 []byte

// qemuBinary is the emulator the backend runs.
const qemuBinary = "qemu-system-x86_64"

// qemuPackages are the Debian packages the backend needs: the emulator,
// busybox for the initramfs (and depmod), xz to extract the vmlinux.
var qemuPackages = []string{"qemu-system-x86", "busybox-static", "xz-utils"}

// qemuSlots is the number of share slots a guest always has: a saved
// guest fits only a run with the same devices, so runs with more shares
// boot instead of resuming.
const qemuSlots = 4

// qemuTune is the kernel command line beyond the console: each word saves
// boot time under TCG (measured: about 0.8 s in all), and the guest needs
// none of what they turn off.
var qemuTune = []string{
	"mitigations=off", "nokaslr", "tsc=reliable", "no_timer_check", "cryptomgr.notests",
	"audit=0", "apparmor=0", "selinux=0", "initcall_blacklist=init_kprobe_trace,crypto_kdf108_init",
}

type qemuBackend struct {
	mu    sync.Mutex
	accel *qemuAccelChoice // decided once per process
}

func init() { register(&qemuBackend{}) }

func (*qemuBackend) Name() string { return "qemu" }

// qemuAccelChoice is how qemu runs guests here.
type qemuAccelChoice struct {
	KVM    bool
	Reason string // why, for Check: "TCG; /dev/kvm is PVM and cannot boot this kernel"
}

func (q *qemuBackend) Check(ctx context.Context) Status {
	if os.Geteuid() != 0 {
		return Status{Reason: "needs root (its 9p server reads the host's / as the calling user)"}
	}
	if m := q.Missing(); len(m) > 0 {
		return Status{Reason: "not installed: apt-get install " + strings.Join(m, " ") + " (or wordish sandbox install)"}
	}
	k, err := qemuLoadKernel(ctx)
	if err != nil && !errors.Is(err, errNoKernel) {
		return Status{Reason: err.Error()}
	}
	a := q.chooseAccel(ctx, k)
	if k == nil {
		return Status{Usable: true, Reason: a.Reason + "; the guest kernel is not downloaded yet (wordish sandbox install)"}
	}
	return Status{Usable: true, Reason: a.Reason}
}

func (*qemuBackend) Missing() []string {
	var missing []string
	have := func(p string) bool {
		switch p {
		case "qemu-system-x86":
			_, err := exec.LookPath(qemuBinary)
			return err == nil
		case "busybox-static":
			_, err := os.Stat("/bin/busybox")
			return err == nil
		case "xz-utils":
			_, err := exec.LookPath("xz")
			return err == nil
		}
		return false
	}
	for _, p := range qemuPackages {
		if !have(p) {
			missing = append(missing, p)
		}
	}
	return missing
}

func (q *qemuBackend) Prepare(ctx context.Context, w io.Writer) error {
	if w == nil {
		w = io.Discard
	}
	if os.Geteuid() != 0 {
		return errors.New("qemu: must run as root (its 9p server reads the host's / as the calling user)")
	}
	if m := q.Missing(); len(m) > 0 {
		if err := qemuInstall(ctx, m, w); err != nil {
			return err
		}
	}
	k, err := qemuEnsureKernel(ctx, w)
	if err != nil {
		return err
	}
	a := q.chooseAccel(ctx, k)
	cfg := q.config(k, a, "1024M", nil)
	if _, err := qemuEnsureSnapshot(ctx, cfg, w, true); err != nil {
		fmt.Fprintf(w, "wordish: qemu: %v; guests will boot each time\n", err)
	}
	return nil
}

// qemuInstall installs pkgs with apt-get, its messages going to w.
func qemuInstall(ctx context.Context, pkgs []string, w io.Writer) error {
	run := func(args ...string) error {
		c := exec.CommandContext(ctx, "apt-get", args...)
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
		return fmt.Errorf("qemu: apt-get update: %w", err)
	}
	if err := run(append(opts, pkgs...)...); err != nil {
		return fmt.Errorf("qemu: apt-get install %s: %w", strings.Join(pkgs, " "), err)
	}
	return nil
}

// chooseAccel decides, once, between KVM and TCG. PVM's /dev/kvm (a KVM
// for guests inside a VM) boots only kernels built for it, and no Debian
// kernel is: it is never tried. Another /dev/kvm is tried with a probe
// boot, when the kernel is there to probe with.
func (q *qemuBackend) chooseAccel(ctx context.Context, k *qemuKernel) qemuAccelChoice {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.accel != nil {
		return *q.accel
	}
	a, final := qemuDecideAccel(ctx, k)
	if final {
		q.accel = &a
	}
	return a
}

func qemuDecideAccel(ctx context.Context, k *qemuKernel) (qemuAccelChoice, bool) {
	if _, err := os.Stat("/sys/module/kvm_pvm"); err == nil {
		return qemuAccelChoice{Reason: "TCG; /dev/kvm is PVM and cannot boot this kernel"}, true
	}
	f, err := os.OpenFile("/dev/kvm", os.O_RDWR, 0)
	if err != nil {
		if os.IsNotExist(err) {
			return qemuAccelChoice{Reason: "TCG; no /dev/kvm"}, true
		}
		return qemuAccelChoice{Reason: "TCG; /dev/kvm: " + err.Error()}, true
	}
	f.Close()
	if k == nil {
		return qemuAccelChoice{Reason: "TCG until KVM is probed with the guest kernel"}, false
	}
	// the probe's answer is kept beside the kernel, per host kernel
	var uts unix.Utsname
	unix.Uname(&uts)
	key := filepath.Join(k.Dir, "kvm-probe-"+qemuHash(unix.ByteSliceToString(uts.Release[:]), qemuVersion()))
	if b, err := os.ReadFile(key); err == nil {
		ok := strings.HasPrefix(string(b), "ok")
		if ok {
			return qemuAccelChoice{KVM: true, Reason: "KVM"}, true
		}
		return qemuAccelChoice{Reason: "TCG; " + strings.TrimSpace(string(b))}, true
	}
	ok, why := qemuProbeKVM(ctx, k)
	res := "ok\n"
	if !ok {
		res = "/dev/kvm did not boot the guest kernel (" + why + ")\n"
	}
	qemuWriteFileAtomic(key, []byte(res))
	if ok {
		return qemuAccelChoice{KVM: true, Reason: "KVM"}, true
	}
	return qemuAccelChoice{Reason: "TCG; " + strings.TrimSpace(res)}, true
}

// qemuProbeKVM boots the kernel under KVM up to the initramfs, which says
// so and stops at once (wq_probe=1); a normal kernel takes well under a
// second there.
func qemuProbeKVM(ctx context.Context, k *qemuKernel) (bool, string) {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	c := exec.CommandContext(ctx, qemuBinary, "-nodefaults", "-no-user-config", "-display", "none", "-no-reboot",
		"-M", "pc", "-accel", "kvm", "-cpu", "host", "-smp", "1", "-m", "256M",
		"-kernel", k.Image, "-initrd", k.Initrd,
		"-append", "console=ttyS0 quiet panic=-1 reboot=t wq_probe=1 "+strings.Join(qemuTune, " "),
		"-serial", "stdio")
	c.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	out, err := c.CombinedOutput()
	if bytes.Contains(out, []byte("wordish-qemu: probe ok")) {
		return true, ""
	}
	if ctx.Err() != nil {
		return false, "no sign of life within 5 s"
	}
	if err != nil {
		return false, qemuLastLine(out)
	}
	return false, "it stopped early"
}

// qemuVersion is the first line of qemu's --version, or "".
func qemuVersion() string {
	out, _ := exec.Command(qemuBinary, "--version").Output()
	l, _, _ := strings.Cut(string(out), "\n")
	return l
}

func qemuHash(parts ...string) string {
	h := sha256.New()
	for _, p := range parts {
		fmt.Fprintf(h, "%d:%s\n", len(p), p)
	}
	return hex.EncodeToString(h.Sum(nil))[:16]
}

// qemuConfig is everything that makes one qemu command line.
type qemuConfig struct {
	Kernel *qemuKernel
	KVM    bool
	Memory string   // as qemu's -m, e.g. 1024M
	RunDir string   // the vmhost share, holding the ctl FIFOs
	Empty  string   // what unused share slots point at
	Shares []string // host directories, shares w0..wN
	Snap   bool     // stop at the snapshot point and wait for the go line
}

func (q *qemuBackend) config(k *qemuKernel, a qemuAccelChoice, mem string, shares []string) qemuConfig {
	return qemuConfig{Kernel: k, KVM: a.KVM, Memory: mem, Empty: filepath.Join(qemuCacheDir(), "empty"), Shares: shares}
}

// The file descriptors qemu inherits: the console, the command's stdout
// and stderr (pipes, opened again by qemu as /dev/fd/N: for a pipe that is
// the same pipe, unlike a regular file, which would get a new offset).
const (
	qemuFdConsole = 3
	qemuFdStdout  = 4
	qemuFdStderr  = 5
)

// qemuAppend is the kernel command line.
func qemuAppend(c qemuConfig) string {
	snap := "0"
	if c.Snap {
		snap = "1"
	}
	return "console=ttyS0 quiet panic=-1 reboot=t " + strings.Join(qemuTune, " ") + " wq_snap=" + snap
}

// qemuEsc doubles commas, qemu's escape in option values.
func qemuEsc(s string) string { return strings.ReplaceAll(s, ",", ",,") }

// qemuArgs is the qemu command line (without the program name) of a guest.
func qemuArgs(c qemuConfig) []string {
	accel, cpu := "tcg,thread=single", "max"
	if c.KVM {
		accel, cpu = "kvm", "host"
	}
	fd := func(n int) string { return "/dev/fd/" + strconv.Itoa(n) }
	a := []string{"-nodefaults", "-no-user-config", "-display", "none", "-no-reboot",
		"-M", "pc", "-accel", accel, "-cpu", cpu, "-smp", "1", "-m", c.Memory,
		"-kernel", c.Kernel.Image, "-initrd", c.Kernel.Initrd, "-append", qemuAppend(c),
		"-chardev", "file,id=con,path=" + fd(qemuFdConsole),
		"-chardev", "pipe,id=ctl,path=" + qemuEsc(filepath.Join(c.RunDir, "ctl")),
		"-serial", "chardev:con", "-serial", "chardev:ctl",
		"-device", "virtio-serial-pci",
		"-chardev", "file,id=so,path=" + fd(qemuFdStdout),
		"-chardev", "file,id=se,path=" + fd(qemuFdStderr),
		"-chardev", "file,id=to,path=" + fd(qemuFdStdout),
		"-chardev", "file,id=te,path=" + fd(qemuFdStderr),
		"-device", "virtserialport,chardev=so,name=wq.stdout",
		"-device", "virtserialport,chardev=se,name=wq.stderr",
		"-device", "virtconsole,chardev=to,name=wq.ttyout",
		"-device", "virtconsole,chardev=te,name=wq.ttyerr",
		"-fsdev", "local,id=r,path=/,readonly=on,security_model=passthrough,multidevs=remap",
		"-device", "virtio-9p-pci,fsdev=r,mount_tag=hostroot",
		"-fsdev", "local,id=h,path=" + qemuEsc(c.RunDir) + ",security_model=passthrough,multidevs=remap",
		"-device", "virtio-9p-pci,fsdev=h,mount_tag=vmhost",
	}
	n := max(len(c.Shares), qemuSlots)
	for i := 0; i < n; i++ {
		p := "path=" + qemuEsc(c.Empty) + ",readonly=on"
		if i < len(c.Shares) {
			p = "path=" + qemuEsc(c.Shares[i])
		}
		id := "w" + strconv.Itoa(i)
		a = append(a, "-fsdev", "local,id="+id+","+p+",security_model=passthrough,multidevs=remap",
			"-device", "virtio-9p-pci,fsdev="+id+",mount_tag="+id)
	}
	return a
}

// qemuSnapshot is the file holding the saved guest for c: its name hashes
// the qemu version and the command line, without this run's paths, so a
// change of memory, accelerator, kernel or initramfs makes another; "" when
// c cannot resume (more shares than slots).
func qemuSnapshot(c qemuConfig) string {
	if len(c.Shares) > qemuSlots {
		return ""
	}
	c.Snap, c.RunDir, c.Shares = true, "/RUN", nil
	return filepath.Join(c.Kernel.Dir, "snapshot-"+qemuHash(qemuVersion(), strings.Join(qemuArgs(c), "\x00")))
}

// qemuEnsureSnapshot makes the saved guest for c unless it is there, and
// returns its path ("" for none). With wait false it does not wait for
// another process that holds the cache's lock (it may be making the same
// one): the run boots instead.
func qemuEnsureSnapshot(ctx context.Context, c qemuConfig, w io.Writer, wait bool) (string, error) {
	snap := qemuSnapshot(c)
	if snap == "" {
		return "", nil
	}
	if qemuUsable(snap) {
		return snap, nil
	}
	if _, err := os.Stat(snap + ".failed"); err == nil {
		return "", nil
	}
	var unlock func()
	if wait {
		u, err := qemuLock(ctx)
		if err != nil {
			return "", err
		}
		unlock = u
	} else {
		u, ok := qemuTryLock()
		if !ok {
			return "", nil
		}
		unlock = u
	}
	defer unlock()
	if qemuUsable(snap) {
		return snap, nil
	}
	start := time.Now()
	fmt.Fprintf(w, "wordish: qemu: saving a just-booted guest (once per settings) in %s\n", snap)
	if err := qemuMakeSnapshot(ctx, c, snap); err != nil {
		if ctx.Err() == nil {
			os.WriteFile(snap+".failed", []byte(err.Error()+"\n"), 0o644)
		}
		return "", fmt.Errorf("could not save a booted guest: %w", err)
	}
	fmt.Fprintf(w, "wordish: qemu: saved in %.1f s\n", time.Since(start).Seconds())
	// saved guests of other settings unused for a week go (80 MB each)
	old, _ := filepath.Glob(filepath.Join(c.Kernel.Dir, "snapshot-*"))
	for _, o := range old {
		if st, err := os.Stat(o); err == nil && o != snap && time.Since(st.ModTime()) > 7*24*time.Hour {
			os.Remove(o)
		}
	}
	return snap, nil
}

func qemuUsable(snap string) bool {
	st, err := os.Stat(snap)
	return err == nil && st.Size() > 0
}

// qemuMakeSnapshot boots a guest that stops at the snapshot point and
// saves it to snap with the monitor's migrate command.
func qemuMakeSnapshot(ctx context.Context, c qemuConfig, snap string) error {
	dir, err := os.MkdirTemp("", "wordish-qemu-snap-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	stopGuard, err := qemuGuard(dir)
	if err != nil {
		return err
	}
	defer stopGuard()
	c.Snap, c.RunDir, c.Shares = true, dir, nil
	g, err := qemuStart(c, dir, true)
	if err != nil {
		return err
	}
	defer g.kill()
	ctx, cancel := context.WithTimeout(ctx, 90*time.Second)
	defer cancel()
	select {
	case <-g.console.seen("wordish-qemu: snapshot point"):
	case <-g.exited:
		return fmt.Errorf("the guest stopped while booting: %s", g.console.last(1))
	case <-ctx.Done():
		return fmt.Errorf("the guest did not boot: %s", g.console.last(1))
	}
	tmp := snap + ".new"
	defer os.Remove(tmp)
	// migrate without -d holds the monitor until done, so quit comes after
	fmt.Fprintf(g.mon, "migrate \"exec:cat > %s\"\nquit\n", qemuShellQuote(tmp))
	select {
	case <-g.exited:
	case <-ctx.Done():
		return fmt.Errorf("saving the guest took too long")
	}
	if !qemuUsable(tmp) {
		return fmt.Errorf("qemu saved nothing: %s", qemuLastLine(g.log.Bytes()))
	}
	return os.Rename(tmp, snap)
}

// qemuShellQuote quotes s for sh (qemu's exec: migration runs sh -c).
func qemuShellQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// qemuGuest is a running qemu with its plumbing.
type qemuGuest struct {
	cmd     *exec.Cmd
	exited  chan struct{} // closed when qemu has exited (reaped)
	waitErr error
	ctl     *os.File // writes to ttyS1
	mon     io.Writer
	console *qemuConsole
	log     *bytes.Buffer // qemu's own stderr
	fds     []*os.File    // pipe ends held until the end
}

// qemuStart starts qemu for c. Its console, stdout and stderr go to the
// pipes of g (read them with g.console and qemuPipes); with monitor, an
// HMP monitor is on g.mon.
func qemuStart(c qemuConfig, dir string, monitor bool, extra ...string) (*qemuGuest, error) {
	g := &qemuGuest{exited: make(chan struct{}), log: &bytes.Buffer{}}
	for _, f := range []string{"ctl.in", "ctl.out", "mon.in", "mon.out"} {
		if !monitor && strings.HasPrefix(f, "mon") {
			continue
		}
		if err := unix.Mkfifo(filepath.Join(dir, f), 0o600); err != nil && !os.IsExist(err) {
			return nil, err
		}
	}
	open := func(name string) (*os.File, error) {
		// O_RDWR: open does not wait for qemu, and a FIFO never sees EOF
		f, err := os.OpenFile(filepath.Join(dir, name), os.O_RDWR, 0)
		if err == nil {
			g.fds = append(g.fds, f)
		}
		return f, err
	}
	var err error
	if g.ctl, err = open("ctl.in"); err != nil {
		return nil, err
	}
	ctlOut, err := open("ctl.out")
	if err != nil {
		return nil, err
	}
	go io.Copy(io.Discard, ctlOut)
	args := qemuArgs(c)
	if monitor {
		m, err := open("mon.in")
		if err != nil {
			return nil, err
		}
		g.mon = m
		mo, err := open("mon.out")
		if err != nil {
			return nil, err
		}
		go io.Copy(io.Discard, mo)
		args = append(args, "-chardev", "pipe,id=mon,path="+qemuEsc(filepath.Join(dir, "mon")), "-mon", "chardev=mon,mode=readline")
	}
	args = append(args, extra...)
	conR, conW, err := os.Pipe()
	if err != nil {
		g.close()
		return nil, err
	}
	g.console = newQemuConsole(conR)
	g.fds = append(g.fds, conW)
	// stdout and stderr: qemuPipes sets them up for a run; a snapshot
	// guest writes nothing there
	null, _ := os.OpenFile(os.DevNull, os.O_WRONLY, 0)
	g.fds = append(g.fds, null)
	return g, g.start(args, conW, null, null)
}

// start runs qemu with the console and output pipes as fds 3, 4, 5.
func (g *qemuGuest) start(args []string, con, out, errf *os.File) error {
	g.cmd = exec.Command(qemuBinary, args...)
	g.cmd.Stdout = g.log
	g.cmd.Stderr = g.log
	g.cmd.ExtraFiles = []*os.File{con, out, errf}
	// Pdeathsig: qemu dies with this process, even on SIGKILL. It is
	// tied to the thread that forks, hence the lock. Setpgid: a ^C on
	// the terminal reaches wordish, which stops the guest gracefully.
	g.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL, Setpgid: true}
	runtime.LockOSThread()
	err := g.cmd.Start()
	runtime.UnlockOSThread()
	if err != nil {
		g.close()
		return fmt.Errorf("qemu: starting %s: %w", qemuBinary, err)
	}
	go func() {
		g.waitErr = g.cmd.Wait()
		close(g.exited)
	}()
	return nil
}

// kill stops qemu at once and closes what g holds.
func (g *qemuGuest) kill() {
	if g.cmd != nil && g.cmd.Process != nil {
		g.cmd.Process.Kill()
		<-g.exited
	}
	g.close()
}

func (g *qemuGuest) close() {
	for _, f := range g.fds {
		f.Close()
	}
	g.fds = nil
}

// qemuConsole reads the guest console: it keeps the last 64 KiB, copies
// it on to an optional writer, and tells when a line was seen.
type qemuConsole struct {
	mu      sync.Mutex
	tail    []byte
	copy    io.Writer
	waiters map[string]chan struct{}
	lines   map[string]bool
	done    chan struct{}
}

func newQemuConsole(r io.ReadCloser) *qemuConsole {
	c := &qemuConsole{waiters: map[string]chan struct{}{}, lines: map[string]bool{}, done: make(chan struct{})}
	go func() {
		defer close(c.done)
		defer r.Close()
		br := bufio.NewReader(r)
		for {
			line, err := br.ReadString('\n')
			if line != "" {
				c.add(line)
			}
			if err != nil {
				return
			}
		}
	}()
	return c
}

func (c *qemuConsole) add(line string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.tail = append(c.tail, line...)
	if len(c.tail) > 64<<10 {
		c.tail = append(c.tail[:0], c.tail[len(c.tail)-64<<10:]...)
	}
	if c.copy != nil {
		c.copy.Write([]byte(line))
	}
	l := strings.TrimRight(line, "\r\n")
	for prefix, ch := range c.waiters {
		if strings.HasPrefix(l, prefix) {
			close(ch)
			delete(c.waiters, prefix)
			c.lines[prefix] = true
		}
	}
}

// seen returns a channel closed once a line starting with prefix comes.
func (c *qemuConsole) seen(prefix string) <-chan struct{} {
	c.mu.Lock()
	defer c.mu.Unlock()
	ch := make(chan struct{})
	if c.lines[prefix] || bytes.Contains(c.tail, []byte("\n"+prefix)) || bytes.HasPrefix(c.tail, []byte(prefix)) {
		close(ch)
		return ch
	}
	if old, ok := c.waiters[prefix]; ok {
		return old
	}
	c.waiters[prefix] = ch
	return ch
}

func (c *qemuConsole) setCopy(w io.Writer) {
	c.mu.Lock()
	c.copy = w
	c.mu.Unlock()
}

// text is all the console kept.
func (c *qemuConsole) text() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return string(c.tail)
}

// last returns the last n non-empty lines, joined by " / ".
func (c *qemuConsole) last(n int) string {
	lines := strings.Split(strings.TrimSpace(strings.ReplaceAll(c.text(), "\r", "")), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, " / ")
}

// why finds the console line that best says what went wrong.
func (c *qemuConsole) why() string {
	lines := strings.Split(strings.ReplaceAll(c.text(), "\r", ""), "\n")
	for i := len(lines) - 1; i >= 0; i-- {
		l := strings.TrimSpace(lines[i])
		if strings.Contains(l, "Kernel panic") || strings.HasPrefix(l, "wordish-qemu init") && strings.Contains(l, ":") && !strings.Contains(l, "ready at") {
			return l
		}
	}
	return ""
}

// Run runs spec.Argv in a fresh qemu guest (see the file comment).
func (q *qemuBackend) Run(ctx context.Context, spec Spec) (status int, err error) {
	if len(spec.Argv) == 0 {
		return -1, errors.New("qemu: no command")
	}
	if spec.Stdout == nil {
		spec.Stdout = io.Discard
	}
	if spec.Stderr == nil {
		spec.Stderr = io.Discard
	}
	stderr := &qemuLockedWriter{w: spec.Stderr}
	spec.Stderr = stderr
	if spec.Memory == "" {
		spec.Memory = "1024M"
	}
	if spec.Grace <= 0 {
		spec.Grace = 20 * time.Second
	}
	if os.Geteuid() != 0 {
		return -1, errors.New("qemu: the sandbox must run as root (its 9p server reads the host's / as the calling user); try sudo")
	}
	if m := q.Missing(); len(m) > 0 {
		if !spec.Install {
			return -1, fmt.Errorf("qemu: needs Debian packages that are not installed; run: apt-get install %s (or wordish sandbox install, or --sandbox-install)", strings.Join(m, " "))
		}
		if err := qemuInstall(ctx, m, spec.Stderr); err != nil {
			return -1, err
		}
	}
	k, err := qemuLoadKernel(ctx)
	if errors.Is(err, errNoKernel) && spec.Install {
		k, err = qemuEnsureKernel(ctx, spec.Stderr)
	} else if errors.Is(err, errNoKernel) {
		return -1, fmt.Errorf("qemu: the guest kernel is not in the cache %s yet; run: wordish sandbox install (or use --sandbox-install)", qemuCacheDir())
	}
	if err != nil {
		return -1, err
	}
	a := q.chooseAccel(ctx, k)
	shares, err := qemuShares(spec.Shares)
	if err != nil {
		return -1, err
	}
	os.MkdirAll(filepath.Join(qemuCacheDir(), "empty"), 0o755)
	cfg := q.config(k, a, spec.Memory, shares)
	snap, serr := qemuEnsureSnapshot(ctx, cfg, spec.Stderr, false)
	if serr != nil {
		fmt.Fprintf(spec.Stderr, "wordish: qemu: %v; booting instead\n", serr)
	}
	if err := ctx.Err(); err != nil {
		return -1, fmt.Errorf("%w: %w", ErrStopped, err)
	}
	// the time limit starts here: the first run's downloads and saved
	// guest are not the command's time
	if spec.Timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, spec.Timeout)
		defer cancel()
	}

	run, err := os.MkdirTemp("", "wordish-qemu-")
	if err != nil {
		return -1, err
	}
	defer os.RemoveAll(run)
	stopGuard, err := qemuGuard(run)
	if err != nil {
		return -1, err
	}
	defer stopGuard()
	if err := qemuFillRunDir(run, &spec, k, shares); err != nil {
		return -1, err
	}
	cfg.RunDir = run
	r := &qemuRun{spec: &spec, cfg: cfg, run: run, start: time.Now()}
	defer r.cleanup()
	if err := r.pipes(); err != nil {
		return -1, err
	}
	mode := "booted"
	if snap != "" {
		mode = "resumed"
		ok, err := r.resume(ctx, snap)
		if err != nil {
			return -1, err
		}
		if !ok && ctx.Err() == nil {
			fmt.Fprintf(spec.Stderr, "wordish: qemu: the saved guest did not resume (%s); deleted it, booting instead\n", r.failure())
			os.Remove(snap)
			r.guest.kill()
			r.guest = nil
			mode = "booted"
		}
	}
	if r.guest == nil && ctx.Err() == nil {
		if err := r.boot(); err != nil {
			return -1, err
		}
	}
	stopped := false
	if r.guest != nil {
		stopped = r.wait(ctx)
	} else {
		stopped = true
	}
	end := time.Now()
	r.finish()
	if spec.Verbose {
		fmt.Fprintf(spec.Stderr, "wordish qemu: %s (%s), total %d ms\n", mode, a.Reason, end.Sub(r.start).Milliseconds())
	}

	status = -1
	if data, err := os.ReadFile(filepath.Join(run, "status")); err == nil {
		if s, err := strconv.Atoi(strings.TrimSpace(string(data))); err == nil {
			status = s
		}
	}
	cerr := qemuCollect(run, spec.Outputs)
	if stopped {
		return status, fmt.Errorf("%w: %w", ErrStopped, ctx.Err())
	}
	if status < 0 {
		return -1, r.noStatus()
	}
	if cerr != nil {
		return status, fmt.Errorf("qemu: copying the sandbox's output files: %w", cerr)
	}
	return status, nil
}

// qemuShares checks the shared directories and makes their paths absolute.
func qemuShares(in []string) ([]string, error) {
	var out []string
	for _, s := range in {
		abs, err := filepath.Abs(s)
		if err != nil {
			return nil, err
		}
		if st, err := os.Stat(abs); err != nil || !st.IsDir() {
			return nil, fmt.Errorf("qemu: share %s: not a directory", s)
		}
		if strings.ContainsAny(abs, "\n") {
			return nil, fmt.Errorf("qemu: share %q: newline in path", s)
		}
		out = append(out, abs)
	}
	return out, nil
}

// qemuFillRunDir writes the run directory: init2, stage3, the shares, the
// module tree's path, Spec.Files, out/.
func qemuFillRunDir(run string, spec *Spec, k *qemuKernel, shares []string) error {
	files := map[string]string{
		"init2":   string(qemuInit2),
		"stage3":  qemuStage3(spec),
		"modules": k.Modules() + "\n",
		"shares":  strings.Join(append(shares, ""), "\n"),
	}
	if len(shares) == 0 {
		files["shares"] = ""
	}
	if spec.TTY {
		files["tty"] = ""
	}
	for name, data := range spec.Files {
		if name == "" || strings.Contains(name, "/") || name == "." || name == ".." || files[name] != "" || name == "out" || name == "status" {
			return fmt.Errorf("qemu: Spec.Files: bad name %q", name)
		}
		files[name] = string(data)
	}
	for name := range spec.Outputs {
		if name == "" || strings.Contains(name, "/") || name == "." || name == ".." {
			return fmt.Errorf("qemu: output %q: want a plain file name", name)
		}
	}
	if err := os.Mkdir(filepath.Join(run, "out"), 0o755); err != nil {
		return err
	}
	for name, data := range files {
		mode := os.FileMode(0o644)
		if name == "init2" || name == "stage3" {
			mode = 0o755
		}
		if err := os.WriteFile(filepath.Join(run, name), []byte(data), mode); err != nil {
			return err
		}
	}
	return nil
}

// qemuEnvBase is the command's environment before Spec.Env.
var qemuEnvBase = []string{
	"HOME=/root", "USER=root", "LOGNAME=root", "SHELL=/bin/bash",
	"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
	"TERM=dumb",
}

// qemuStage3 is the bash script that runs the command: it records its PID
// (the stop watcher signals it) and its start time, then becomes the
// command in a clean environment.
func qemuStage3(spec *Spec) string {
	dir := spec.Dir
	if dir == "" {
		dir = "/root"
	}
	idx := map[string]int{}
	var vars []string
	for _, kv := range append(append([]string{}, qemuEnvBase...), spec.Env...) {
		k, _, _ := strings.Cut(kv, "=")
		if i, ok := idx[k]; ok {
			vars[i] = kv
			continue
		}
		idx[k] = len(vars)
		vars = append(vars, kv)
	}
	var b strings.Builder
	b.WriteString("#!/bin/bash\n")
	b.WriteString("printf 'start %s\\n' \"$EPOCHREALTIME\" >/run/vmhost/timing\n")
	b.WriteString("echo $$ >/run/wordish-vm.pid\n")
	fmt.Fprintf(&b, "cd -- %s || exit 126\n", qemuQuote(dir))
	b.WriteString("exec /usr/bin/env -i")
	for _, kv := range vars {
		b.WriteString(" " + qemuQuote(kv))
	}
	for _, a := range spec.Argv {
		b.WriteString(" " + qemuQuote(a))
	}
	b.WriteString("\n")
	return b.String()
}

// qemuQuote quotes s for bash.
func qemuQuote(s string) string {
	if s != "" && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_./=:,+@%") == "" {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// qemuRun is the host side of one run.
type qemuRun struct {
	spec   *Spec
	cfg    qemuConfig
	run    string
	start  time.Time
	guest  *qemuGuest
	tries  []*qemuGuest // every qemu started, for the console of a failure
	outR   *os.File
	outW   *os.File
	errR   *os.File
	errW   *os.File
	copies sync.WaitGroup
}

// pipes makes the pipes for the command's output and starts copying them.
// This process holds their write ends until the end, so that the copies
// end only once the last qemu (a failed resume may be followed by a boot)
// is gone.
func (r *qemuRun) pipes() error {
	var err error
	if r.outR, r.outW, err = os.Pipe(); err != nil {
		return err
	}
	if r.errR, r.errW, err = os.Pipe(); err != nil {
		return err
	}
	for _, p := range []struct {
		w io.Writer
		r *os.File
	}{{r.spec.Stdout, r.outR}, {r.spec.Stderr, r.errR}} {
		r.copies.Add(1)
		go func() {
			defer r.copies.Done()
			io.Copy(p.w, p.r)
		}()
	}
	return nil
}

func (r *qemuRun) startGuest(extra ...string) error {
	c := r.cfg
	c.Snap = len(extra) > 0
	g := &qemuGuest{exited: make(chan struct{}), log: &bytes.Buffer{}}
	for _, f := range []string{"ctl.in", "ctl.out"} {
		os.Remove(filepath.Join(r.run, f))
		if err := unix.Mkfifo(filepath.Join(r.run, f), 0o600); err != nil {
			return err
		}
	}
	for _, f := range []string{"ctl.in", "ctl.out"} {
		fh, err := os.OpenFile(filepath.Join(r.run, f), os.O_RDWR, 0)
		if err != nil {
			g.close()
			return err
		}
		g.fds = append(g.fds, fh)
	}
	g.ctl = g.fds[0]
	go io.Copy(io.Discard, g.fds[1])
	conR, conW, err := os.Pipe()
	if err != nil {
		g.close()
		return err
	}
	g.console = newQemuConsole(conR)
	if r.spec.Verbose {
		g.console.setCopy(r.spec.Stderr)
	}
	g.fds = append(g.fds, conW)
	r.guest = g
	r.tries = append(r.tries, g)
	if err := g.start(append(qemuArgs(c), extra...), conW, r.outW, r.errW); err != nil {
		return err
	}
	conW.Close() // qemu has it; EOF on the console once qemu is gone
	g.fds = g.fds[:len(g.fds)-1]
	return nil
}

func (r *qemuRun) boot() error { return r.startGuest() }

// resume starts qemu on the saved guest and sends the go line until the
// guest says it resumed. It reports false when it did not within 30 s or
// qemu exited: the saved guest is bad.
func (r *qemuRun) resume(ctx context.Context, snap string) (bool, error) {
	if err := r.startGuest("-incoming", "exec:cat "+qemuShellQuote(snap)); err != nil {
		return false, err
	}
	g := r.guest
	now := time.Now()
	os.Chtimes(snap, now, now) // in use: not pruned
	rnd := make([]byte, 32)
	rand.Read(rnd)
	resumed := g.console.seen("wordish-qemu: resumed")
	deadline := time.After(30 * time.Second)
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		fmt.Fprintf(g.ctl, "go %d %s end\n", time.Now().Unix(), hex.EncodeToString(rnd))
		select {
		case <-resumed:
			return true, nil
		case <-g.exited:
			return false, nil
		case <-deadline:
			return false, nil
		case <-ctx.Done():
			return false, nil
		case <-tick.C:
		}
	}
}

// wait waits for qemu to exit, stopping the guest when ctx is done; it
// reports whether it stopped it.
func (r *qemuRun) wait(ctx context.Context) bool {
	g := r.guest
	select {
	case <-g.exited:
		return false
	case <-ctx.Done():
	}
	grace := r.spec.Grace
	if _, err := os.Stat(filepath.Join(r.run, "timing")); err != nil {
		grace = 0 // the command has not started: nothing to clean up
	}
	if r.spec.Verbose {
		fmt.Fprintf(r.spec.Stderr, "wordish qemu: stopping (%v): SIGINT to the command, %v to clean up\n", ctx.Err(), grace)
	}
	g.ctl.Write([]byte("stop\n"))
	if !qemuWaitFor(g.exited, grace) {
		if grace > 0 {
			fmt.Fprintf(r.spec.Stderr, "wordish: qemu: the guest did not stop within %v; killing it\n", grace)
		}
		g.cmd.Process.Kill()
		<-g.exited
	}
	return true
}

// finish closes this process's write ends and waits for the output
// copies to drain.
func (r *qemuRun) finish() {
	r.outW.Close()
	r.errW.Close()
	r.outW, r.errW = nil, nil
	done := make(chan struct{})
	go func() { r.copies.Wait(); close(done) }()
	if !qemuWaitFor(done, 5*time.Second) {
		r.outR.Close()
		r.errR.Close()
		<-done
	}
	if r.guest != nil {
		qemuWaitFor(r.guest.console.done, 2*time.Second)
	}
}

func (r *qemuRun) cleanup() {
	for _, g := range r.tries {
		g.kill()
	}
	for _, f := range []*os.File{r.outW, r.errW, r.outR, r.errR} {
		if f != nil {
			f.Close()
		}
	}
}

// failure says briefly what the current guest showed.
func (r *qemuRun) failure() string {
	g := r.guest
	select {
	case <-g.exited:
		if l := qemuLastLine(g.log.Bytes()); l != "" {
			return "qemu: " + l
		}
		return "qemu exited"
	default:
		return "no answer within 30 s"
	}
}

// noStatus is the error for a guest that reported no exit status: one
// line, what happened, what to try, and the console log it saved.
func (r *qemuRun) noStatus() error {
	g := r.guest
	var what string
	switch {
	case g == nil:
		what = "the guest did not start"
	case g.console.why() != "":
		what = "guest failed: " + g.console.why()
	case g.waitErr != nil && qemuLastLine(g.log.Bytes()) != "":
		what = "qemu failed: " + qemuLastLine(g.log.Bytes())
	default:
		what = "the guest reported no exit status"
	}
	log := r.saveLog()
	msg := "qemu: " + what + "; try wordish sandbox check, or another --sandbox"
	if log != "" {
		msg += "; console log: " + log
	}
	return errors.New(msg)
}

// saveLog writes the consoles and qemu's messages of this run to a file
// in the cache's logs/ (the run directory goes away) and returns its path.
func (r *qemuRun) saveLog() string {
	dir := filepath.Join(qemuCacheDir(), "logs")
	if os.MkdirAll(dir, 0o755) != nil {
		return ""
	}
	f, err := os.CreateTemp(dir, time.Now().Format("console-20060102-150405-*.log"))
	if err != nil {
		return ""
	}
	for i, g := range r.tries {
		fmt.Fprintf(f, "=== qemu %d of %d: %s %s\n", i+1, len(r.tries), qemuBinary, strings.Join(g.cmd.Args[1:], " "))
		fmt.Fprintf(f, "--- console\n%s\n--- qemu's messages (exit: %v)\n%s\n", g.console.text(), g.waitErr, g.log.String())
	}
	f.Close()
	// keep the 20 newest
	old, _ := filepath.Glob(filepath.Join(dir, "console-*.log"))
	sort.Strings(old)
	for len(old) > 20 {
		os.Remove(old[0])
		old = old[1:]
	}
	return f.Name()
}

// qemuCollect copies the outputs the command wrote to their host paths.
func qemuCollect(run string, outputs map[string]string) error {
	var errs []error
	for name, dst := range outputs {
		src := filepath.Join(run, "out", name)
		data, err := os.ReadFile(src)
		if err != nil {
			continue // not written
		}
		if err := os.WriteFile(dst, data, 0o644); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// qemuGuard starts a guardian that removes the run directory if this
// process dies without doing so (SIGKILL; qemu itself dies then through
// Pdeathsig): it waits on a lifeline pipe only this process holds. The
// returned function ends it.
func qemuGuard(run string) (func(), error) {
	r, w, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	c := exec.Command("/bin/sh", "-c", `read _ <&3; sleep 1; rm -rf "$1"`, "wordish-qemu-guard", run)
	c.ExtraFiles = []*os.File{r}
	c.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := c.Start(); err != nil {
		r.Close()
		w.Close()
		return nil, err
	}
	r.Close()
	done := make(chan struct{})
	go func() { c.Wait(); close(done) }()
	return func() {
		c.Process.Kill()
		w.Close()
		<-done
	}, nil
}

// qemuWaitFor reports whether ch is closed within d.
func qemuWaitFor(ch <-chan struct{}, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ch:
		return true
	case <-t.C:
		return false
	}
}

// qemuLockedWriter serialises writes from the goroutines that share a writer.
type qemuLockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *qemuLockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}
