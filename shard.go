package wordish

import (
	"bufio"
	"bytes"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"os"
	"sort"
	"strconv"
	"strings"
)

// --shard K/N: the documents of a run are spread over N shards, and this
// run replays shard K (1 ≤ K ≤ N). Every shard is computed from the same
// arguments the same way, so the N runs of a CI matrix, each given the
// same FILE arguments, replay every document exactly once between them.
//
// The shards are balanced by weight, greedily (the heaviest document
// first, each to the lightest shard so far; ties by path and by shard
// number, so the split is deterministic): a document weighs its number
// of steps, or, with --shard-timing FILE, the seconds it took in a
// previous run's --json or --junit report. A document that report does
// not know is estimated from its steps at the report's mean time per
// step.

// shardOf returns which shard (0-based) each of the targets falls in.
func shardOf(targets []*target, n int, timing map[string]float64) []int {
	weights := make([]float64, len(targets))
	// Seconds per step, from the documents the timing knows.
	var secs float64
	var steps int
	for _, t := range targets {
		if d, ok := timing[t.path]; ok && t.doc != nil {
			secs += d
			steps += len(t.doc.Steps())
		}
	}
	perStep := 1.0
	if timing != nil && steps > 0 && secs > 0 {
		perStep = secs / float64(steps)
	}
	for i, t := range targets {
		if t.doc == nil {
			continue
		}
		if d, ok := timing[t.path]; ok {
			weights[i] = d
			continue
		}
		weights[i] = perStep * float64(len(t.doc.Steps()))
	}
	order := make([]int, len(targets))
	for i := range order {
		order[i] = i
	}
	sort.SliceStable(order, func(a, b int) bool {
		i, j := order[a], order[b]
		if weights[i] != weights[j] {
			return weights[i] > weights[j]
		}
		return targets[i].path < targets[j].path
	})
	load := make([]float64, n)
	count := make([]int, n)
	shard := make([]int, len(targets))
	for _, i := range order {
		best := 0
		for s := 1; s < n; s++ {
			// The lightest shard; among equals the one with fewer
			// documents, so weightless documents spread too.
			if load[s] < load[best] || load[s] == load[best] && count[s] < count[best] {
				best = s
			}
		}
		shard[i] = best
		load[best] += weights[i]
		count[best]++
	}
	return shard
}

// readTiming reads the seconds each document took from a --json (go test
// -json events) or --junit report.
func readTiming(path string) (map[string]float64, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	trimmed := bytes.TrimSpace(data)
	timing := map[string]float64{}
	switch {
	case bytes.HasPrefix(trimmed, []byte("<")):
		var doc struct {
			Suites []struct {
				Name string `xml:"name,attr"`
				Time string `xml:"time,attr"`
			} `xml:"testsuite"`
		}
		if err := xml.Unmarshal(trimmed, &doc); err != nil {
			return nil, fmt.Errorf("%s: not a JUnit report: %v", path, err)
		}
		for _, s := range doc.Suites {
			if d, err := strconv.ParseFloat(s.Time, 64); err == nil {
				timing[s.Name] += d
			}
		}
	case bytes.HasPrefix(trimmed, []byte("{")):
		// A document's own test ends with an elapsed time; so do its
		// steps ("path/L42_..."), which are told apart by being known
		// as the prefix of a longer name only once all are read.
		sc := bufio.NewScanner(bytes.NewReader(trimmed))
		sc.Buffer(nil, 16<<20)
		line := 0
		elapsed := map[string]float64{}
		for sc.Scan() {
			line++
			var e struct {
				Action  string
				Test    string
				Elapsed *float64
			}
			if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
				return nil, fmt.Errorf("%s:%d: not a --json event: %v", path, line, err)
			}
			if e.Test != "" && e.Elapsed != nil && (e.Action == "pass" || e.Action == "fail" || e.Action == "skip") {
				elapsed[e.Test] = *e.Elapsed
			}
		}
		if err := sc.Err(); err != nil {
			return nil, fmt.Errorf("%s: %v", path, err)
		}
		for name, d := range elapsed {
			if i := strings.LastIndex(name, "/L"); i > 0 {
				if _, isDoc := elapsed[name[:i]]; isDoc {
					continue
				}
			}
			timing[name] = d
		}
	default:
		return nil, fmt.Errorf("%s: neither a --json nor a --junit report", path)
	}
	return timing, nil
}
