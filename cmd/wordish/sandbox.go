package main

// `wordish run --sandbox vm`: the same run, replayed by this same binary
// inside a throwaway guest (the sandbox package: User-Mode Linux or qemu,
// --sandbox vm picks the first usable here). The guest's root filesystem
// is the host's / (read-only, under a copy-on-write overlay), so the
// binary, the documents and the current directory are all there at the
// same paths. The run is handed over as data: its lib.Config and
// files, as guestConfig, are the run directory's config.json, and the guest runs
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
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"

	lib "github.com/wordish-go/wordish"
	"github.com/wordish-go/wordish/report"
	"github.com/wordish-go/wordish/sandbox"
)

// guestConfig is the run the guest wordish replays: the host's
// lib.Config, as data, and the documents. Its report files are guest
// paths in sandbox.OutDir ("-" stays standard output).
type guestConfig struct {
	Files  []string   `json:"files"`
	Config lib.Config `json:"config"`
}

// guestConfigFile is where the guest finds its guestConfig, and
// guestConfigVar the variable that names it.
const (
	guestConfigFile = sandbox.RunDir + "/config.json"
	guestConfigVar  = "WORDISH_SANDBOX_CONFIG"
)

// newGuestConfig is the guest's run of cfg on files, and the outputs to
// copy back (sandbox.Spec.Outputs). The colours and the progress line
// were decided for the host's terminal, which the report reaches.
func newGuestConfig(cfg lib.Config, files []string) (guestConfig, map[string]string) {
	outputs := map[string]string{}
	var reports map[string]string
	for name, path := range cfg.Report.Files {
		if path == "" {
			continue
		}
		if reports == nil {
			reports = map[string]string{}
		}
		if path != "-" {
			outputs[name] = path
			path = sandbox.OutDir + "/" + name
		}
		reports[name] = path
	}
	cfg.Report.Files = reports
	return guestConfig{Files: files, Config: cfg}, outputs
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

// sandboxMain replays cfg on files inside a throwaway guest. With
// cfg.Update, the directories of the documents are shared with the guest
// read-write, so that its rewrites reach the host (and so do the
// article's own writes there).
func sandboxMain(f runFlags, files []string, cfg lib.Config) int {
	stderr := cfg.Stderr
	prefix := "wordish: --sandbox " + f.sandbox
	if f.interactive {
		// the guest command has no terminal to ask on
		fmt.Fprintf(stderr, "%s: update -i cannot ask from inside the sandbox; run update --sandbox without -i, or -i on the host\n", prefix)
		return exitUsage
	}
	var paths []string
	for _, d := range lib.Files(files) {
		paths = append(paths, d.Path)
	}
	if err := report.Check(cfg.Report.Files, paths); err != nil {
		fmt.Fprintf(stderr, "wordish: %v\n", err)
		return exitUsage
	}
	spec, err := guestSpec(f, files, cfg)
	if err != nil {
		fmt.Fprintf(stderr, "%s: %v\n", prefix, err)
		return exitUsage
	}

	// The first signal stops the guest gracefully; later ones are
	// absorbed while it does (the backend bounds the wait).
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	stop := watchStop(cancel, cfg.Stdout, stderr, "the sandbox is stopping, please wait")
	defer stop.stop()

	status, err := runGuest(ctx, f.sandbox, spec, stderr)

	if st := stop.status(); st != 0 {
		return st
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

// guestSpec is the guest run of cfg on files. The guest starts in the
// host's current directory and sees the host's files at the same paths,
// so documents named relative to it are found as they are, and the
// report names them as the user did.
func guestSpec(f runFlags, files []string, cfg lib.Config) (sandbox.Spec, error) {
	self, err := os.Executable()
	if err != nil {
		return sandbox.Spec{}, err
	}
	cwd, err := os.Getwd()
	if err != nil {
		return sandbox.Spec{}, err
	}
	gc, outputs := newGuestConfig(cfg, files)
	data, err := json.Marshal(gc)
	if err != nil {
		return sandbox.Spec{}, err
	}
	var shares []string
	if cfg.Update {
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
	spec := sandbox.Spec{
		Argv:    []string{self, "sandbox", "guest"},
		Files:   map[string][]byte{"config.json": data},
		Outputs: outputs,
		Shares:  shares,
		Env:     []string{"WORDISH_IN_VM=1", guestConfigVar + "=" + guestConfigFile},
		Dir:     cwd,
		Install: f.sandboxInstall,
		Stdout:  cfg.Stdout,
		Stderr:  cfg.Stderr,
		TTY:     isTerminal(cfg.Stdout),
		Verbose: os.Getenv("WORDISH_VM_VERBOSE") != "",
	}
	for _, k := range []string{"NO_COLOR", "TERM"} {
		if v, ok := os.LookupEnv(k); ok && (k != "TERM" || spec.TTY) {
			spec.Env = append(spec.Env, k+"="+v)
		}
	}
	return spec, nil
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
	if sh := c.Config.Replay.Shell; sh != "" {
		if _, err := exec.LookPath(sh); err != nil {
			fmt.Fprintf(stderr, "wordish: sandbox guest: %s: --shell %s: %v\n", path, sh, errors.Unwrap(err))
			return exitUsage
		}
	}
	cfg := c.Config
	cfg.Stdout, cfg.Stderr = stdout, stderr
	return replay(runFlags{}, c.Files, cfg)
}
