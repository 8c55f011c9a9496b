package wordish

import (
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/wordish-go/wordish/parser"
	"github.com/wordish-go/wordish/report"
	"github.com/wordish-go/wordish/runner"
	"github.com/wordish-go/wordish/update"
)

// Config is everything one Run does, grouped by the layer that reads it:
// Parse by the parser, Replay by the runner (and the sessions it starts),
// Report by the reporters, the rest by Run itself. Its zero value is
// `wordish run FILE...` without flags, except that nothing is printed
// (Stdout and Stderr are nil). A Config is plain data (but for the
// fields marked `json:"-"`): the VM sandbox hands it to its guest as
// JSON.
type Config struct {
	Parse  parser.Config  `json:"parse"`
	Replay runner.Options `json:"replay"`
	Report report.Options `json:"report"`

	// Jobs is how many documents replay in parallel; 0 = the number of
	// CPUs. Documents that share a Replay.Workdir trip over each other's
	// files: give them 1 (wordish run does, unless -j is given).
	Jobs int `json:"jobs,omitempty"`
	// MaxSize refuses documents larger than this many bytes; 0 =
	// DefaultMaxSize, negative = no limit.
	MaxSize int64 `json:"max_size,omitempty"`
	// Run, a regular expression, keeps the steps whose name
	// (FILE/L42_slug, runner.StepName) it matches; "" keeps every step.
	Run string `json:"run,omitempty"`
	// Shard replays one shard of the documents; the zero value, all.
	Shard Shard `json:"shard,omitzero"`
	// ShardTiming balances the shards by the durations in this previous
	// --json or --junit report; "" balances them by steps.
	ShardTiming string `json:"shard_timing,omitempty"`
	// Update rewrites the expected output of the failed steps in their
	// Markdown or reStructuredText source (`wordish update`); HTML
	// documents are then refused before anything runs.
	Update bool `json:"update,omitempty"`
	// Choose, with Update, picks the results written (update.Chooser);
	// nil writes every failed step.
	Choose update.Chooser `json:"-"`

	// Stdout receives the text report (and any file report named "-");
	// nil: no text report.
	Stdout io.Writer `json:"-"`
	// Stderr receives the messages about the run that are not errors
	// stopping it ("no shell sessions found", the rewritten files); nil
	// discards them.
	Stderr io.Writer `json:"-"`
}

// DefaultMaxSize is the largest document read when Config.MaxSize is 0.
const DefaultMaxSize = 64 << 20

// Shard is shard K of N (1 ≤ K ≤ N) of the documents of a run: every
// shard is computed from the same arguments the same way, so N runs of
// a CI matrix replay every document once between them. The zero value
// is no sharding. It is a flag.Value ("K/N") and marshals as "K/N".
type Shard struct{ K, N int }

func (s *Shard) String() string {
	if s.N == 0 {
		return ""
	}
	return fmt.Sprintf("%d/%d", s.K, s.N)
}

// Set parses "K/N".
func (s *Shard) Set(v string) error {
	a, b, ok := strings.Cut(v, "/")
	k, err1 := strconv.Atoi(a)
	n, err2 := strconv.Atoi(b)
	if !ok || err1 != nil || err2 != nil || n < 1 || k < 1 || k > n {
		return fmt.Errorf("want K/N with 1 ≤ K ≤ N, e.g. 2/4")
	}
	s.K, s.N = k, n
	return nil
}

// MarshalText implements encoding.TextMarshaler.
func (s Shard) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler.
func (s *Shard) UnmarshalText(b []byte) error {
	if len(b) == 0 {
		*s = Shard{}
		return nil
	}
	return s.Set(string(b))
}
