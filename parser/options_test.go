package parser

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/wordish-go/wordish/expect"
)

func TestParseOptions(t *testing.T) {
	for _, c := range []struct {
		in   string
		want Options
		str  string
	}{
		{"", Options{}, ""},
		{"skip", Options{Skip: true}, "skip"},
		{"  regex   norm-ws stderr ignore-output cleanup skip ", Options{Skip: true, Cleanup: true, IgnoreOutput: true, Stderr: true, NormWS: true, Regex: true},
			"skip cleanup ignore-output stderr norm-ws regex"},
		{"merged", Options{Merged: true}, "merged"},
		{"stderr status=1", Options{Stderr: true, Status: expect.Code, StatusCode: 1}, "status=1 stderr"},
		{"merged regex ignore-output", Options{Merged: true, Regex: true, IgnoreOutput: true}, "ignore-output regex merged"},
		{"status=0", Options{}, ""},
		{"status=3", Options{Status: expect.Code, StatusCode: 3}, "status=3"},
		{"status=nonzero", Options{Status: expect.Nonzero}, "status=nonzero"},
		{"status=any timeout=90s", Options{Status: expect.Any, Timeout: 90 * time.Second}, "status=any timeout=1m30s"},
		{`input="John Smith\n42\n" skip`, Options{Skip: true, Input: "John Smith\n42\n"}, `skip input="John Smith\n42\n"`},
		{"input=`y` regex", Options{Regex: true, Input: "y"}, `regex input="y"`},
	} {
		got, err := ParseOptions(c.in)
		if err != nil || got != c.want {
			t.Errorf("ParseOptions(%q) = %+v, %v; want %+v", c.in, got, err, c.want)
		}
		if s := got.String(); s != c.str {
			t.Errorf("String() = %q, want %q", s, c.str)
		}
		if back, _ := ParseOptions(got.String()); back != got {
			t.Errorf("%q does not read back: %+v", got.String(), back)
		}
		b, err := json.Marshal(got)
		if err != nil {
			t.Fatal(err)
		}
		var un Options
		if err := json.Unmarshal(b, &un); err != nil || un != got {
			t.Errorf("JSON %s reads back as %+v, %v", b, un, err)
		}
	}
	for _, bad := range []string{"skipp", "status", "status=256", "status=-1", "status=x", "timeout=0s", "timeout=5", "Skip", "skip=1", "input=yes", `input="open`, "input=", "merged stderr", "stderr merged", "Merged", "merged=1"} {
		if _, err := ParseOptions(bad); err == nil {
			t.Errorf("ParseOptions(%q) gave no error", bad)
		}
	}
}

func TestOptionsJSON(t *testing.T) {
	b, _ := json.Marshal(Options{Skip: true, Status: expect.Code, StatusCode: 3, Timeout: 2 * time.Minute})
	want := `{"skip":true,"cleanup":false,"status":"3","timeout":"2m0s","ignore-output":false,"stderr":false,"norm-ws":false,"regex":false,"merged":false}`
	if string(b) != want {
		t.Errorf("got %s\nwant %s", b, want)
	}
}

// TestOptionsJSONConflict: JSON options that no directive can give are
// refused too.
func TestOptionsJSONConflict(t *testing.T) {
	var o Options
	if err := json.Unmarshal([]byte(`{"merged":true,"stderr":true}`), &o); err == nil {
		t.Errorf("merged with stderr read as %+v", o)
	}
}

func TestMergeOptions(t *testing.T) {
	block, _ := ParseOptions("skip status=any timeout=1m")
	cmd, set, _ := parseOptions("status=0 regex")
	got := block.merge(cmd, set)
	want := Options{Skip: true, Regex: true, Timeout: time.Minute}
	if got != want {
		t.Errorf("got %+v, want %+v", got, want)
	}
}
