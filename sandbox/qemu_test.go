//go:build linux && amd64

package sandbox

import (
	"bytes"
	"errors"
	"strings"
	"testing"
)

func testQemuConfig() qemuConfig {
	k := &qemuKernel{Dir: "/cache/kernel-x", Release: "6.1.0-9-amd64", Image: "/cache/kernel-x/vmlinux", Initrd: "/cache/kernel-x/initrd-abc.cpio"}
	return qemuConfig{Kernel: k, Memory: "1024M", RunDir: "/tmp/wordish-vm-1", Empty: "/cache/empty"}
}

// argAfter returns the values that follow each occurrence of flag.
func argAfter(args []string, flag string) []string {
	var v []string
	for i := 0; i+1 < len(args); i++ {
		if args[i] == flag {
			v = append(v, args[i+1])
		}
	}
	return v
}

func TestQemuArgs(t *testing.T) {
	c := testQemuConfig()
	c.Shares = []string{"/srv/a,b", "/srv/c"}
	args := qemuArgs(c)
	join := strings.Join(args, " ")
	for _, want := range []string{
		"-accel tcg,thread=single -cpu Westmere", "-m 1024M", "-kernel /cache/kernel-x/vmlinux", "-initrd /cache/kernel-x/initrd-abc.cpio",
		"-no-reboot", "-nodefaults",
		"-chardev file,id=con,path=/dev/fd/3", "-chardev file,id=so,path=/dev/fd/4", "-chardev file,id=se,path=/dev/fd/5",
		"-chardev pipe,id=ctl,path=/tmp/wordish-vm-1/ctl",
		"-fsdev local,id=r,path=/,readonly=on,", "mount_tag=hostroot",
		"-fsdev local,id=h,path=/tmp/wordish-vm-1,", "mount_tag=vmhost",
		// a comma in a path is doubled; the unused slots are the empty directory, read-only
		"-fsdev local,id=w0,path=/srv/a,,b,security_model", "-fsdev local,id=w1,path=/srv/c,security_model",
		"-fsdev local,id=w2,path=/cache/empty,readonly=on,", "-fsdev local,id=w3,path=/cache/empty,readonly=on,",
		"name=wq.stdout", "name=wq.stderr", "virtconsole,chardev=to,name=wq.ttyout", "virtconsole,chardev=te,name=wq.ttyerr",
	} {
		if !strings.Contains(join, want) {
			t.Errorf("command line lacks %q:\n%s", want, join)
		}
	}
	if n := len(argAfter(args, "-fsdev")); n != 2+qemuSlots {
		t.Errorf("%d -fsdev, want %d", n, 2+qemuSlots)
	}
	if app := argAfter(args, "-append"); len(app) != 1 || !strings.HasSuffix(app[0], "wq_snap=0") || !strings.HasPrefix(app[0], "console=ttyS0 ") {
		t.Errorf("-append %q", app)
	}

	c.KVM, c.Snap = true, true
	c.Shares = []string{"/1", "/2", "/3", "/4", "/5", "/6"}
	args = qemuArgs(c)
	if a := argAfter(args, "-accel"); len(a) != 1 || a[0] != "kvm" {
		t.Errorf("KVM: -accel %v", a)
	}
	if a := argAfter(args, "-cpu"); len(a) != 1 || a[0] != "host" {
		t.Errorf("KVM: -cpu %v", a)
	}
	if n := len(argAfter(args, "-fsdev")); n != 2+6 {
		t.Errorf("6 shares: %d -fsdev, want 8", n)
	}
	if app := argAfter(args, "-append"); !strings.HasSuffix(app[0], "wq_snap=1") {
		t.Errorf("Snap: -append %q", app)
	}
}

// TestQemuSnapshotKey: a saved guest fits every run with the same
// devices, whatever its run directory and shares (up to qemuSlots), and
// no other.
func TestQemuSnapshotKey(t *testing.T) {
	base := testQemuConfig()
	key := qemuSnapshot(base)
	if !strings.HasPrefix(key, "/cache/kernel-x/snapshot-") {
		t.Fatalf("snapshot %q, want one in the kernel directory", key)
	}
	same := base
	same.RunDir, same.Shares = "/tmp/other", []string{"/a", "/b", "/c", "/d"}
	if got := qemuSnapshot(same); got != key {
		t.Errorf("another run directory and shares: %s, want %s", got, key)
	}
	for name, change := range map[string]func(*qemuConfig){
		"memory":    func(c *qemuConfig) { c.Memory = "512M" },
		"KVM":       func(c *qemuConfig) { c.KVM = true },
		"initramfs": func(c *qemuConfig) { k := *c.Kernel; k.Initrd = "/cache/kernel-x/initrd-def.cpio"; c.Kernel = &k },
		"kernel":    func(c *qemuConfig) { k := *c.Kernel; k.Image = "/cache/kernel-y/vmlinux"; c.Kernel = &k },
	} {
		c := base
		change(&c)
		if got := qemuSnapshot(c); got == key || got == "" {
			t.Errorf("%s changed: snapshot %q, want another than %q", name, got, key)
		}
	}
	more := base
	more.Shares = []string{"/1", "/2", "/3", "/4", "/5"}
	if got := qemuSnapshot(more); got != "" {
		t.Errorf("%d shares: snapshot %q, want none (they do not fit the saved devices)", len(more.Shares), got)
	}
}

func TestQemuWatch(t *testing.T) {
	w := newQemuWatch()
	resumed := w.seen("wordish-qemu: resumed")
	w.Write([]byte("[    0.1] boot\r\nwordish-qemu: res"))
	select {
	case <-resumed:
		t.Fatal("seen before the line was complete")
	default:
	}
	w.Write([]byte("umed\r\nmore"))
	select {
	case <-resumed:
	default:
		t.Fatal("line not seen")
	}
	select {
	case <-w.seen("wordish-qemu: resumed"):
	default:
		t.Error("a line seen before is not seen by a later waiter")
	}
}

func TestQemuDiagnose(t *testing.T) {
	for _, tc := range []struct{ console, qemuLog, want string }{
		{"[ 1.2] foo\n[ 1.3] Kernel panic - not syncing: VFS: Unable to mount root fs\n", "", "guest kernel panic: VFS: Unable to mount root fs"},
		{"wordish-qemu initramfs: insmod 9p.ko\n", "", "guest init failed: insmod 9p.ko"},
		{"wordish-qemu init: ready at 1.2s\nwordish-qemu init: share /srv/x\n", "", "guest init failed: share /srv/x"},
		{"", "qemu-system-x86_64: -m 99T: ram size too large\n", "qemu said: qemu-system-x86_64: -m 99T: ram size too large"},
		{"wordish-qemu init: ready at 1.2s\n", "", "the guest reported no exit status"},
	} {
		if got := qemuDiagnose(tc.console, tc.qemuLog); got != tc.want {
			t.Errorf("qemuDiagnose(%q, %q) = %q, want %q", tc.console, tc.qemuLog, got, tc.want)
		}
	}
}

func TestQemuEndWriter(t *testing.T) {
	nonce := []byte("\x00NONCE-0123456789")
	for _, tc := range []struct {
		name   string
		chunks []string
		want   string
		seen   bool
	}{
		{"nonce alone", []string{"hello\n", string(nonce)}, "hello\n", true},
		{"nonce split", []string{"hello\n\x00NON", "CE-0123", "456789"}, "hello\n", true},
		{"nonce glued", []string{"a\n" + string(nonce)}, "a\n", true},
		{"after the nonce", []string{"a" + string(nonce) + "late"}, "alate", true},
		{"no nonce", []string{"a\x00NON"}, "a\x00NON", false},
		{"almost", []string{"x\x00NONCE-012345678", "X"}, "x\x00NONCE-012345678X", false},
	} {
		var out bytes.Buffer
		e := newQemuEndWriter(&out, nonce)
		for _, c := range tc.chunks {
			if n, err := e.Write([]byte(c)); n != len(c) || err != nil {
				t.Fatalf("%s: Write = %d, %v", tc.name, n, err)
			}
		}
		seen := false
		select {
		case <-e.seen:
			seen = true
		default:
		}
		e.flush()
		if out.String() != tc.want || seen != tc.seen {
			t.Errorf("%s: wrote %q, seen %v; want %q, %v", tc.name, out.String(), seen, tc.want, tc.seen)
		}
	}
	// text passes at once: nothing held back
	var out bytes.Buffer
	e := newQemuEndWriter(&out, nonce)
	e.Write([]byte("PASS step 1\n"))
	if out.String() != "PASS step 1\n" {
		t.Errorf("a line was held back: %q", out.String())
	}
	// a failing writer does not stop the reading
	e = newQemuEndWriter(failWriter{}, nonce)
	if n, err := e.Write([]byte("lost")); n != 4 || err != nil {
		t.Errorf("Write to a failing writer = %d, %v; want 4, nil", n, err)
	}
}

type failWriter struct{}

func (failWriter) Write([]byte) (int, error) { return 0, errors.New("closed") }
