package update

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"

	"golang.org/x/sys/unix"

	"github.com/wordish-go/wordish/parser"
	"github.com/wordish-go/wordish/runner"
)

// File runs Rewrite on doc and, when a step changed, writes the new
// source back to the article (writeBack): the file doc.Path names, through
// symbolic links, keeping its mode, owner and hard links, and only if it
// still holds what the replay read. A failed write changes nothing and
// returns 0 steps changed.
func File(doc *parser.Document, results []*runner.StepResult) (changed int, err error) {
	src, changed, err := Rewrite(doc, results)
	if err != nil || changed == 0 {
		return 0, err
	}
	if err := writeBack(doc.Path, doc.Source, src); err != nil {
		return 0, err
	}
	return changed, nil
}

// writeBack replaces the content of the article at path, orig when the
// replay read it, with data. A kill -9 at any moment leaves the old or the
// new content: the new one is written whole to a temporary file in the
// same directory, given the article's mode and owner, synced, then
// renamed over it. A file with hard links (or whose owner cannot be
// given to another file) is rewritten in place instead, which keeps the
// links but cannot be atomic: a complete copy of the old content is
// kept next to it (.NAME.wordish-backup-*) from before the first byte
// changes until the new content is synced, so that a kill in between
// leaves the old content there. (TestUpdateKilled, in cmd/wordish,
// kills wordish at each step of both ways.)
func writeBack(path string, orig, data []byte) error {
	real, err := filepath.EvalSymlinks(path)
	if err != nil {
		return err
	}
	if err := Interrupted(real); err != nil {
		return err
	}
	cur, err := os.ReadFile(real)
	if err != nil {
		return err
	}
	if !bytes.Equal(cur, orig) {
		return fmt.Errorf("%s: changed on disk since wordish read it; not rewritten (run wordish update again)", path)
	}
	var st unix.Stat_t
	if err := unix.Stat(real, &st); err != nil {
		return &os.PathError{Op: "stat", Path: real, Err: err}
	}
	if st.Nlink > 1 {
		return rewriteInPlace(real, cur, data)
	}
	dir := filepath.Dir(real)
	f, err := os.CreateTemp(dir, "."+filepath.Base(real)+".wordish-*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	fail := func(err error) error {
		f.Close()
		os.Remove(tmp)
		return err
	}
	if _, err := f.Write(data); err != nil {
		return fail(err)
	}
	killPoint("tmp-written")
	// The owner first: chown clears the set-user-ID and set-group-ID bits.
	if err := f.Chown(int(st.Uid), int(st.Gid)); err != nil {
		f.Close()
		os.Remove(tmp)
		return rewriteInPlace(real, cur, data)
	}
	if err := unix.Fchmod(int(f.Fd()), st.Mode&0o7777); err != nil {
		return fail(err)
	}
	if err := f.Sync(); err != nil {
		return fail(err)
	}
	killPoint("tmp-synced")
	if err := f.Close(); err != nil {
		os.Remove(tmp)
		return err
	}
	if err := os.Rename(tmp, real); err != nil {
		os.Remove(tmp)
		return err
	}
	killPoint("renamed")
	if d, err := os.Open(dir); err == nil {
		d.Sync()
		d.Close()
	}
	return nil
}

// rewriteInPlace writes data over the file at path, which holds old, after
// a synced backup copy of old; the backup is removed once data is synced.
func rewriteInPlace(path string, old, data []byte) error {
	b, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".wordish-backup-*")
	if err != nil {
		return err
	}
	backup := b.Name()
	if _, err := b.Write(old); err == nil {
		err = b.Sync()
	}
	if cerr := b.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(backup)
		return err
	}
	killPoint("backup-synced")
	f, err := os.OpenFile(path, os.O_WRONLY, 0)
	if err != nil {
		os.Remove(backup)
		return err
	}
	_, err = f.WriteAt(data, 0)
	killPoint("in-place-written")
	if err == nil {
		err = f.Truncate(int64(len(data)))
	}
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		// Put the old content back; the backup stays if that fails too.
		if f, e := os.OpenFile(path, os.O_WRONLY, 0); e == nil {
			if _, e = f.WriteAt(old, 0); e == nil {
				e = f.Truncate(int64(len(old)))
			}
			if e == nil {
				e = f.Sync()
			}
			f.Close()
			if e == nil {
				os.Remove(backup)
			}
		}
		return fmt.Errorf("%s: rewriting in place: %w", path, err)
	}
	killPoint("in-place-synced")
	os.Remove(backup)
	return nil
}

// Interrupted returns an error when a rewrite in place of the article
// at path was killed: its backup is still beside it, so the article may
// be half written and the backup is the only whole copy of its old
// content. Nothing must read the article as it is, nor write over it,
// until the user has looked.
func Interrupted(path string) error {
	real, err := filepath.EvalSymlinks(path)
	if err != nil {
		real = path
	}
	backups, _ := filepath.Glob(filepath.Join(filepath.Dir(real), "."+globQuote(filepath.Base(real))+".wordish-backup-*"))
	if len(backups) == 0 {
		return nil
	}
	return &parser.Error{File: path, Msg: fmt.Sprintf("an earlier wordish update of this file was interrupted while rewriting it; its old content is in %s: check the article, then remove that file", backups[0])}
}

// globQuote escapes the pattern characters of name for filepath.Glob.
func globQuote(name string) string {
	var b []byte
	for i := 0; i < len(name); i++ {
		if c := name[i]; c == '*' || c == '?' || c == '[' || c == '\\' {
			b = append(b, '\\')
		}
		b = append(b, name[i])
	}
	return string(b)
}

// killAt names a point of writeBack where wordish kills itself with
// SIGKILL, for the test that shows what such a kill leaves
// (WORDISH_TEST_KILL_AT=renamed); unset in any real use.
var killAt = os.Getenv("WORDISH_TEST_KILL_AT")

func killPoint(name string) {
	if killAt == name {
		unix.Kill(unix.Getpid(), unix.SIGKILL)
	}
}
