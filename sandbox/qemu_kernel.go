//go:build linux && amd64

package sandbox

// The qemu guest's kernel: Debian's own (the package linux-image-amd64
// depends on), fetched once with apt-get download and unpacked into the
// cache, with only the modules a sandbox guest can use (file systems,
// device-mapper, loop, virtio, crypto, and what they depend on), an ELF
// vmlinux for PVH boot, and the initramfs (qemu_init.sh, busybox, the boot
// modules) that wordish writes itself.
//
// Cache layout, under qemuCacheDir():
//
//	.lock                         flock(2): one builder at a time
//	current                       the name of the kernel directory in use
//	kernel-PKG_VERSION-vN/        one unpacked kernel (N: kernelLayout)
//	    vmlinuz, vmlinux, config, modules/ (a /lib/modules/KV tree), release
//	    initrd-HASH.cpio          the initramfs for this wordish's init script
//	    snapshot-HASH             saved just-booted guests (qemu.go)
//	    kvm-probe-HASH            whether KVM boots it, per host kernel
//	empty/                        what unused share slots point at
//
// Everything is built in a temporary directory beside its final place and
// renamed into place, under the lock, so concurrent first runs neither
// corrupt the cache nor build it twice.

import (
	"archive/tar"
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
	"path"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

//go:embed qemu_init.sh
var qemuInit []byte

// kernelLayout is bumped when what is kept of the kernel package changes,
// so that an older cache is rebuilt.
const kernelLayout = 1

// qemuKernel is one unpacked kernel in the cache.
type qemuKernel struct {
	Dir     string // the kernel directory
	Release string // its uname -r, e.g. 6.1.0-57-amd64
	Image   string // what qemu boots: vmlinux (PVH) or else vmlinuz
	Initrd  string // the initramfs
}

// Modules is the guest's /lib/modules/RELEASE tree.
func (k *qemuKernel) Modules() string { return filepath.Join(k.Dir, "modules") }

// qemuCacheDir is where the qemu backend keeps its files: qemu/ in
// wordish's cache (CacheDir).
func qemuCacheDir() string {
	dir, err := CacheDir()
	if err != nil {
		dir = "/var/cache/wordish"
	}
	return filepath.Join(dir, "qemu")
}

// qemuLoadKernel returns the kernel the cache's current file names, ready
// (unpacked, with an initramfs for this wordish), or an error if there is
// none yet. It builds nothing but a missing initramfs.
func qemuLoadKernel(ctx context.Context) (*qemuKernel, error) {
	kd, err := qemuCurrentKernel()
	if err != nil {
		return nil, err
	}
	k := &qemuKernel{Dir: kd}
	rel, err := os.ReadFile(filepath.Join(k.Dir, "release"))
	if err != nil {
		return nil, errNoKernel
	}
	k.Release = strings.TrimSpace(string(rel))
	k.Image = filepath.Join(k.Dir, "vmlinux")
	if _, err := os.Stat(k.Image); err != nil {
		k.Image = filepath.Join(k.Dir, "vmlinuz")
	}
	k.Initrd = filepath.Join(k.Dir, "initrd-"+qemuInitrdKey()+".cpio")
	if _, err := os.Stat(k.Initrd); err != nil {
		unlock, err := qemuLock(ctx, nil)
		if err != nil {
			return nil, err
		}
		defer unlock()
		if _, err := os.Stat(k.Initrd); err != nil {
			if err := qemuWriteInitrd(k); err != nil {
				return nil, fmt.Errorf("qemu: writing the initramfs: %w", err)
			}
		}
	}
	return k, nil
}

var errNoKernel = errors.New("qemu: the guest kernel is not in the cache yet")

// qemuEnsureKernel returns the cached kernel, fetching and unpacking it
// first if there is none (progress on w).
func qemuEnsureKernel(ctx context.Context, w io.Writer) (*qemuKernel, error) {
	k, err := qemuLoadKernel(ctx)
	if err == nil || !errors.Is(err, errNoKernel) {
		return k, err
	}
	unlock, err := qemuLock(ctx, w)
	if err != nil {
		return nil, err
	}
	if _, err := qemuCurrentKernel(); err != nil {
		// still none: this process builds it
		pkg, err := qemuKernelPackage(ctx)
		if err == nil {
			err = qemuFetchKernel(ctx, pkg, w)
		}
		if err != nil {
			unlock()
			return nil, err
		}
	}
	unlock()
	return qemuLoadKernel(ctx)
}

// qemuUpdateKernel is qemuEnsureKernel for Prepare: it also asks apt
// which kernel package is the current one, fetches it if the cache has
// another, and then removes the others. (Runs never ask apt: it is slow.)
func qemuUpdateKernel(ctx context.Context, w io.Writer) (*qemuKernel, error) {
	pkg, err := qemuKernelPackage(ctx)
	if err != nil {
		if k, lerr := qemuLoadKernel(ctx); lerr == nil {
			return k, nil // offline, say: the cached one will do
		}
		return nil, err
	}
	out, err := exec.CommandContext(ctx, "apt-get", "-q", "--print-uris", "download", pkg).Output()
	f := strings.Fields(string(out))
	if err != nil || len(f) < 2 || !strings.HasSuffix(f[1], ".deb") {
		return qemuEnsureKernel(ctx, w)
	}
	want := qemuKernelDirName(f[1])
	unlock, err := qemuLock(ctx, w)
	if err != nil {
		return nil, err
	}
	defer unlock()
	dir := qemuCacheDir()
	cur, _ := qemuCurrentKernel()
	if filepath.Base(cur) != want {
		if err := qemuFetchKernel(ctx, pkg, w); err != nil {
			return nil, err
		}
	}
	// older kernels (and builds a killed wordish left) go
	old, _ := filepath.Glob(filepath.Join(dir, "kernel-*"))
	builds, _ := filepath.Glob(filepath.Join(dir, "build-*"))
	for _, o := range append(old, builds...) {
		if filepath.Base(o) != want {
			os.RemoveAll(o)
		}
	}
	unlock()
	return qemuLoadKernel(ctx)
}

// qemuKernelDirName names the cache directory of a kernel package file.
func qemuKernelDirName(deb string) string {
	return fmt.Sprintf("kernel-%s-v%d", strings.TrimSuffix(filepath.Base(deb), ".deb"), kernelLayout)
}

// qemuCurrentKernel returns the directory of the current kernel, or
// errNoKernel; it takes no lock and builds nothing.
func qemuCurrentKernel() (string, error) {
	dir := qemuCacheDir()
	cur, err := os.ReadFile(filepath.Join(dir, "current"))
	if err != nil {
		return "", errNoKernel
	}
	kd := filepath.Join(dir, strings.TrimSpace(string(cur)))
	if _, err := os.Stat(filepath.Join(kd, "release")); err != nil {
		return "", errNoKernel
	}
	return kd, nil
}

// qemuLock takes the cache's lock, waiting for another builder as long as
// ctx allows; the returned function releases it.
func qemuLock(ctx context.Context, w io.Writer) (func(), error) {
	dir := qemuCacheDir()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("qemu: cache: %w", err)
	}
	f, err := os.OpenFile(filepath.Join(dir, ".lock"), os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, fmt.Errorf("qemu: cache: %w", err)
	}
	for try := 0; ; try++ {
		err := unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB)
		if err == nil {
			return func() { f.Close() }, nil
		}
		if err != unix.EWOULDBLOCK && err != unix.EINTR {
			f.Close()
			return nil, fmt.Errorf("qemu: locking %s: %w", f.Name(), err)
		}
		if try == 0 && w != nil {
			fmt.Fprintf(w, "wordish: qemu: waiting for another wordish to prepare the cache in %s\n", dir)
		}
		select {
		case <-ctx.Done():
			f.Close()
			return nil, fmt.Errorf("qemu: waiting for another wordish to prepare the cache in %s: %w", dir, ctx.Err())
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// qemuTryLock takes the cache's lock if it is free.
func qemuTryLock() (func(), bool) {
	f, err := os.OpenFile(filepath.Join(qemuCacheDir(), ".lock"), os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, false
	}
	if unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB) != nil {
		f.Close()
		return nil, false
	}
	return func() { f.Close() }, true
}

// qemuKernelPackage asks apt which kernel package linux-image-amd64
// depends on, updating the package lists once if apt does not know.
func qemuKernelPackage(ctx context.Context) (string, error) {
	if p := os.Getenv("WORDISH_QEMU_KERNEL_PKG"); p != "" {
		return p, nil
	}
	re := regexp.MustCompile(`Depends: (linux-image-[0-9][^ \n]*-amd64)\b`)
	for try := 0; try < 2; try++ {
		out, _ := exec.CommandContext(ctx, "apt-cache", "depends", "linux-image-amd64").Output()
		if m := re.FindSubmatch(out); m != nil {
			return string(m[1]), nil
		}
		if try == 0 {
			exec.CommandContext(ctx, "apt-get", "-q", "-o", "DPkg::Lock::Timeout=300", "update").Run()
		}
	}
	return "", errors.New("qemu: apt-cache cannot tell which package linux-image-amd64 depends on (is this Debian, with its package lists?)")
}

// qemuFetchKernel downloads and unpacks the kernel into the cache and
// makes it current. The caller holds the lock.
func qemuFetchKernel(ctx context.Context, pkg string, w io.Writer) error {
	if w == nil {
		w = io.Discard
	}
	dir := qemuCacheDir()
	tmp, err := os.MkdirTemp(dir, "build-")
	if err != nil {
		return fmt.Errorf("qemu: cache: %w", err)
	}
	defer os.RemoveAll(tmp)
	start := time.Now()
	fmt.Fprintf(w, "wordish: qemu: downloading the guest kernel %s (once, about 70 MB) into %s\n", pkg, dir)
	dl := func() error {
		c := exec.CommandContext(ctx, "apt-get", "-q", "-o", "APT::Sandbox::User=root", "download", pkg)
		c.Dir = tmp
		out, err := c.CombinedOutput()
		if err != nil {
			return fmt.Errorf("apt-get download %s: %v: %s", pkg, err, lastLine(string(out)))
		}
		return nil
	}
	if err := dl(); err != nil {
		exec.CommandContext(ctx, "apt-get", "-q", "-o", "DPkg::Lock::Timeout=300", "update").Run()
		if err := dl(); err != nil {
			return fmt.Errorf("qemu: %w", err)
		}
	}
	debs, _ := filepath.Glob(filepath.Join(tmp, "*.deb"))
	if len(debs) != 1 {
		return fmt.Errorf("qemu: apt-get download %s left %d .deb files", pkg, len(debs))
	}
	st, _ := os.Stat(debs[0])
	fmt.Fprintf(w, "wordish: qemu: downloaded %.1f MB in %.1f s; unpacking\n", float64(st.Size())/1e6, time.Since(start).Seconds())
	name := qemuKernelDirName(debs[0])
	kd := filepath.Join(tmp, "k")
	if err := qemuUnpackKernel(ctx, debs[0], kd); err != nil {
		return fmt.Errorf("qemu: unpacking %s: %w", filepath.Base(debs[0]), err)
	}
	os.Remove(debs[0])
	final := filepath.Join(dir, name)
	os.RemoveAll(final)
	if err := os.Rename(kd, final); err != nil {
		return fmt.Errorf("qemu: cache: %w", err)
	}
	if err := writeFileAtomic(filepath.Join(dir, "current"), []byte(name+"\n")); err != nil {
		return fmt.Errorf("qemu: cache: %w", err)
	}
	fmt.Fprintf(w, "wordish: qemu: guest kernel ready in %.1f s\n", time.Since(start).Seconds())
	return nil
}

// qemuUnpackKernel unpacks the kernel image, its config and the modules
// worth keeping from deb into dir, writes modules.dep, and extracts the
// ELF vmlinux.
func qemuUnpackKernel(ctx context.Context, deb, dir string) error {
	c := exec.CommandContext(ctx, "dpkg-deb", "--fsys-tarfile", deb)
	var stderr bytes.Buffer
	c.Stderr = &stderr
	tr, err := c.StdoutPipe()
	if err != nil {
		return err
	}
	if err := c.Start(); err != nil {
		return err
	}
	rel, uerr := qemuUntarKernel(tr, dir)
	io.Copy(io.Discard, tr)
	if err := c.Wait(); err != nil {
		return fmt.Errorf("dpkg-deb: %v: %s", err, lastLine(stderr.String()))
	}
	if uerr != nil {
		return uerr
	}
	if err := qemuPruneModules(filepath.Join(dir, "modules")); err != nil {
		return err
	}
	// modules.dep, for busybox modprobe in the guest (the package has none:
	// Debian's postinst runs depmod); busybox depmod wants the tree at
	// ROOT/lib/modules/RELEASE
	dm := filepath.Join(dir, "depmod")
	if err := os.MkdirAll(filepath.Join(dm, "lib/modules"), 0o755); err != nil {
		return err
	}
	if err := os.Symlink("../../../modules", filepath.Join(dm, "lib/modules", rel)); err != nil {
		return err
	}
	if out, err := exec.CommandContext(ctx, "/bin/busybox", "depmod", "-b", dm, rel).CombinedOutput(); err != nil {
		return fmt.Errorf("busybox depmod: %v: %s", err, lastLine(string(out)))
	}
	os.RemoveAll(dm)
	if err := qemuExtractVmlinux(ctx, dir); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, "release"), []byte(rel+"\n"), 0o644)
}

// qemuUntarKernel reads the package's data tar: boot/vmlinuz-*,
// boot/config-* and lib/modules/RELEASE/ go to dir as vmlinuz, config and
// modules/. It returns the release.
func qemuUntarKernel(r io.Reader, dir string) (string, error) {
	if err := os.MkdirAll(filepath.Join(dir, "modules"), 0o755); err != nil {
		return "", err
	}
	rel := ""
	tr := tar.NewReader(r)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return "", err
		}
		name := strings.TrimPrefix(path.Clean("/"+h.Name), "/")
		var dst string
		switch {
		case strings.HasPrefix(name, "boot/vmlinuz-"):
			dst = filepath.Join(dir, "vmlinuz")
			r := strings.TrimPrefix(name, "boot/vmlinuz-")
			if rel != "" && rel != r {
				return "", fmt.Errorf("two kernel releases in the package: %s and %s", rel, r)
			}
			rel = r
		case strings.HasPrefix(name, "boot/config-"):
			dst = filepath.Join(dir, "config")
		case strings.HasPrefix(name, "lib/modules/"):
			rest := strings.TrimPrefix(name, "lib/modules/")
			_, sub, ok := strings.Cut(rest, "/")
			if !ok || sub == "" {
				continue
			}
			dst = filepath.Join(dir, "modules", filepath.FromSlash(sub))
		default:
			continue
		}
		if h.Typeflag != tar.TypeReg {
			continue // directories are made as needed; the package has no links there
		}
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			return "", err
		}
		f, err := os.Create(dst)
		if err != nil {
			return "", err
		}
		if _, err := io.Copy(f, tr); err != nil {
			f.Close()
			return "", err
		}
		if err := f.Close(); err != nil {
			return "", err
		}
	}
	if rel == "" {
		return "", errors.New("no boot/vmlinuz-* in the package")
	}
	return rel, nil
}

// qemuExtractVmlinux writes dir/vmlinux, the ELF kernel inside the
// bzImage's xz payload, when the kernel can boot it through its PVH entry
// (CONFIG_PVH), because the kernel's own xz decompression is slow under
// TCG. The payload has an x86 BCJ filter, which the served Go xz module
// cannot read, so xz(1) does it. Without xz, or for a kernel that is not
// xz-compressed, qemu boots the bzImage (slower).
func qemuExtractVmlinux(ctx context.Context, dir string) error {
	cfg, _ := os.ReadFile(filepath.Join(dir, "config"))
	if !bytes.Contains(cfg, []byte("\nCONFIG_PVH=y\n")) {
		return nil
	}
	xz, err := exec.LookPath("xz")
	if err != nil {
		return nil
	}
	img, err := os.ReadFile(filepath.Join(dir, "vmlinuz"))
	if err != nil {
		return err
	}
	i := bytes.Index(img, []byte("\xfd7zXZ\x00"))
	if i < 0 {
		return nil
	}
	out, err := os.Create(filepath.Join(dir, "vmlinux.new"))
	if err != nil {
		return err
	}
	defer os.Remove(out.Name())
	c := exec.CommandContext(ctx, xz, "-dc", "--single-stream")
	c.Stdin = bytes.NewReader(img[i:])
	c.Stdout = out
	var stderr bytes.Buffer
	c.Stderr = &stderr
	err = c.Run()
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		// xz stops at the end of the stream, and complains about what
		// follows only without --single-stream; any failure: bzImage
		return nil
	}
	head := make([]byte, 4)
	if f, err := os.Open(out.Name()); err == nil {
		io.ReadFull(f, head)
		f.Close()
	}
	if string(head) != "\x7fELF" {
		return nil
	}
	return os.Rename(out.Name(), filepath.Join(dir, "vmlinux"))
}

// qemuInitrdKey names the initramfs: a hash of what goes into it, so that
// a new wordish (another init script, other modules) or another busybox
// makes a new one beside the old.
func qemuInitrdKey() string {
	h := sha256.New()
	h.Write(qemuInit)
	fmt.Fprintln(h, strings.Join(qemuBootModules, " "))
	if st, err := os.Stat("/bin/busybox"); err == nil {
		fmt.Fprintln(h, st.Size(), st.ModTime().UnixNano())
	}
	return hex.EncodeToString(h.Sum(nil))[:16]
}

// qemuWriteInitrd writes k.Initrd: /init (qemu_init.sh), busybox, and the
// boot modules in m/, listed in load order in m/list. Not compressed: qemu
// copies it into guest memory at host speed, while gunzip in the guest
// would run emulated. The caller holds the lock.
func qemuWriteInitrd(k *qemuKernel) error {
	tree := k.Modules()
	mods, err := qemuScanModules(tree)
	if err != nil {
		return err
	}
	order, err := qemuLoadOrder(mods, qemuBuiltin(tree), qemuBootModules)
	if err != nil {
		return err
	}
	bb, err := os.ReadFile("/bin/busybox")
	if err != nil {
		return fmt.Errorf("%w (apt-get install busybox-static)", err)
	}
	var buf bytes.Buffer
	cw := newCPIOWriter(&buf)
	for _, d := range []string{"bin", "dev", "proc", "sys", "m", "lower", "ov", "newroot", "run"} {
		cw.Dir(d, 0o755)
	}
	cw.File("init", 0o755, qemuInit)
	cw.File("bin/busybox", 0o755, bb)
	var list strings.Builder
	for _, m := range order {
		data, err := os.ReadFile(filepath.Join(tree, filepath.FromSlash(m.Path)))
		if err != nil {
			return err
		}
		name := qemuModName(m.Path) + ".ko"
		cw.File("m/"+name, 0o644, qemuFastModule(data))
		list.WriteString(name + "\n")
	}
	cw.File("m/list", 0o644, []byte(list.String()))
	if err := cw.Close(); err != nil {
		return err
	}
	return writeFileAtomic(k.Initrd, buf.Bytes())
}
