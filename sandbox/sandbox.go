// Package sandbox runs a command as root inside a throwaway guest whose root
// filesystem is the host's own /, read-only, under a copy-on-write overlay:
// every host tool is there at the same path (lvm2, rsync, the wordish binary
// itself) and nothing the guest writes reaches the host, except directories
// shared explicitly (Spec.Shares). The guest kernel has loop, dm-mod and
// dm-snapshot, which the host may lack, and lvm2 is set up to work without
// udev.
//
// A backend is one way to boot such a guest (User-Mode Linux, qemu...); each
// lives in a file of its own and registers itself in backends. Choose picks
// the first one, in preference order, that works on this host.
package sandbox

import (
	"context"
	"errors"
	"io"
	"sort"
	"time"
)

// Spec describes one sandbox run. Its zero value runs nothing useful: Argv
// is required. Other zero values: the command runs in /root with 1024M of
// memory, no time limit, and its output is discarded.
type Spec struct {
	Argv    []string          // the command, run as root in the guest; required
	Env     []string          // K=V added to the command's clean environment
	Dir     string            // working directory in the guest; "" = /root
	Shares  []string          // host directories shared read-write at the same path
	Files   map[string][]byte // NAME: content, readable in the guest at RunDir/NAME (e.g. a JSON config)
	Outputs map[string]string // NAME: host path; each file OutDir/NAME the command wrote is copied there when the run ends
	Memory  string            // guest memory, e.g. "1024M"; "" = "1024M"
	Timeout time.Duration     // limit for the whole run, boot included; 0 = none
	Grace   time.Duration     // how long a stopped command may take to clean up; 0 = 20 s
	TTY     bool              // the command's stdout/stderr are terminals in the guest, not pipes
	Install bool              // install what is missing (packages, cache) instead of failing
	Stdout  io.Writer         // the command's standard output, streamed live; nil = discard
	Stderr  io.Writer         // its standard error, and (Verbose) the guest console; nil = discard
	Verbose bool              // copy the guest console and timings to Stderr
}

// RunDir is where the guest sees the run directory (Spec.Files), and OutDir
// the guest directory for files meant for the host (Spec.Outputs).
const (
	RunDir = "/run/vmhost"
	OutDir = "/run/vmhost/out"
)

// ErrStopped is wrapped by Run's error when the run was stopped early by
// its context or time limit; errors.Is also matches the context's own error.
var ErrStopped = errors.New("sandbox stopped")

// Status is what a backend's Check found.
type Status struct {
	Usable bool
	Reason string // one line: why (not) usable, e.g. "TCG; /dev/kvm is PVM and cannot boot this kernel"
}

// Backend boots guests one way.
type Backend interface {
	// Name is the --sandbox value that forces this backend ("uml", "qemu").
	Name() string
	// Check tells, quickly and without installing anything, whether the
	// backend can run here. It may boot a probe guest; callers cache it.
	Check(ctx context.Context) Status
	// Missing returns the Debian packages this backend needs that are not installed.
	Missing() []string
	// Prepare installs what is missing and fills the backend's cache,
	// with progress on w.
	Prepare(ctx context.Context, w io.Writer) error
	// Run runs spec.Argv in a fresh guest and returns its exit status.
	// When Run returns, no process of the guest is left and its run
	// directory is gone, whatever happened.
	Run(ctx context.Context, spec Spec) (status int, err error)
}

// backends holds every backend in preference order; each backend's file
// adds itself in an init function.
var backends []Backend

func register(b Backend) {
	backends = append(backends, b)
	sort.SliceStable(backends, func(i, j int) bool { return rank(backends[i]) < rank(backends[j]) })
}

// preference orders the backends, whatever the order their files' init
// functions run in: UML first, as it needs no kernel download and no saved
// guest. Neither is faster everywhere (bench/SANDBOX.md).
var preference = []string{"uml", "qemu"}

func rank(b Backend) int {
	for i, n := range preference {
		if n == b.Name() {
			return i
		}
	}
	return len(preference)
}

// Backends returns every backend, in preference order.
func Backends() []Backend { return append([]Backend(nil), backends...) }

// Lookup returns the backend called name, or nil.
func Lookup(name string) Backend {
	for _, b := range backends {
		if b.Name() == name {
			return b
		}
	}
	return nil
}
