package wordish

import (
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/wordish-go/wordish/parser"
)

// docWithSteps is a parsed document of n steps.
func docWithSteps(t *testing.T, path string, n int) *target {
	t.Helper()
	src := "```console\n" + strings.Repeat("$ true\n", n) + "```\n"
	doc, err := parser.Parse(path, []byte(src), parser.Config{})
	if err != nil {
		t.Fatal(err)
	}
	return &target{path: path, doc: doc}
}

func TestShardOf(t *testing.T) {
	steps := []int{9, 1, 1, 1, 4, 4, 2, 0, 0}
	var targets []*target
	for i, n := range steps {
		targets = append(targets, docWithSteps(t, fmt.Sprintf("d%d.md", i), n))
	}
	targets = append(targets, &target{path: "gone.md", err: os.ErrNotExist})
	tests := []struct {
		n      int
		timing map[string]float64
		want   []int
	}{
		{1, nil, []int{0, 0, 0, 0, 0, 0, 0, 0, 0, 0}},
		// Heaviest first, each to the lightest shard (among equals the
		// one with fewer documents): 9 | 4 2 1 | 4 1 1 and the weightless
		// ones, each then on the lightest.
		{3, nil, []int{0, 2, 2, 1, 1, 2, 1, 2, 2, 2}},
		// By time: d1 took long, the others are estimated from their
		// steps at the known mean (d1: 30 s for 1 step, d0: 9 s for 9
		// steps, so 3.9 s a step): 30 9 3.9 | 15.6 15.6 7.8 3.9.
		{2, map[string]float64{"d1.md": 30, "d0.md": 9}, []int{0, 0, 0, 1, 1, 1, 1, 0, 0, 1}},
	}
	for _, tt := range tests {
		got := shardOf(targets, tt.n, tt.timing)
		if !reflect.DeepEqual(got, tt.want) {
			t.Errorf("shardOf(N=%d, %v) = %v, want %v", tt.n, tt.timing, got, tt.want)
		}
		// The same answer for the same input, each document once.
		if again := shardOf(targets, tt.n, tt.timing); !reflect.DeepEqual(again, got) {
			t.Errorf("not deterministic: %v then %v", got, again)
		}
	}
}

func TestShardSpec(t *testing.T) {
	for _, bad := range []string{"", "1", "0/2", "3/2", "1/0", "a/b", "-1/2", "1/2/3"} {
		var s Shard
		if err := s.Set(bad); err == nil {
			t.Errorf("--shard %q accepted", bad)
		}
	}
	var s Shard
	if err := s.Set("2/5"); err != nil || s.K != 2 || s.N != 5 || s.String() != "2/5" {
		t.Errorf("--shard 2/5: %v %+v", err, s)
	}
}

func TestReadTiming(t *testing.T) {
	dir := t.TempDir()
	write := func(name, text string) string {
		p := filepath.Join(dir, name)
		os.WriteFile(p, []byte(text), 0o644)
		return p
	}
	jsonPath := write("r.json", `{"Action":"start","Package":"wordish"}
{"Action":"run","Package":"wordish","Test":"docs"}
{"Action":"pass","Package":"wordish","Test":"docs/a.md/L3_echo","Elapsed":0.5}
{"Action":"pass","Package":"wordish","Test":"docs/a.md","Elapsed":1.25}
{"Action":"fail","Package":"wordish","Test":"b.md","Elapsed":3}
{"Action":"pass","Package":"wordish","Test":"docs","Elapsed":1.3}
{"Action":"fail","Package":"wordish","Elapsed":4.5}
`)
	junitPath := write("r.xml", `<?xml version="1.0" encoding="UTF-8"?>
<testsuites name="wordish"><testsuite name="docs/a.md" time="1.250"><testcase name="L3" time="0.5"></testcase></testsuite>
<testsuite name="b.md" time="3.000"></testsuite></testsuites>
`)
	for _, p := range []string{jsonPath, junitPath} {
		got, err := readTiming(p)
		if err != nil {
			t.Fatal(err)
		}
		if got["docs/a.md"] != 1.25 || got["b.md"] != 3 || got["docs/a.md/L3_echo"] != 0 {
			t.Errorf("%s: %v", filepath.Base(p), got)
		}
	}
	for name, text := range map[string]string{"bad.json": "{\"Action\":\n", "bad.xml": "<testsuites><", "bad.txt": "hello"} {
		if _, err := readTiming(write(name, text)); err == nil || !strings.Contains(err.Error(), name) {
			t.Errorf("%s: err = %v, want one naming the file", name, err)
		}
	}
	if _, err := readTiming(filepath.Join(dir, "missing.json")); err == nil {
		t.Error("a missing file read")
	}
}
