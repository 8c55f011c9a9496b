package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"encoding/xml"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestLVM2010 replays the 2010 LVM article (../shared/articles, beside the
// repository), in both its published forms (reST source and Sphinx HTML),
// for real, as root, in the VM sandbox (one guest for both), and compares
// the whole report with fixtures/lvm-2010/report.golden: on today's Debian
// exactly the steps whose output drifted fail (trailing periods added by
// lvm2, the new lvs layout, the extra line when the snapshot is created,
// quotes in ls errors, the device-mapper major number) and every other step
// passes. It also checks that the --json and --junit files written in the
// guest reach the host. `go test ./cmd/wordish -run LVM2010 -update`
// rewrites the golden file.
func TestLVM2010(t *testing.T) {
	sandboxSkip(t, "lvm2", "rsync")
	articles := []string{"../shared/articles/lvm-2010.rst", "../shared/articles/lvm-2010.html"}
	for _, a := range articles {
		if _, err := os.Stat(filepath.Join(repoRoot, a)); err != nil {
			t.Skipf("the 2010 article is not beside the repository: %v", err)
		}
	}
	dir := t.TempDir()
	jsonOut, junitOut := filepath.Join(dir, "report.json"), filepath.Join(dir, "report.xml")
	stdout, stderr, code := wordish(t, append([]string{"run", "--sandbox", "vm", "--json", jsonOut, "--junit=" + junitOut}, articles...)...)
	if code != 1 {
		t.Errorf("exit status %d, want 1; stderr:\n%s", code, stderr)
	}
	if stderr != "" {
		t.Errorf("stderr:\n%s", stderr)
	}
	golden := filepath.Join(repoRoot, "fixtures", "lvm-2010", "report.golden")
	if *update {
		if err := os.WriteFile(golden, []byte(stdout), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if stdout != string(want) {
		t.Errorf("report differs from %s:\n--- got\n%s\n--- want\n%s", golden, stdout, want)
	}
	for _, a := range articles {
		checkJSON(t, jsonOut, a, 41, 9)
	}
	checkJUnit(t, junitOut, 2*41, 2*9)
}

// checkJSON counts the step-level pass and fail events of a test2json file.
func checkJSON(t *testing.T, path, doc string, steps, failed int) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Errorf("--json file: %v", err)
		return
	}
	counts := map[string]int{}
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		var ev struct{ Action, Test string }
		if err := json.Unmarshal(sc.Bytes(), &ev); err != nil {
			t.Errorf("--json line %q: %v", sc.Text(), err)
			return
		}
		if strings.HasPrefix(ev.Test, doc+"/") && (ev.Action == "pass" || ev.Action == "fail") {
			counts[ev.Action]++
		}
	}
	if counts["pass"]+counts["fail"] != steps || counts["fail"] != failed {
		t.Errorf("--json: %d steps passed, %d failed; want %d steps, %d failed", counts["pass"], counts["fail"], steps, failed)
	}
}

// checkJUnit counts the test cases and failures of a JUnit XML file.
func checkJUnit(t *testing.T, path string, steps, failed int) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Errorf("--junit file: %v", err)
		return
	}
	var doc struct {
		Suites []struct {
			Cases []struct {
				Failure *struct{} `xml:"failure"`
			} `xml:"testcase"`
		} `xml:"testsuite"`
	}
	if err := xml.Unmarshal(data, &doc); err != nil {
		t.Errorf("--junit: %v", err)
		return
	}
	n, f := 0, 0
	for _, s := range doc.Suites {
		for _, c := range s.Cases {
			n++
			if c.Failure != nil {
				f++
			}
		}
	}
	if n != steps || f != failed {
		t.Errorf("--junit: %d cases, %d failures; want %d, %d", n, f, steps, failed)
	}
}
