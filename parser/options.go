package parser

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/wordish-go/wordish/expect"
)

// optSet records which options a directive spelled out, so that a
// per-command directive overrides only what it names.
type optSet struct {
	status, timeout, input bool
}

// ParseOptions reads an OPTIONS list: space-separated words from skip,
// cleanup, status=N|nonzero|any, timeout=DURATION, ignore-output, stderr,
// norm-ws, regex, merged and input="TEXT" (a Go-quoted string, \n for
// Enter; it may hold spaces). merged and stderr conflict.
func ParseOptions(s string) (Options, error) {
	o, _, err := parseOptions(s)
	return o, err
}

func parseOptions(s string) (Options, optSet, error) {
	var o Options
	var set optSet
	for {
		s = strings.TrimLeft(s, " \t\r\n")
		if s == "" {
			break
		}
		if rest, ok := strings.CutPrefix(s, "input="); ok {
			q, err := strconv.QuotedPrefix(rest)
			if err != nil {
				return Options{}, set, fmt.Errorf(`bad input %q: want a Go-quoted string, like input="yes\n"`, rest)
			}
			o.Input, _ = strconv.Unquote(q)
			set.input = true
			s = rest[len(q):]
			continue
		}
		w := s
		if i := strings.IndexAny(s, " \t\r\n"); i >= 0 {
			w = s[:i]
		}
		s = s[len(w):]
		if on := o.flag(w); on != nil {
			*on = true
			continue
		}
		name, val, hasVal := strings.Cut(w, "=")
		switch {
		case name == "status" && hasVal:
			k, code, err := expect.Parse(val)
			if err != nil {
				return Options{}, set, err
			}
			o.Status, o.StatusCode, set.status = k, code, true
		case name == "timeout" && hasVal:
			d, err := time.ParseDuration(val)
			if err != nil || d <= 0 {
				return Options{}, set, fmt.Errorf("bad timeout %q: want a positive duration like 30s or 2m", val)
			}
			o.Timeout, set.timeout = d, true
		default:
			return Options{}, set, fmt.Errorf("unknown option %q", w)
		}
	}
	if err := o.check(); err != nil {
		return Options{}, set, err
	}
	return o, set, nil
}

// check rejects options that cannot hold together: merged puts standard
// error in the output, on the terminal of standard output, so there is
// no standard error alone left to compare (stderr).
func (o Options) check() error {
	if o.Merged && o.Stderr {
		return fmt.Errorf(`options "merged" and "stderr" conflict: merged shows standard error in the output, stderr compares standard error alone`)
	}
	return nil
}

// flagNames are the options that are one word, in the order of flags.
var flagNames = [...]string{"skip", "cleanup", "ignore-output", "stderr", "norm-ws", "regex", "merged"}

// flags are the fields that the words of flagNames set.
func (o *Options) flags() [len(flagNames)]*bool {
	return [...]*bool{&o.Skip, &o.Cleanup, &o.IgnoreOutput, &o.Stderr, &o.NormWS, &o.Regex, &o.Merged}
}

// flag returns the field that the word name sets, nil if it is none.
func (o *Options) flag(name string) *bool {
	for i, n := range flagNames {
		if n == name {
			return o.flags()[i]
		}
	}
	return nil
}

// merge lays the options of a command's own directive over the block's.
func (o Options) merge(c Options, set optSet) Options {
	cf := c.flags()
	for i, on := range o.flags() {
		*on = *on || *cf[i]
	}
	if set.status {
		o.Status, o.StatusCode = c.Status, c.StatusCode
	}
	if set.timeout {
		o.Timeout = c.Timeout
	}
	if set.input {
		o.Input = c.Input
	}
	return o
}

// StatusString gives the status in directive syntax: "0", "3", "nonzero"
// or "any".
func (o Options) StatusString() string { return expect.Format(o.Status, o.StatusCode) }

// String gives the canonical OPTIONS list, defaults left out, so that
// ParseOptions(o.String()) == o.
func (o Options) String() string {
	var w []string
	add := func(b bool, s string) {
		if b {
			w = append(w, s)
		}
	}
	add(o.Skip, "skip")
	add(o.Cleanup, "cleanup")
	add(o.Status != expect.Zero, "status="+o.StatusString())
	add(o.Timeout > 0, "timeout="+o.Timeout.String())
	add(o.IgnoreOutput, "ignore-output")
	add(o.Stderr, "stderr")
	add(o.NormWS, "norm-ws")
	add(o.Regex, "regex")
	add(o.Merged, "merged")
	add(o.Input != "", "input="+strconv.Quote(o.Input))
	return strings.Join(w, " ")
}

type jsonOptions struct {
	Skip         bool   `json:"skip"`
	Cleanup      bool   `json:"cleanup"`
	Status       string `json:"status"`
	Timeout      string `json:"timeout,omitempty"`
	IgnoreOutput bool   `json:"ignore-output"`
	Stderr       bool   `json:"stderr"`
	NormWS       bool   `json:"norm-ws"`
	Regex        bool   `json:"regex"`
	Merged       bool   `json:"merged"`
	Input        string `json:"input,omitempty"`
}

// MarshalJSON writes every option, so consumers see a fixed set of keys;
// status is "0", "3", "nonzero" or "any" and timeout a Go duration
// (left out when unset).
func (o Options) MarshalJSON() ([]byte, error) {
	j := jsonOptions{
		Skip: o.Skip, Cleanup: o.Cleanup, Status: o.StatusString(),
		IgnoreOutput: o.IgnoreOutput, Stderr: o.Stderr, NormWS: o.NormWS, Regex: o.Regex,
		Merged: o.Merged, Input: o.Input,
	}
	if o.Timeout > 0 {
		j.Timeout = o.Timeout.String()
	}
	return json.Marshal(j)
}

// UnmarshalJSON reads what MarshalJSON writes.
func (o *Options) UnmarshalJSON(b []byte) error {
	var j jsonOptions
	if err := json.Unmarshal(b, &j); err != nil {
		return err
	}
	n := Options{Skip: j.Skip, Cleanup: j.Cleanup, IgnoreOutput: j.IgnoreOutput,
		Stderr: j.Stderr, NormWS: j.NormWS, Regex: j.Regex, Merged: j.Merged, Input: j.Input}
	if j.Status != "" {
		k, code, err := expect.Parse(j.Status)
		if err != nil {
			return err
		}
		n.Status, n.StatusCode = k, code
	}
	if j.Timeout != "" {
		d, err := time.ParseDuration(j.Timeout)
		if err != nil {
			return err
		}
		n.Timeout = d
	}
	if err := n.check(); err != nil {
		return err
	}
	*o = n
	return nil
}
