package sandbox

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
)

// cpioEntry is one entry read back from a newc archive.
type cpioEntry struct {
	name string
	mode uint32
	data []byte
}

// readNewc decodes a newc archive up to its trailer, checking the
// magic and the 4-byte alignment of every name and data.
func readNewc(t *testing.T, b []byte) []cpioEntry {
	t.Helper()
	var out []cpioEntry
	off := 0
	field := func(i int) int {
		v, err := strconv.ParseUint(string(b[off+6+8*i:off+14+8*i]), 16, 32)
		if err != nil {
			t.Fatalf("offset %d: field %d: %v", off, i, err)
		}
		return int(v)
	}
	for {
		if off%4 != 0 {
			t.Fatalf("entry at offset %d: not 4-byte aligned", off)
		}
		if len(b) < off+110 || string(b[off:off+6]) != "070701" {
			t.Fatalf("offset %d: no newc header", off)
		}
		mode, size, namesize := field(1), field(6), field(11)
		name := string(b[off+110 : off+110+namesize-1])
		if b[off+110+namesize-1] != 0 {
			t.Fatalf("%s: name not NUL-terminated", name)
		}
		d := off + 110 + namesize
		d += (4 - d%4) % 4
		if name == "TRAILER!!!" {
			if end := d; end != len(b) {
				t.Errorf("%d bytes after the trailer", len(b)-end)
			}
			return out
		}
		out = append(out, cpioEntry{name, uint32(mode), b[d : d+size]})
		off = d + size
		off += (4 - off%4) % 4
	}
}

func TestCPIOWriter(t *testing.T) {
	var buf bytes.Buffer
	w := newCPIOWriter(&buf)
	want := []cpioEntry{
		{"bin", cpioDir | 0o755, nil},
		{"init", cpioFile | 0o755, []byte("#!/bin/sh\necho hi\n")},
		{"bin/odd-name.ko", cpioFile | 0o644, []byte("12345")}, // sizes that need padding
		{"empty", cpioFile | 0o600, nil},
	}
	for _, e := range want {
		var err error
		if e.mode&cpioDir != 0 {
			err = w.Dir(e.name, e.mode&0o7777)
		} else {
			err = w.File(e.name, e.mode&0o7777, e.data)
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	if err := w.File("init", 0o644, nil); err == nil {
		t.Error("adding init twice: no error")
	}
	for _, bad := range []string{"", "/abs", "nul\x00"} {
		if err := newCPIOWriter(&bytes.Buffer{}).File(bad, 0o644, nil); err == nil {
			t.Errorf("name %q: no error", bad)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	got := readNewc(t, buf.Bytes())
	if len(got) != len(want) {
		t.Fatalf("%d entries, want %d", len(got), len(want))
	}
	for i := range want {
		if got[i].name != want[i].name || got[i].mode != want[i].mode || !bytes.Equal(got[i].data, want[i].data) {
			t.Errorf("entry %d = %q %o %q, want %q %o %q", i, got[i].name, got[i].mode, got[i].data, want[i].name, want[i].mode, want[i].data)
		}
	}

	// and another cpio reads it the same, where there is one
	if _, err := os.Stat("/bin/busybox"); err != nil {
		return
	}
	dir := t.TempDir()
	c := exec.Command("/bin/busybox", "cpio", "-i", "-d")
	c.Dir, c.Stdin = dir, bytes.NewReader(buf.Bytes())
	if out, err := c.CombinedOutput(); err != nil {
		t.Fatalf("busybox cpio -i: %v: %s", err, out)
	}
	for _, e := range want[1:] {
		data, err := os.ReadFile(filepath.Join(dir, e.name))
		if err != nil || !bytes.Equal(data, e.data) {
			t.Errorf("busybox cpio: %s = %q, %v; want %q", e.name, data, err, e.data)
		}
	}
}
