//go:build linux && amd64

package sandbox

import (
	"archive/tar"
	"bytes"
	"context"
	"debug/elf"
	"encoding/binary"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestQemuLoadOrder(t *testing.T) {
	mods := map[string]*qemuModule{
		"ext4":         {Path: "kernel/fs/ext4/ext4.ko", Depends: []string{"jbd2", "mbcache", "crc16"}},
		"jbd2":         {Path: "kernel/fs/jbd2/jbd2.ko"},
		"mbcache":      {Path: "kernel/fs/mbcache.ko"},
		"dm_snapshot":  {Path: "kernel/drivers/md/dm-snapshot.ko", Depends: []string{"dm_bufio", "dm_mod"}},
		"dm_bufio":     {Path: "kernel/drivers/md/dm-bufio.ko", Depends: []string{"dm_mod"}},
		"dm_mod":       {Path: "kernel/drivers/md/dm-mod.ko"},
		"broken":       {Path: "kernel/x/broken.ko", Depends: []string{"gone"}},
		"loop_a":       {Path: "a.ko", Depends: []string{"loop_b"}},
		"loop_b":       {Path: "b.ko", Depends: []string{"loop_a"}},
		"virtio_pci":   {Path: "kernel/drivers/virtio/virtio_pci.ko", Depends: []string{"virtio_ring"}},
		"virtio_ring":  {Path: "kernel/drivers/virtio/virtio_ring.ko"},
		"9pnet_virtio": {Path: "kernel/net/9p/9pnet_virtio.ko", Depends: []string{"virtio_ring", "9pnet"}},
		"9pnet":        {Path: "kernel/net/9p/9pnet.ko"},
	}
	builtin := map[string]bool{"crc16": true}
	for _, tc := range []struct {
		want  []string
		order string
		err   string
	}{
		{want: []string{"ext4"}, order: "jbd2 mbcache ext4"},
		{want: []string{"dm-snapshot", "dm_mod"}, order: "dm_mod dm_bufio dm_snapshot"},
		{want: []string{"virtio_pci", "9pnet_virtio"}, order: "virtio_ring virtio_pci 9pnet 9pnet_virtio"},
		{want: []string{"crc16"}, order: ""},
		{want: []string{"broken"}, err: "module gone (needed by broken) is not in the kernel package"},
		{want: []string{"nosuch"}, err: "module nosuch is not in the kernel package"},
		{want: []string{"loop_a"}, err: "dependency loop"},
	} {
		got, err := qemuLoadOrder(mods, builtin, tc.want)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("%v: err = %v, want %q", tc.want, err, tc.err)
			}
			continue
		}
		if err != nil {
			t.Errorf("%v: %v", tc.want, err)
			continue
		}
		var names []string
		for _, m := range got {
			names = append(names, qemuModName(m.Path))
		}
		if s := strings.Join(names, " "); s != tc.order {
			t.Errorf("%v: order %q, want %q", tc.want, s, tc.order)
		}
	}
}

func TestQemuStripSignature(t *testing.T) {
	const magic = "~Module signature appended~\n"
	elfPart := []byte("\x7fELF and the rest of the module")
	sig := bytes.Repeat([]byte{0xab}, 300)
	info := make([]byte, 12) // algo, hash, id_type, signer_len, key_id_len, pad[3], sig_len
	info[2] = 2              // PKCS#7
	binary.BigEndian.PutUint32(info[8:], uint32(len(sig)))
	signed := append(append(append(append([]byte{}, elfPart...), sig...), info...), magic...)
	for _, tc := range []struct {
		name string
		in   []byte
		want []byte
	}{
		{"signed", signed, elfPart},
		{"unsigned", elfPart, elfPart},
		{"bad length", append(append([]byte("x"), info...), magic...), append(append([]byte("x"), info...), magic...)},
	} {
		if got := qemuStripSignature(tc.in); !bytes.Equal(got, tc.want) {
			t.Errorf("%s: got %q, want %q", tc.name, got, tc.want)
		}
	}
}

func TestQemuHideSection(t *testing.T) {
	data, err := os.ReadFile("/proc/self/exe") // a 64-bit little-endian ELF file
	if err != nil {
		t.Skip(err)
	}
	if !qemuHideSection(data, ".gopclntab", ".gopclntaX") {
		t.Fatal("section .gopclntab not found")
	}
	f, err := elf.NewFile(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	if f.Section(".gopclntab") != nil || f.Section(".gopclntaX") == nil {
		t.Error("the section was not renamed")
	}
	if qemuHideSection(data, ".nosuch", ".nosucX") || qemuHideSection([]byte("not an ELF file, but long enough to look at it: 64 bytes and more"), ".BTF", ".btf") {
		t.Error("renamed what is not there")
	}
	if qemuHideSection(data, ".text", ".longer") {
		t.Error("renamed to a name of another length")
	}
}

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

func TestQemuWriteFileAtomic(t *testing.T) {
	dir := t.TempDir()
	name := filepath.Join(dir, "current")
	for _, data := range []string{"one\n", "two\n"} {
		if err := qemuWriteFileAtomic(name, []byte(data)); err != nil {
			t.Fatal(err)
		}
		if got, _ := os.ReadFile(name); string(got) != data {
			t.Errorf("got %q, want %q", got, data)
		}
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 1 {
		t.Errorf("temporary files left: %v", ents)
	}
}
