package main

import (
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/fsnotify/fsnotify"
)

// wordish watch: replay articles again each time one is saved.

const watchUsage = `usage: wordish watch [flags] FILE...

Replay the articles as "wordish run" does, then replay again each one
that is saved (written, replaced or renamed over, as editors do), once
the saves have settled for a moment; the screen is cleared before each
replay. Ctrl-C ends it (during a replay: the running command is stopped
and the cleanup steps run first). Standard input must be a terminal.

Exit status: 130 after Ctrl-C (143 after SIGTERM), 2 for usage errors.

Flags:
`

// watchSettle is how long the files must stay quiet after a change
// before the replay starts: an editor's save is often several events
// (truncate, write, rename, chmod).
const watchSettle = 200 * time.Millisecond

func watchMain(args []string, stdout, stderr io.Writer) int {
	f, files, status, done := parseReplayFlags("watch", watchUsage, args, stdout, stderr)
	if done {
		return status
	}
	if f.sandbox != "" && f.sandbox != "host" {
		fmt.Fprintln(stderr, "wordish: watch: cannot be used with --sandbox")
		return exitUsage
	}
	if err := needTerminal("watch"); err != nil {
		fmt.Fprintf(stderr, "wordish: %v; use wordish run\n", err)
		return exitUsage
	}
	w, err := fsnotify.NewWatcher()
	if err != nil {
		fmt.Fprintf(stderr, "wordish: watch: %v\n", err)
		return exitUsage
	}
	defer w.Close()
	// Directories are watched, not the files: an editor that saves by
	// writing a new file and renaming it over the old one would end a
	// watch on the old file.
	names := map[string]bool{}
	dirs := map[string]bool{}
	abs := make([]string, len(files))
	for i, p := range files {
		a, err := filepath.Abs(p)
		if err != nil {
			fmt.Fprintf(stderr, "wordish: watch: %s: %v\n", p, err)
			return exitUsage
		}
		abs[i] = a
		names[a] = true
		if d := filepath.Dir(a); !dirs[d] {
			dirs[d] = true
			if err := w.Add(d); err != nil {
				fmt.Fprintf(stderr, "wordish: watch: %s: cannot watch its directory: %v\n", p, err)
				return exitUsage
			}
		}
	}
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM)
	defer signal.Stop(sigs)
	clear := isTerminal(stdout) && os.Getenv("TERM") != "dumb"
	run := files // all of them at first, then those saved
	for {
		if clear {
			io.WriteString(stdout, "\x1b[H\x1b[2J")
		}
		fmt.Fprintf(stdout, "wordish watch %s (%s)\n\n", strings.Join(run, " "), time.Now().Format("15:04:05"))
		replay(f, run, f.config(stdout, stderr))
		select {
		case s := <-sigs:
			return exitInterrupted + int(s.(syscall.Signal))
		default:
		}
		fmt.Fprintln(stdout, "\nwordish watch: replays when a file is saved; Ctrl-C to stop")
		changed, s := waitChange(w, names, sigs, stderr)
		if s != nil {
			return exitInterrupted + int(s.(syscall.Signal))
		}
		run = run[:0:0]
		for i, a := range abs {
			if changed[a] {
				run = append(run, files[i])
			}
		}
	}
}

// waitChange waits until watched files changed and then stayed quiet
// for watchSettle, and returns them (absolute paths); or the signal, if
// one came first.
func waitChange(w *fsnotify.Watcher, names map[string]bool, sigs <-chan os.Signal, stderr io.Writer) (map[string]bool, os.Signal) {
	var settle <-chan time.Time
	changed := map[string]bool{}
	for {
		select {
		case s := <-sigs:
			return nil, s
		case ev, ok := <-w.Events:
			if !ok {
				return nil, syscall.SIGTERM
			}
			if p := filepath.Clean(ev.Name); names[p] && ev.Op&(fsnotify.Write|fsnotify.Create|fsnotify.Rename|fsnotify.Remove) != 0 {
				changed[p] = true
				settle = time.After(watchSettle)
			}
		case err, ok := <-w.Errors:
			if ok {
				fmt.Fprintf(stderr, "wordish: watch: %v\n", err)
			}
		case <-settle:
			return changed, nil
		}
	}
}
