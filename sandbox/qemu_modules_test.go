//go:build linux && amd64

package sandbox

import (
	"bytes"
	"debug/elf"
	"encoding/binary"
	"os"
	"strings"
	"testing"
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
