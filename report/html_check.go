package report

import (
	"bytes"
	"fmt"
	"io"
	"os"

	"github.com/wordish-go/wordish/parser"
)

// wordishMark is in the head of every page wordish writes
// (html.tmpl); a file that has it may be overwritten.
var wordishMark = []byte(`<meta name="generator" content="wordish">`)

// checkHTMLOut refuses an --html FILE that would destroy an article (one
// of the documents of the run is refused by Check): a file with a Markdown or reST extension,
// or an existing HTML file that wordish did not write (an HTML article
// such as docs/lvm.html). A usage error, before anything runs.
func checkHTMLOut(out string) error {
	outInfo, statErr := os.Stat(out)
	if f, err := parser.FormatOf(out); err == nil && f != parser.HTML {
		return fmt.Errorf("--html %s: has the extension of an article (%s); name the report FILE.html", out, f)
	}
	if statErr != nil {
		return nil // a new file
	}
	if outInfo.IsDir() {
		return fmt.Errorf("--html %s: is a directory", out)
	}
	head := make([]byte, 4096)
	fh, err := os.Open(out)
	if err != nil {
		return fmt.Errorf("--html %s: %v", out, err)
	}
	n, _ := io.ReadFull(fh, head)
	fh.Close()
	if !bytes.Contains(head[:n], wordishMark) {
		return fmt.Errorf("--html %s: exists and is not a wordish report (an article?); remove it or name another file", out)
	}
	return nil
}
