package main

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"
)

// chromium runs headless Chromium on a page with the given mode flags
// (--dump-dom, --screenshot=...) and returns its standard output. The
// test is skipped when Chromium is not installed (.ci/deps installs it).
func chromium(t *testing.T, page string, mode ...string) []byte {
	t.Helper()
	bin, err := exec.LookPath("chromium")
	if err != nil {
		t.Skip("chromium is not installed (Debian package chromium; .ci/deps installs it)")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	args := append([]string{"--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
		"--disable-background-networking", "--user-data-dir=" + t.TempDir()}, mode...)
	cmd := exec.CommandContext(ctx, bin, append(args, "file://"+page)...)
	// Chromium forks helpers: kill the whole group on timeout.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = 5 * time.Second
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		t.Fatalf("chromium %v: %v\n%s", mode, err, errb.String())
	}
	return out.Bytes()
}

// TestHTMLReportInChromium writes the HTML report of a fixture with every
// outcome, opens it in headless Chromium, and reads the DOM Chromium
// built: each step's verdict, the failing diff, the summary's links. It
// also takes a screenshot; with -update it becomes docs/html-report.png,
// the picture the README shows.
func TestHTMLReportInChromium(t *testing.T) {
	dir := t.TempDir()
	page := filepath.Join(dir, "report.html")
	_, stderr, code := wordish(t, "run", "--html", page, "report/testdata/html/outcomes.md")
	if code != 1 {
		t.Fatalf("exit status %d, want 1\n%s", code, stderr)
	}
	dom, err := goquery.NewDocumentFromReader(bytes.NewReader(chromium(t, page, "--dump-dom")))
	if err != nil {
		t.Fatal(err)
	}
	want := []struct {
		line    int
		verdict string
	}{{7, "passed"}, {8, "passed"}, {10, "passed"}, {18, "failed"}, {22, "failed"},
		{28, "skipped"}, {35, "errored"}, {37, "not run"}, {43, "passed"}}
	steps := dom.Find("section.step")
	if steps.Length() != len(want) {
		t.Errorf("%d steps in the DOM, want %d", steps.Length(), len(want))
	}
	for _, w := range want {
		id := "report/testdata/html/outcomes.md-L" + strconv.Itoa(w.line)
		s := dom.Find(`section[id="` + id + `"]`)
		if got := s.Find(".verdict").Text(); got != w.verdict {
			t.Errorf("%s: verdict %q, want %q", id, got, w.verdict)
		}
	}
	diff := dom.Find(`section[id="report/testdata/html/outcomes.md-L18"] pre.diff`).Text()
	for _, l := range []string{"--- expected", "+++ actual", "-2 <b>", "+two <b>"} {
		if !strings.Contains(diff, l+"\n") {
			t.Errorf("diff lacks %q:\n%s", l, diff)
		}
	}
	if n := dom.Find("script").Length(); n != 0 {
		t.Errorf("%d script elements in the DOM, want 0", n)
	}
	var links []string
	dom.Find("ul.problems a").Each(func(_ int, a *goquery.Selection) { links = append(links, a.AttrOr("href", "")) })
	if got := strings.Join(links, " "); got != "#report/testdata/html/outcomes.md-L18 #report/testdata/html/outcomes.md-L22 #report/testdata/html/outcomes.md-L35" {
		t.Errorf("summary links: %s", got)
	}

	shot := filepath.Join(dir, "report.png")
	chromium(t, page, "--window-size=1000,1500", "--hide-scrollbars", "--screenshot="+shot)
	png, err := os.ReadFile(shot)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(png, []byte("\x89PNG\r\n\x1a\n")) || len(png) < 10000 {
		t.Fatalf("screenshot is not a picture (%d bytes)", len(png))
	}
	if *update {
		if err := os.WriteFile(filepath.Join(repoRoot, "docs", "html-report.png"), png, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// TestHTMLRefusesArticles checks that --html never overwrites an
// article: usage error, exit 2, and the file untouched.
func TestHTMLRefusesArticles(t *testing.T) {
	dir := t.TempDir()
	article := filepath.Join(dir, "page.html")
	if err := os.WriteFile(article, []byte("<html><pre>$ echo hi\nhi</pre></html>\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	old := filepath.Join(dir, "old.html")
	if _, _, code := wordish(t, "run", "--html", old, "fixtures/pass.md"); code != 0 {
		t.Fatalf("first report: exit %d", code)
	}
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"a document", []string{"--html", "fixtures/pass.md", "fixtures/pass.md"}, "is one of the documents"},
		{"a document by another name", []string{"--html", "./fixtures//article.html", "fixtures/article.html"}, "is one of the documents"},
		{"markdown extension", []string{"--html", filepath.Join(dir, "report.md"), "fixtures/pass.md"}, "has the extension of an article"},
		{"rst extension", []string{"--html", filepath.Join(dir, "report.rst"), "fixtures/pass.md"}, "has the extension of an article"},
		{"an HTML article", []string{"--html", article, "fixtures/pass.md"}, "is not a wordish report"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, sub := range []string{"run", "update"} {
				_, stderr, code := wordish(t, append([]string{sub}, tt.args...)...)
				if code != 2 || !strings.Contains(stderr, tt.want) {
					t.Errorf("%s: exit %d, stderr %q; want 2 and %q", sub, code, stderr, tt.want)
				}
			}
		})
	}
	if b, _ := os.ReadFile(article); !strings.HasPrefix(string(b), "<html><pre>") {
		t.Error("the HTML article was changed")
	}
	// A report wordish wrote earlier may be overwritten.
	if _, stderr, code := wordish(t, "run", "--html", old, "fixtures/pass.md"); code != 0 {
		t.Errorf("overwriting a report: exit %d: %s", code, stderr)
	}
}
