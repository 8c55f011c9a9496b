package sandbox

// The automatic choice (--sandbox vm): the first backend, in preference
// order, that Check finds usable and whose probe boot (a guest that echoes a
// marker) works. The answer is cached per host: the CPU model, the host
// kernel, and each backend's version and Check answer make the key, so a
// new machine type, kernel or package upgrade probes again.

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"time"
)

// Versioner is implemented by backends that can name what they run
// (kernel and package versions), for the choice cache key.
type Versioner interface {
	Version() string
}

// Probe is the outcome of a probe boot of one backend.
type Probe struct {
	Backend  string        `json:"backend"`
	Status   Status        `json:"status"`    // Check's answer
	OK       bool          `json:"ok"`        // the probe guest ran and said so
	Err      string        `json:"err"`       // why not
	Duration time.Duration `json:"duration"`  // of the probe boot
	TimedOut bool          `json:"timed_out"` // the probe hit probeTimeout (a loaded host?)
}

// Line is the one-line summary `wordish sandbox check` prints.
func (p Probe) Line() string {
	switch {
	case p.OK:
		return fmt.Sprintf("%s: usable (%s; probe boot %.1f s)", p.Backend, p.Status.Reason, p.Duration.Seconds())
	case !p.Status.Usable:
		return fmt.Sprintf("%s: not usable (%s)", p.Backend, p.Status.Reason)
	default:
		return fmt.Sprintf("%s: not usable (the probe boot failed: %s)", p.Backend, p.Err)
	}
}

// probeMarker is what the probe guest prints.
const probeMarker = "wordish-probe-ok"

// probeTimeout bounds a probe boot: a backend that needs longer is not
// one to pick.
const probeTimeout = 15 * time.Second

// probe checks b and, when usable, boots a guest that prints a marker.
func probe(ctx context.Context, b Backend) Probe {
	p := Probe{Backend: b.Name(), Status: b.Check(ctx)}
	if !p.Status.Usable {
		return p
	}
	var out bytes.Buffer
	start := time.Now()
	status, err := b.Run(ctx, Spec{Argv: []string{"/bin/echo", probeMarker}, Stdout: &out, Timeout: probeTimeout})
	p.Duration = time.Since(start)
	switch {
	case err != nil:
		p.Err = err.Error()
		p.TimedOut = errors.Is(err, context.DeadlineExceeded) && ctx.Err() == nil
	case status != 0 || strings.TrimSpace(out.String()) != probeMarker:
		p.Err = fmt.Sprintf("exit status %d, output %q", status, out.String())
	default:
		p.OK = true
	}
	return p
}

// ProbeOne checks b and boots a probe guest with it.
func ProbeOne(ctx context.Context, b Backend) Probe { return probe(ctx, b) }

// choice is the cached answer.
type choice struct {
	Key    string  `json:"key"`
	Chosen string  `json:"chosen"`
	Probes []Probe `json:"probes"`
	When   string  `json:"when"`
}

// hostKey identifies this host, and the backends on it, for the cache.
func hostKey(ctx context.Context, bs []Backend) (string, []Status) {
	h := sha256.New()
	fmt.Fprintf(h, "%s/%s\n%s\n%s\n", runtime.GOOS, runtime.GOARCH, cpuModel(), kernelRelease())
	var sts []Status
	for _, b := range bs {
		st := b.Check(ctx)
		sts = append(sts, st)
		v := ""
		if vb, ok := b.(Versioner); ok {
			v = vb.Version()
		}
		fmt.Fprintf(h, "%s %v %q %q\n", b.Name(), st.Usable, st.Reason, v)
	}
	return hex.EncodeToString(h.Sum(nil)[:12]), sts
}

func cpuModel() string {
	data, _ := os.ReadFile("/proc/cpuinfo")
	for _, l := range strings.Split(string(data), "\n") {
		if k, v, ok := strings.Cut(l, ":"); ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return ""
}

func kernelRelease() string {
	data, _ := os.ReadFile("/proc/sys/kernel/osrelease")
	return strings.TrimSpace(string(data))
}

// choicePath is the cache file for key.
func choicePath(key string) (string, error) {
	dir, err := CacheDir()
	if err != nil {
		return "", err
	}
	return filepath.Join(dir, "choice-"+key+".json"), nil
}

// ProbeAll probes every backend, in order, records which one --sandbox vm
// is to use in the cache, and returns the probes and that choice (nil if
// none works).
func ProbeAll(ctx context.Context) ([]Probe, Backend) {
	bs := Backends()
	key, _ := hostKey(ctx, bs)
	var probes []Probe
	var chosen Backend
	for _, b := range bs {
		p := probe(ctx, b)
		probes = append(probes, p)
		if p.OK && chosen == nil {
			chosen = b
		}
	}
	if chosen != nil && ctx.Err() == nil {
		var before []Probe
		for _, p := range probes {
			if p.Backend == chosen.Name() {
				break
			}
			before = append(before, p)
		}
		if !timedOut(before) {
			saveChoice(key, chosen.Name(), probes)
		}
	}
	return probes, chosen
}

// timedOut reports whether one of probes ran out of time.
func timedOut(probes []Probe) bool {
	for _, p := range probes {
		if p.TimedOut {
			return true
		}
	}
	return false
}

func saveChoice(key, name string, probes []Probe) {
	path, err := choicePath(key)
	if err != nil {
		return
	}
	data, _ := json.MarshalIndent(choice{Key: key, Chosen: name, Probes: probes, When: time.Now().UTC().Format(time.RFC3339)}, "", "\t")
	writeFileAtomic(path, data)
}

// Choose returns the backend --sandbox vm uses here: the cached choice
// for this host, else the first backend whose probe boot works (the next
// is tried when one fails), which is then cached. With install, a backend
// that is not usable yet is prepared first (progress on w). The error
// lists every backend and why it cannot run.
func Choose(ctx context.Context, install bool, w io.Writer) (Backend, error) {
	bs := Backends()
	if len(bs) == 0 {
		return nil, errors.New("no sandbox backend on this platform (User-Mode Linux and qemu need Linux on x86-64)")
	}
	key, sts := hostKey(ctx, bs)
	if path, err := choicePath(key); err == nil {
		if data, err := os.ReadFile(path); err == nil {
			var c choice
			if json.Unmarshal(data, &c) == nil && c.Key == key {
				for i, b := range bs {
					if b.Name() == c.Chosen && sts[i].Usable {
						return b, nil
					}
				}
			}
		}
	}
	var probes []Probe
	for i, b := range bs {
		if !sts[i].Usable && install {
			if w == nil {
				w = io.Discard
			}
			if err := b.Prepare(ctx, w); err != nil {
				fmt.Fprintf(w, "wordish: %s: %v\n", b.Name(), err)
			}
		}
		p := probe(ctx, b)
		probes = append(probes, p)
		if p.OK {
			if install {
				key, _ = hostKey(ctx, bs) // Prepare changed what Check says
			}
			if !timedOut(probes) {
				// a faster backend that only ran out of time (a loaded
				// host) is probed again next time
				saveChoice(key, b.Name(), probes)
			}
			return b, nil
		}
		if ctx.Err() != nil {
			return nil, fmt.Errorf("%w: %w", ErrStopped, ctx.Err())
		}
	}
	var lines []string
	for _, p := range probes {
		lines = append(lines, p.Line())
	}
	return nil, fmt.Errorf("no sandbox backend is usable here: %s; see wordish sandbox check, wordish sandbox install", strings.Join(lines, "; "))
}

// Forget drops the cached choice for this host (a chosen backend that
// later failed is probed again next time).
func Forget(ctx context.Context) {
	key, _ := hostKey(ctx, Backends())
	if path, err := choicePath(key); err == nil {
		os.Remove(path)
	}
}
