package main

// `wordish run --sandbox vm`: the same run, replayed by this same binary
// inside a throwaway User-Mode Linux guest (the sandbox package). The guest's
// root filesystem is the host's / (read-only, under a copy-on-write
// overlay), so the binary, the documents and the current directory are all
// there at the same paths; the guest runs
//
//	WORDISH_IN_VM=1 /path/to/wordish run [the same flags] /abs/FILE...
//
// as root in the host's current directory. Its text report streams back
// live; --json and --junit files are written by the guest into the run's
// output directory and copied where they were asked for; the exit
// status is the guest's. SIGINT or SIGTERM asks the guest wordish to stop
// as the signal would on the host (interrupt the running command, run the
// cleanup steps, print the report); the guest is killed if it has not
// ended 20 s later. Nothing of the guest is left behind.
//
// WORDISH_VM_VERBOSE=1 shows the guest's console and the boot time on
// standard error.

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"

	"github.com/wordish-go/wordish/sandbox"
)

// sandboxRun replays the run subcommand inside a throwaway VM. args are the
// run subcommand's original arguments (flags and files, --sandbox flags included).
func sandboxRun(args []string) int {
	return sandboxMain("run", args, os.Stdout, os.Stderr)
}

// sandboxUpdate is sandboxRun for the update subcommand: the directories
// of the documents are shared with the guest read-write, so that its
// rewrites reach the host (and so do the article's own writes there).
func sandboxUpdate(args []string) int {
	return sandboxMain("update", args, os.Stdout, os.Stderr)
}

func sandboxMain(sub string, args []string, stdout, stderr io.Writer) int {
	self, err := os.Executable()
	if err != nil {
		fmt.Fprintf(stderr, "wordish: --sandbox vm: %v\n", err)
		return exitUsage
	}
	cwd, err := os.Getwd()
	if err != nil {
		fmt.Fprintf(stderr, "wordish: --sandbox vm: %v\n", err)
		return exitUsage
	}
	guestArgs, outputs, install, files := sandboxArgs(args)
	var shares []string
	if sub == "update" {
		seen := map[string]bool{}
		for _, f := range files {
			dir, err := filepath.Abs(filepath.Dir(f))
			if err != nil || seen[dir] {
				continue
			}
			seen[dir] = true
			shares = append(shares, dir)
		}
	}

	b := sandbox.Lookup("uml")
	if b == nil {
		fmt.Fprintf(stderr, "wordish: --sandbox vm: no sandbox backend on this platform\n")
		return exitUsage
	}
	cfg := sandbox.Spec{
		Argv:    append([]string{self, sub}, guestArgs...),
		Outputs: outputs,
		Shares:  shares,
		Env:     []string{"WORDISH_IN_VM=1"},
		Dir:     cwd,
		Install: install,
		Stdout:  stdout,
		Stderr:  stderr,
		TTY:     isTerminal(stdout),
		Verbose: os.Getenv("WORDISH_VM_VERBOSE") != "",
	}
	for _, k := range []string{"NO_COLOR", "TERM"} {
		if v, ok := os.LookupEnv(k); ok && (k != "TERM" || cfg.TTY) {
			cfg.Env = append(cfg.Env, k+"="+v)
		}
	}

	// the first SIGINT/SIGTERM stops the guest gracefully; later ones
	// are absorbed while it does (the sandbox bounds the wait)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var got atomic.Value
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM)
	defer signal.Stop(sigs)
	go func() {
		for s := range sigs {
			if got.Load() == nil {
				got.Store(s)
				cancel()
				continue
			}
			fmt.Fprintf(stderr, "\nwordish: %v again: the sandbox is stopping, please wait\n", s)
		}
	}()

	status, err := b.Run(ctx, cfg)

	if s, ok := got.Load().(os.Signal); ok {
		return exitInterrupted + int(s.(syscall.Signal))
	}
	if err != nil {
		fmt.Fprintf(stderr, "wordish: --sandbox vm: %v\n", err)
		if status > exitUsage {
			return status
		}
		return exitUsage
	}
	return status
}

// sandboxArgs rewrites the run subcommand's arguments for the guest: the
// --sandbox flags go, and --json/--junit files are written into
// sandbox.OutDir, whence the sandbox copies them to where they were asked
// for (outputs). It also reports whether --sandbox-install was given, and
// the documents named.
func sandboxArgs(args []string) (out []string, outputs map[string]string, install bool, files []string) {
	fs := flag.NewFlagSet("run", flag.ContinueOnError)
	var f runFlags
	f.register(fs)
	isBool := func(name string) bool {
		fl := fs.Lookup(name)
		if fl == nil {
			return true // unknown: let the guest complain about it
		}
		b, ok := fl.Value.(interface{ IsBoolFlag() bool })
		return ok && b.IsBoolFlag()
	}
	// The guest starts in the host's current directory and sees the host's
	// files at the same paths, so documents named relative to it are found
	// as they are, and the report names them as the user did.
	file := func(a string) string { files = append(files, a); return a }
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			out = append(out, a)
			for _, r := range args[i+1:] {
				out = append(out, file(r))
			}
			break
		}
		if len(a) < 2 || a[0] != '-' {
			out = append(out, file(a))
			continue
		}
		name, value, hasValue := strings.Cut(strings.TrimLeft(a, "-"), "=")
		if !hasValue && !isBool(name) && i+1 < len(args) {
			i++
			value, hasValue = args[i], true
		}
		switch name {
		case "sandbox":
			continue
		case "sandbox-install":
			install = !hasValue || value == "true" || value == "1"
			continue
		case "json", "junit", "html":
			if hasValue && value != "-" && value != "" {
				if outputs == nil {
					outputs = map[string]string{}
				}
				outputs[name] = value
				value = sandbox.OutDir + "/" + name
			}
		}
		if hasValue {
			out = append(out, "--"+name+"="+value)
		} else {
			out = append(out, "--"+name)
		}
	}
	return out, outputs, install, files
}
