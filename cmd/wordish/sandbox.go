package main

// `wordish run --sandbox vm`: the same run, replayed by this same binary
// inside a throwaway guest (the sandbox package: User-Mode Linux or qemu,
// --sandbox vm picks the fastest usable here). The guest's root filesystem
// is the host's / (read-only, under a copy-on-write overlay), so the
// binary, the documents and the current directory are all there at the
// same paths. The run is handed over as data: its flags and files, as
// guestConfig, are the run directory's config.json, and the guest runs
//
//	WORDISH_SANDBOX_CONFIG=/run/vmhost/config.json /path/to/wordish sandbox guest
//
// as root in the host's current directory. Its text report streams back
// live; --json, --junit and --html files are written by the guest into the
// run's output directory and copied where they were asked for; the exit
// status is the guest's. SIGINT or SIGTERM asks the guest wordish to stop
// as the signal would on the host (interrupt the running command, run the
// cleanup steps, print the report); the guest is killed if it has not
// ended 20 s later. Nothing of the guest is left behind.
//
// WORDISH_VM_VERBOSE=1 shows the guest's console and the boot time on
// standard error.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/wordish-go/wordish/sandbox"
)

func init() {
	subcommands["sandbox"] = cmdSandbox
	summaries["sandbox"] = "check or install the VM sandbox (--sandbox vm): wordish sandbox check|install"
}

// guestConfig is the run the guest wordish replays: the flags of run (or
// update) that matter inside the guest, and the documents. Output files
// are guest paths in sandbox.OutDir ("-" stays standard output).
type guestConfig struct {
	Command   string        `json:"command"` // "run" or "update"
	Files     []string      `json:"files"`
	Format    string        `json:"format,omitempty"`
	Prompts   []string      `json:"prompts,omitempty"`
	Shell     string        `json:"shell,omitempty"`
	Timeout   time.Duration `json:"timeout_ns"`
	Env       []string      `json:"env,omitempty"`
	Workdir   string        `json:"workdir,omitempty"`
	Keep      bool          `json:"keep,omitempty"`
	KeepGoing bool          `json:"keep_going,omitempty"`
	Verbose   bool          `json:"verbose,omitempty"`
	Jobs      int           `json:"jobs,omitempty"`    // 0: the guest's default (its CPU count)
	Reports   reportFiles   `json:"reports,omitempty"` // by format name
	MaxSize   int64         `json:"max_size,omitempty"`
	// The selection and report flags (select.go, shard.go).
	Quiet       bool   `json:"quiet,omitempty"`
	Color       string `json:"color,omitempty"` // always or never: decided by the host's terminal
	Run         string `json:"run,omitempty"`
	Shard       string `json:"shard,omitempty"`
	ShardTiming string `json:"shard_timing,omitempty"`
}

// guestConfigFile is where the guest finds its guestConfig, and
// guestConfigVar the variable that names it.
const (
	guestConfigFile = sandbox.RunDir + "/config.json"
	guestConfigVar  = "WORDISH_SANDBOX_CONFIG"
)

// newGuestConfig turns the host's flags and files into the guest's run,
// and returns the outputs to copy back (sandbox.Spec.Outputs).
func newGuestConfig(sub string, f runFlags, files []string) (guestConfig, map[string]string) {
	outputs := map[string]string{}
	jobs := f.jobs
	if !f.jobsSet {
		jobs = 0
	}
	var reports reportFiles
	for name, path := range f.reports {
		if path == "" {
			continue
		}
		if reports == nil {
			reports = reportFiles{}
		}
		if path != "-" {
			outputs[name] = path
			path = sandbox.OutDir + "/" + name
		}
		reports[name] = path
	}
	return guestConfig{
		Command:   sub,
		Files:     files,
		Format:    f.format,
		Prompts:   f.prompts,
		Shell:     f.shell,
		Timeout:   f.timeout,
		Env:       f.env,
		Workdir:   f.workdir,
		Keep:      f.keep,
		KeepGoing: f.keepGoing,
		Verbose:   f.verbose,
		Jobs:      jobs,
		Reports:   reports,
		MaxSize:   f.maxSize,

		Quiet:       f.quiet,
		Color:       guestColor(f.color),
		Run:         f.runPattern,
		Shard:       f.shard.String(),
		ShardTiming: f.shardTiming,
	}, outputs
}

// guestColor decides --color=auto on the host, whose terminal the report
// reaches (the guest's output is a pipe).
func guestColor(flag string) string {
	if flag != "auto" {
		return flag
	}
	if colorOn(flag, isTerminal(os.Stdout)) {
		return "always"
	}
	return "never"
}

// flags is the inverse of newGuestConfig, in the guest.
func (c guestConfig) flags() runFlags {
	jobs := c.Jobs
	if jobs == 0 {
		jobs = runtime.NumCPU()
	}
	f := runFlags{
		format:    c.Format,
		prompts:   c.Prompts,
		shell:     c.Shell,
		timeout:   c.Timeout,
		env:       c.Env,
		workdir:   c.Workdir,
		keep:      c.Keep,
		keepGoing: c.KeepGoing,
		verbose:   c.Verbose,
		jobs:      jobs,
		jobsSet:   c.Jobs != 0,
		reports:   c.Reports,
		maxSize:   c.MaxSize,

		quiet:       c.Quiet,
		color:       c.Color,
		runPattern:  c.Run,
		shardTiming: c.ShardTiming,
	}
	if f.color == "" {
		f.color = "auto"
	}
	if c.Shard != "" {
		f.shard.Set(c.Shard) // checked on the host
	}
	return f
}

// inSandbox reports whether the run asked for by f happens in a guest
// started from here.
func inSandbox(f runFlags) bool {
	return f.sandbox != "" && f.sandbox != "host" && os.Getenv("WORDISH_IN_VM") == ""
}

// checkSandbox checks the --sandbox value.
func checkSandbox(name string) error {
	switch name {
	case "", "host", "vm":
		return nil
	}
	if sandbox.Lookup(name) != nil {
		return nil
	}
	names := []string{"vm"}
	for _, b := range sandbox.Backends() {
		names = append(names, b.Name())
	}
	return fmt.Errorf("--sandbox %q: unknown sandbox; want %s (or host)", name, strings.Join(names, ", "))
}

// sandboxRun replays the run subcommand inside a throwaway guest.
func sandboxRun(f runFlags, files []string) int {
	return sandboxMain("run", f, files, os.Stdout, os.Stderr)
}

// sandboxUpdate is sandboxRun for the update subcommand: the directories
// of the documents are shared with the guest read-write, so that its
// rewrites reach the host (and so do the article's own writes there).
func sandboxUpdate(f runFlags, files []string) int {
	return sandboxMain("update", f, files, os.Stdout, os.Stderr)
}

func sandboxMain(sub string, f runFlags, files []string, stdout, stderr io.Writer) int {
	prefix := "wordish: --sandbox " + f.sandbox
	self, err := os.Executable()
	if err != nil {
		fmt.Fprintf(stderr, "%s: %v\n", prefix, err)
		return exitUsage
	}
	cwd, err := os.Getwd()
	if err != nil {
		fmt.Fprintf(stderr, "%s: %v\n", prefix, err)
		return exitUsage
	}
	if f.interactive {
		// the guest command has no terminal to ask on
		fmt.Fprintf(stderr, "%s: update -i cannot ask from inside the sandbox; run update --sandbox without -i, or -i on the host\n", prefix)
		return exitUsage
	}
	if err := f.reports.check(files); err != nil {
		fmt.Fprintf(stderr, "wordish: %v\n", err)
		return exitUsage
	}
	cfg, outputs := newGuestConfig(sub, f, files)
	data, err := json.Marshal(cfg)
	if err != nil {
		fmt.Fprintf(stderr, "%s: %v\n", prefix, err)
		return exitUsage
	}
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

	// The guest starts in the host's current directory and sees the
	// host's files at the same paths, so documents named relative to it
	// are found as they are, and the report names them as the user did.
	spec := sandbox.Spec{
		Argv:    []string{self, "sandbox", "guest"},
		Files:   map[string][]byte{"config.json": data},
		Outputs: outputs,
		Shares:  shares,
		Env:     []string{"WORDISH_IN_VM=1", guestConfigVar + "=" + guestConfigFile},
		Dir:     cwd,
		Install: f.sandboxInstall,
		Stdout:  stdout,
		Stderr:  stderr,
		TTY:     isTerminal(stdout),
		Verbose: os.Getenv("WORDISH_VM_VERBOSE") != "",
	}
	for _, k := range []string{"NO_COLOR", "TERM"} {
		if v, ok := os.LookupEnv(k); ok && (k != "TERM" || spec.TTY) {
			spec.Env = append(spec.Env, k+"="+v)
		}
	}

	// the first SIGINT/SIGTERM stops the guest gracefully; later ones
	// are absorbed while it does (the backend bounds the wait)
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

	status, err := runGuest(ctx, f.sandbox, spec, stderr)

	if s, ok := got.Load().(os.Signal); ok {
		return exitInterrupted + int(s.(syscall.Signal))
	}
	if err != nil {
		fmt.Fprintf(stderr, "%s: %v\n", prefix, err)
		if status > exitUsage {
			return status
		}
		return exitUsage
	}
	return status
}

// runGuest runs spec on the backend name asks for ("vm": the one chosen
// for this host).
func runGuest(ctx context.Context, name string, spec sandbox.Spec, stderr io.Writer) (int, error) {
	if name != "vm" {
		b := sandbox.Lookup(name)
		if b == nil {
			return -1, checkSandbox(name)
		}
		return b.Run(ctx, spec)
	}
	b, err := sandbox.Choose(ctx, spec.Install, stderr)
	if err != nil {
		return -1, err
	}
	if spec.Verbose {
		fmt.Fprintf(stderr, "wordish: --sandbox vm: %s\n", b.Name())
	}
	status, err := b.Run(ctx, spec)
	var ge *sandbox.GuestError
	if errors.As(err, &ge) {
		sandbox.Forget(ctx) // probe again next time
	}
	return status, err
}

const sandboxUsage = `usage: wordish sandbox check|install [BACKEND...]

check    say, for each sandbox backend (or those named), whether it can
         run here and why, with a probe boot; the first usable one is what
         --sandbox vm picks (remembered for this host). Exit status 0 when
         one is usable.
install  install what the backends need (Debian packages, with apt-get),
         prepare their caches, then check
`

// cmdSandbox is `wordish sandbox`.
func cmdSandbox(args []string) int {
	return sandboxCmd(args, os.Stdout, os.Stderr)
}

func sandboxCmd(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, sandboxUsage)
		return exitUsage
	}
	switch args[0] {
	case "guest":
		return sandboxGuest(stdout, stderr)
	case "-h", "-help", "--help", "help":
		fmt.Fprint(stdout, sandboxUsage)
		return exitOK
	case "check", "install":
	default:
		fmt.Fprintf(stderr, "wordish: sandbox: unknown command %q\n%s", args[0], sandboxUsage)
		return exitUsage
	}
	bs := sandbox.Backends()
	if len(args) > 1 {
		bs = nil
		for _, n := range args[1:] {
			b := sandbox.Lookup(n)
			if b == nil {
				fmt.Fprintf(stderr, "wordish sandbox %s: %v\n", args[0], checkSandbox(n))
				return exitUsage
			}
			bs = append(bs, b)
		}
	}
	if len(bs) == 0 {
		fmt.Fprintln(stderr, "wordish: sandbox: no sandbox backend on this platform (User-Mode Linux and qemu need Linux on x86-64)")
		return exitFailed
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if args[0] == "install" {
		failed := false
		for _, b := range bs {
			fmt.Fprintf(stderr, "wordish: sandbox install: %s\n", b.Name())
			if err := b.Prepare(ctx, stderr); err != nil {
				fmt.Fprintf(stderr, "wordish: sandbox install: %s: %v\n", b.Name(), err)
				failed = true
			}
			if ctx.Err() != nil {
				return exitInterrupted + int(syscall.SIGINT)
			}
		}
		if failed && len(args) > 1 {
			return exitFailed
		}
	}
	var probes []sandbox.Probe
	var chosen sandbox.Backend
	if len(args) > 1 {
		for _, b := range bs {
			probes = append(probes, sandbox.ProbeOne(ctx, b))
		}
	} else {
		probes, chosen = sandbox.ProbeAll(ctx)
	}
	ok := false
	for _, p := range probes {
		fmt.Fprintln(stdout, p.Line())
		ok = ok || p.OK
	}
	if chosen != nil {
		fmt.Fprintf(stdout, "--sandbox vm: %s\n", chosen.Name())
	}
	if !ok {
		return exitFailed
	}
	return exitOK
}

// sandboxGuest is the guest side: it replays the run config.json
// describes.
func sandboxGuest(stdout, stderr io.Writer) int {
	path := os.Getenv(guestConfigVar)
	if path == "" {
		fmt.Fprintf(stderr, "wordish: sandbox guest: %s is not set (this command runs inside the sandbox)\n", guestConfigVar)
		return exitUsage
	}
	data, err := os.ReadFile(path)
	if err != nil {
		fmt.Fprintf(stderr, "wordish: sandbox guest: %v\n", err)
		return exitUsage
	}
	var c guestConfig
	if err := json.Unmarshal(data, &c); err != nil {
		fmt.Fprintf(stderr, "wordish: sandbox guest: %s: %v\n", path, err)
		return exitUsage
	}
	f := c.flags()
	if err := f.check(); err != nil {
		fmt.Fprintf(stderr, "wordish: sandbox guest: %s: %v\n", path, err)
		return exitUsage
	}
	switch c.Command {
	case "run":
		return replay(c.Files, f, stdout, stderr)
	case "update":
		return replayUpdate(c.Files, f, nil, stdout, stderr)
	}
	fmt.Fprintf(stderr, "wordish: sandbox guest: %s: command %q: want run or update\n", path, c.Command)
	return exitUsage
}
