package main

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// killArticle is an article whose one step drifts, with a long expected
// output that the rewrite makes short (so a rewrite in place has a tail
// to cut) behind half a megabyte of prose (so writing takes a while).
func killArticle() (old, new string) {
	var prose, stale strings.Builder
	for i := 0; i < 8000; i++ {
		fmt.Fprintf(&prose, "Paragraph line %d of the article, long enough to weigh.\n", i)
	}
	for i := 0; i < 2000; i++ {
		fmt.Fprintf(&stale, "stale output line %d\n", i)
	}
	head := "# Killed\n\n" + prose.String() + "\n```console\n$ echo new\n"
	return head + stale.String() + "```\n", head + "new\n```\n"
}

// killLayout is how the article sits in its directory: a plain file
// (rewritten by a rename), reached through a symbolic link, or with a
// second hard link (rewritten in place, after a backup).
type killLayout struct {
	name   string
	target string   // what update is given
	points []string // the kill points of its way of writing (update/write.go)
	// after is the content a kill at each point leaves: "old", "new", or
	// "backup" (neither, but the old content whole in a backup beside it).
	after map[string]string
}

var killLayouts = []killLayout{
	{"plain", "real.md", []string{"tmp-written", "tmp-synced", "renamed"},
		map[string]string{"tmp-written": "old", "tmp-synced": "old", "renamed": "new"}},
	{"symlink", "link.md", []string{"tmp-written", "tmp-synced", "renamed"},
		map[string]string{"tmp-written": "old", "tmp-synced": "old", "renamed": "new"}},
	{"hardlink", "real.md", []string{"backup-synced", "in-place-written", "in-place-synced"},
		map[string]string{"backup-synced": "old", "in-place-written": "backup", "in-place-synced": "new"}},
}

// setUp writes the article of layout l in a fresh directory, with the
// mode 4751 and (as root) the owner nobody.
func (l killLayout) setUp(t *testing.T, old string) string {
	t.Helper()
	dir := t.TempDir()
	art := filepath.Join(dir, "real.md")
	if err := os.WriteFile(art, []byte(old), 0o644); err != nil {
		t.Fatal(err)
	}
	switch l.name {
	case "symlink":
		if err := os.Symlink("real.md", filepath.Join(dir, "link.md")); err != nil {
			t.Fatal(err)
		}
	case "hardlink":
		if err := os.Link(art, filepath.Join(dir, "hard.md")); err != nil {
			t.Fatal(err)
		}
	}
	if os.Geteuid() == 0 {
		os.Chown(art, 65534, 65534)
	}
	syscall.Chmod(art, 0o4751) // after chown, which clears set-user-ID
	os.Mkdir(filepath.Join(dir, "work"), 0o755)
	return dir
}

// check says what a (killed) update left in dir: "old", "new" or
// "backup", failing the test when it is anything else, or when the mode,
// the owner, the link or the hard links did not survive.
func (l killLayout) check(t *testing.T, dir, old, new string) string {
	t.Helper()
	art := filepath.Join(dir, "real.md")
	got, err := os.ReadFile(filepath.Join(dir, l.target))
	if err != nil {
		t.Fatalf("%s: the article is gone: %v", l.name, err)
	}
	var st syscall.Stat_t
	if err := syscall.Stat(art, &st); err != nil {
		t.Fatal(err)
	}
	links := uint64(1)
	if l.name == "hardlink" {
		links = 2
		if other, _ := os.ReadFile(filepath.Join(dir, "hard.md")); !bytes.Equal(other, got) {
			t.Errorf("%s: the two hard links differ", l.name)
		}
	}
	if st.Mode&0o7777 != 0o4751 || uint64(st.Nlink) != links || os.Geteuid() == 0 && (st.Uid != 65534 || st.Gid != 65534) {
		t.Errorf("%s: mode %o, %d links, owner %d:%d; want 4751, %d, 65534:65534", l.name, st.Mode&0o7777, st.Nlink, links, st.Uid, st.Gid)
	}
	if l.name == "symlink" {
		if fi, err := os.Lstat(filepath.Join(dir, "link.md")); err != nil || fi.Mode()&os.ModeSymlink == 0 {
			t.Errorf("%s: the link is no longer a link", l.name)
		}
	}
	switch string(got) {
	case old:
		return "old"
	case new:
		return "new"
	}
	backups, _ := filepath.Glob(filepath.Join(dir, ".real.md.wordish-backup-*"))
	for _, b := range backups {
		if data, _ := os.ReadFile(b); string(data) == old {
			return "backup"
		}
	}
	t.Errorf("%s: the article is neither the old nor the new one (%d bytes; old %d, new %d), and no backup holds the old one", l.name, len(got), len(old), len(new))
	return "damaged"
}

// update starts `wordish update` of the layout's article in dir, with
// WORDISH_TEST_KILL_AT=point when point is not "".
func (l killLayout) update(dir, point string) *exec.Cmd {
	cmd := exec.Command(binary, "update", "--workdir", filepath.Join(dir, "work"), l.target)
	cmd.Dir = dir
	cmd.Env = testEnv()
	if point != "" {
		cmd.Env = append(cmd.Env, "WORDISH_TEST_KILL_AT="+point)
	}
	return cmd
}

// TestUpdateKilled: SIGKILL at any moment of `wordish update` leaves the
// article byte for byte as it was or as rewritten, with its mode, owner,
// symbolic link and hard links (issue 10). First at each point of both
// ways of writing (update/write.go kills itself there when asked), then
// from outside, at delays spread over a whole update and beyond. A file with hard
// links cannot be replaced atomically: a kill while it is rewritten in
// place leaves the old content whole in a backup beside it.
func TestUpdateKilled(t *testing.T) {
	if testing.Short() {
		t.Skip("runs wordish update many times")
	}
	old, new := killArticle()
	for _, l := range killLayouts {
		t.Run(l.name, func(t *testing.T) {
			for _, point := range l.points {
				dir := l.setUp(t, old)
				err := l.update(dir, point).Run()
				ee, ok := err.(*exec.ExitError)
				if !ok || ee.Sys().(syscall.WaitStatus).Signal() != syscall.SIGKILL {
					t.Fatalf("at %s: %v, want killed there (is the point still in update/write.go?)", point, err)
				}
				got := l.check(t, dir, old, new)
				if got != l.after[point] {
					t.Errorf("killed at %s: left %s, want %s", point, got, l.after[point])
				}
				if got == "backup" {
					// The next update must neither read the half-written
					// article nor write over it.
					before, _ := os.ReadFile(filepath.Join(dir, "real.md"))
					out, err := l.update(dir, "").CombinedOutput()
					after, _ := os.ReadFile(filepath.Join(dir, "real.md"))
					if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 2 || !bytes.Contains(out, []byte("an earlier wordish update of this file was interrupted")) || !bytes.Equal(before, after) {
						t.Errorf("update after a kill in place: %v\n%s", err, out)
					}
				}
			}

			// Unkilled, to time a whole update.
			dir := l.setUp(t, old)
			start := time.Now()
			if out, err := l.update(dir, "").CombinedOutput(); err != nil {
				t.Fatalf("update: %v\n%s", err, out)
			}
			whole := time.Since(start)
			if got := l.check(t, dir, old, new); got != "new" {
				t.Fatalf("update left %s", got)
			}

			const tries = 24
			seen := map[string]int{}
			for i := 0; i < tries; i++ {
				dir := l.setUp(t, old)
				cmd := l.update(dir, "")
				if err := cmd.Start(); err != nil {
					t.Fatal(err)
				}
				time.Sleep(whole * 3 / 2 * time.Duration(i) / tries) // past the end too
				cmd.Process.Signal(syscall.SIGKILL)
				cmd.Wait()
				seen[l.check(t, dir, old, new)]++
			}
			t.Logf("%d kills over %v: %v", tries, whole, seen)
		})
	}
}
