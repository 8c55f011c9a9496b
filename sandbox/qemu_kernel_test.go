//go:build linux && amd64

package sandbox

import (
	"archive/tar"
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestQemuUntarKernel(t *testing.T) {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	add := func(name, data string, typ byte) {
		tw.WriteHeader(&tar.Header{Name: name, Typeflag: typ, Size: int64(len(data)), Mode: 0o644})
		tw.Write([]byte(data))
	}
	add("./boot/", "", tar.TypeDir)
	add("./boot/vmlinuz-6.1.0-9-amd64", "kernel", tar.TypeReg)
	add("./boot/config-6.1.0-9-amd64", "CONFIG_PVH=y", tar.TypeReg)
	add("./boot/System.map-6.1.0-9-amd64", "map", tar.TypeReg)
	add("./lib/modules/6.1.0-9-amd64/kernel/fs/ext4/ext4.ko", "ext4", tar.TypeReg)
	add("./lib/modules/6.1.0-9-amd64/modules.builtin", "kernel/lib/crc16.ko\n", tar.TypeReg)
	add("./usr/share/doc/linux-image/changelog.gz", "doc", tar.TypeReg)
	add("./lib/modules/6.1.0-9-amd64/../../../etc/passwd", "escape", tar.TypeReg)
	tw.Close()
	dir := t.TempDir()
	rel, err := qemuUntarKernel(&buf, dir)
	if err != nil || rel != "6.1.0-9-amd64" {
		t.Fatalf("release %q, err %v", rel, err)
	}
	for name, want := range map[string]string{
		"vmlinuz": "kernel", "config": "CONFIG_PVH=y",
		"modules/kernel/fs/ext4/ext4.ko": "ext4", "modules/modules.builtin": "kernel/lib/crc16.ko\n",
	} {
		if data, err := os.ReadFile(filepath.Join(dir, name)); err != nil || string(data) != want {
			t.Errorf("%s = %q, %v; want %q", name, data, err, want)
		}
	}
	var files []string
	filepath.WalkDir(filepath.Dir(dir), func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			files = append(files, p)
		}
		return nil
	})
	if len(files) != 4 {
		t.Errorf("files written: %v, want the 4 above", files)
	}
	if !qemuBuiltin(filepath.Join(dir, "modules"))["crc16"] {
		t.Error("qemuBuiltin: crc16 not built in")
	}
	if _, err := qemuUntarKernel(bytes.NewReader(nil), t.TempDir()); err == nil {
		t.Error("empty package: no error")
	}
}

func TestQemuCacheDir(t *testing.T) {
	x := t.TempDir()
	t.Setenv("XDG_CACHE_HOME", x)
	if got, want := qemuCacheDir(), filepath.Join(x, "wordish", "qemu"); got != want {
		t.Errorf("qemuCacheDir() = %s, want %s", got, want)
	}
	if _, err := qemuLoadKernel(context.Background()); err != errNoKernel {
		t.Errorf("empty cache: err = %v, want errNoKernel", err)
	}
}

// TestQemuLock: one builder at a time, also within one process (flock
// locks belong to the open file), and a waiter gives up with its context.
func TestQemuLock(t *testing.T) {
	t.Setenv("XDG_CACHE_HOME", t.TempDir())
	unlock, err := qemuLock(context.Background(), nil)
	if err != nil {
		t.Fatal(err)
	}
	if u, ok := qemuTryLock(); ok {
		u()
		t.Fatal("qemuTryLock succeeded while the lock was held")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	if _, err := qemuLock(ctx, nil); err == nil || !strings.Contains(err.Error(), "another wordish") {
		t.Errorf("waiting past the context: err = %v", err)
	}
	unlock()
	u, ok := qemuTryLock()
	if !ok {
		t.Fatal("qemuTryLock failed after unlock")
	}
	u()
}
