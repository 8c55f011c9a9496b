package wordish

import (
	"errors"
	"fmt"
	"io"
	"os"

	"golang.org/x/sys/unix"

	"github.com/wordish-go/wordish/parser"
	"github.com/wordish-go/wordish/update"
)

// defaultMaxSize bounds the documents wordish reads (--max-size).
const defaultMaxSize = 64 << 20

// readArticle reads the document at path, which must be a regular file of
// at most max bytes: a FIFO, a device or a huge file would hang or
// exhaust wordish, and the other documents with it. Opening does not
// block (O_NONBLOCK), so a FIFO named in place of an article is refused
// at once.
func readArticle(path string, max int64) ([]byte, error) {
	fail := func(msg string) error { return &parser.Error{File: path, Msg: msg} }
	fd, err := unix.Open(path, unix.O_RDONLY|unix.O_NONBLOCK|unix.O_CLOEXEC|unix.O_NOCTTY, 0)
	if err != nil {
		return nil, fail(err.Error())
	}
	f := os.NewFile(uintptr(fd), path)
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, fail(err.Error())
	}
	switch {
	case fi.IsDir():
		return nil, fail("is a directory")
	case !fi.Mode().IsRegular():
		return nil, fail(fmt.Sprintf("not a regular file (%s); wordish reads articles from regular files only", fileKind(fi.Mode())))
	case max > 0 && fi.Size() > max:
		return nil, fail(fmt.Sprintf("%d bytes, more than --max-size %d", fi.Size(), max))
	}
	limit := max
	if limit <= 0 {
		limit = 1 << 62
	}
	b, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil && !errors.Is(err, io.EOF) {
		return nil, fail(err.Error())
	}
	if int64(len(b)) > limit {
		return nil, fail(fmt.Sprintf("more than --max-size %d bytes", max))
	}
	return b, nil
}

func fileKind(m os.FileMode) string {
	switch {
	case m&os.ModeNamedPipe != 0:
		return "a FIFO"
	case m&os.ModeCharDevice != 0:
		return "a character device"
	case m&os.ModeDevice != 0:
		return "a block device"
	case m&os.ModeSocket != 0:
		return "a socket"
	}
	return m.Type().String()
}

// parseArticle is parser.ParseFile with readArticle's checks, refusing
// an article whose rewrite in place was killed (update.Interrupted).
func parseArticle(path string, cfg parser.Config, max int64) (*parser.Document, error) {
	if err := update.Interrupted(path); err != nil {
		return nil, err
	}
	src, err := readArticle(path, max)
	if err != nil {
		return nil, err
	}
	return parser.Parse(path, src, cfg)
}
