package sandbox

// A minimal writer of cpio archives in the "newc" format, the one the Linux
// kernel unpacks as an initramfs. No cpio library is served to this project
// (neither cavaliergopher/cpio nor u-root's pkg/cpio), and the kernel needs
// only regular files, directories and the trailer, so this is a small one.

import (
	"errors"
	"fmt"
	"io"
	"strings"
)

// cpioWriter writes a newc archive to w. Call Close to write the trailer.
type cpioWriter struct {
	w     io.Writer
	ino   uint32
	off   int64
	err   error
	names map[string]bool
}

func newCPIOWriter(w io.Writer) *cpioWriter {
	return &cpioWriter{w: w, ino: 1, names: map[string]bool{}}
}

// cpio mode bits for the entry types written here
const (
	cpioDir  = 0o040000
	cpioFile = 0o100000
)

// Dir adds a directory with permission bits perm.
func (c *cpioWriter) Dir(name string, perm uint32) error {
	return c.entry(name, cpioDir|perm&0o7777, nil)
}

// File adds a regular file with permission bits perm.
func (c *cpioWriter) File(name string, perm uint32, data []byte) error {
	return c.entry(name, cpioFile|perm&0o7777, data)
}

func (c *cpioWriter) entry(name string, mode uint32, data []byte) error {
	if c.err != nil {
		return c.err
	}
	if name == "" || strings.HasPrefix(name, "/") || strings.Contains(name, "\x00") {
		return fmt.Errorf("cpio: bad entry name %q", name)
	}
	if c.names[name] {
		return fmt.Errorf("cpio: %s added twice", name)
	}
	c.names[name] = true
	if int64(len(data)) > 0xffffffff {
		return fmt.Errorf("cpio: %s is too large", name)
	}
	nlink := 1
	if mode&cpioDir != 0 {
		nlink = 2
	}
	c.ino++
	c.write(cpioHeader(c.ino, mode, nlink, len(data), len(name)+1))
	c.write([]byte(name + "\x00"))
	c.pad()
	c.write(data)
	c.pad()
	return c.err
}

// cpioHeader is the 110-byte newc header: the magic and 13 fields of 8 hex
// digits (inode, mode, uid, gid, nlink, mtime, size, dev major/minor, rdev
// major/minor, name size, checksum). Owner root, mtime 0: the archive is
// the same for the same content.
func cpioHeader(ino, mode uint32, nlink, size, namesize int) []byte {
	return []byte(fmt.Sprintf("070701%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X",
		ino, mode, 0, 0, nlink, 0, size, 0, 0, 0, 0, namesize, 0))
}

// Close writes the trailer entry; it does not close the underlying writer.
func (c *cpioWriter) Close() error {
	if c.err != nil {
		return c.err
	}
	const trailer = "TRAILER!!!"
	c.write(cpioHeader(0, 0, 1, 0, len(trailer)+1))
	c.write([]byte(trailer + "\x00"))
	c.pad()
	if c.err == nil {
		c.err = errors.New("cpio: archive closed")
		return nil
	}
	return c.err
}

func (c *cpioWriter) write(p []byte) {
	if c.err != nil {
		return
	}
	n, err := c.w.Write(p)
	c.off += int64(n)
	c.err = err
}

// pad aligns the output to 4 bytes, as newc wants after names and data.
func (c *cpioWriter) pad() {
	if n := c.off % 4; n != 0 {
		c.write(make([]byte, 4-n))
	}
}
