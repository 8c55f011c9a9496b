//go:build linux && amd64

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
//     and switches to RUN/init (qemu_init2.sh), which runs RUN/stage3;
//   - the command's stdout and stderr are virtio-serial ports (an emulated
//     16550 is far slower; figures in bench/SANDBOX.md), on host pipes that are copied to
//     Spec.Stdout and Spec.Stderr as they come; the kernel console is
//     ttyS0, on a third pipe, kept for error messages and its log; ttyS1
//     is the control line (the go line of a resumed guest, the stop line);
//   - a saved just-booted guest (qemuSnapshot) is resumed when there is one,
//     which skips most of the boot;
//   - to stop early, the host writes "stop" on ttyS1: the guest sends
//     SIGINT to the command; after Spec.Grace qemu gets SIGTERM, then SIGKILL;
//   - qemu runs under the guardian (run_linux.go): when this process dies
//     without cleaning up (SIGKILL), the guardian stops qemu and removes
//     the run directory.

import (
	"bytes"
	"context"
	"crypto/sha256"
	_ "embed"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
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

// qemuNeedsRoot says why the backend needs root.
const qemuNeedsRoot = "needs root (its 9p server reads the host's / as the calling user)"

// qemuSlots is the number of share slots a guest always has: a saved
// guest fits only a run with the same devices, so runs with more shares
// boot instead of resuming.
const qemuSlots = 4

// qemuTune is the kernel command line beyond the console: each word saves
// boot time under TCG, and the guest needs none of what they turn off.
var qemuTune = []string{
	"mitigations=off", "nokaslr", "tsc=reliable", "no_timer_check", "cryptomgr.notests",
	"audit=0", "apparmor=0", "selinux=0", "initcall_blacklist=init_kprobe_trace,crypto_kdf108_init",
}

type qemuBackend struct {
	mu    sync.Mutex
	accel *qemuAccelChoice // decided once per process
}

func init() {
	register(&qemuBackend{})
	// the host's plumbing in the run directory (qemu_run.go)
	for _, n := range []string{"ctl.in", "ctl.out", "qemu.log", "nonce"} {
		reserved[n] = true
	}
}

func (*qemuBackend) Name() string { return "qemu" }

// qemuAccelChoice is how qemu runs guests here.
type qemuAccelChoice struct {
	KVM    bool
	Reason string // why, for Check: "TCG; /dev/kvm is PVM and cannot boot this kernel"
}

func (q *qemuBackend) Check(ctx context.Context) Status {
	if os.Geteuid() != 0 {
		return Status{Reason: qemuNeedsRoot}
	}
	if m := q.Missing(); len(m) > 0 {
		return Status{Reason: "not installed: apt-get install " + strings.Join(m, " ") + " (or wordish sandbox install)"}
	}
	k, err := qemuLoadKernel(ctx)
	if err != nil && !errors.Is(err, errNoKernel) {
		return Status{Reason: err.Error()}
	}
	if k == nil {
		return Status{Reason: "the guest kernel is not downloaded yet (wordish sandbox install)"}
	}
	return Status{Usable: true, Reason: q.chooseAccel(ctx, k).Reason}
}

// Version names what the backend runs, for the cache of the automatic
// choice: qemu's version and the cached kernel and initramfs.
func (*qemuBackend) Version() string {
	cur, _ := os.ReadFile(filepath.Join(qemuCacheDir(), "current"))
	return qemuVersion() + "; " + strings.TrimSpace(string(cur)) + "; initrd " + qemuInitrdKey()
}

func (*qemuBackend) Missing() []string {
	return missingPackages(qemuPackages, map[string]string{
		"qemu-system-x86": "/usr/bin/" + qemuBinary, "busybox-static": "/bin/busybox", "xz-utils": "/usr/bin/xz"})
}

func (q *qemuBackend) Prepare(ctx context.Context, w io.Writer) error {
	if w == nil {
		w = io.Discard
	}
	if os.Geteuid() != 0 {
		return errors.New("qemu: " + qemuNeedsRoot)
	}
	if m := q.Missing(); len(m) > 0 {
		if err := Install(m, w); err != nil {
			return fmt.Errorf("qemu: %w", err)
		}
	}
	k, err := qemuUpdateKernel(ctx, w)
	if err != nil {
		return err
	}
	// an install starts afresh: initramfs files of other wordish versions
	// go, and a saved guest that failed once is tried again
	stale, _ := filepath.Glob(filepath.Join(k.Dir, "initrd-*.cpio"))
	failed, _ := filepath.Glob(filepath.Join(k.Dir, "snapshot-*.failed"))
	for _, f := range append(stale, failed...) {
		if f != k.Initrd {
			os.Remove(f)
		}
	}
	a := q.chooseAccel(ctx, k)
	cfg := q.config(k, a, "1024M", nil)
	if _, err := qemuEnsureSnapshot(ctx, cfg, w, true); err != nil {
		fmt.Fprintf(w, "wordish: qemu: %v; guests will boot each time\n", err)
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
	writeFileAtomic(key, []byte(res))
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
		return false, lastLine(string(out))
	}
	return false, "it stopped early"
}

// qemuVersion is the first line of qemu's --version, or "" (asked once).
var qemuVersion = sync.OnceValue(func() string {
	out, _ := exec.Command(qemuBinary, "--version").Output()
	l, _, _ := strings.Cut(string(out), "\n")
	return l
})

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
	// Westmere: x86-64-v2 (what host binaries may be built for) without
	// AVX, which TCG emulates at a cost (bench/SANDBOX.md); qemu64 lacks
	// SSE4.2
	accel, cpu := "tcg,thread=single", "Westmere"
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
		u, err := qemuLock(ctx, w)
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
		// a guest that fails to boot or save is not tried again (until
		// wordish sandbox install); one that was only slow (a loaded
		// machine) or stopped is
		if ctx.Err() == nil && !errors.Is(err, errSnapshotSlow) {
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
