package parser

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"mvdan.cc/sh/v3/syntax"
)

// TestLongCommands: heredocs and quotes are followed to their end however
// long they are (they cost no parsing); a command whose end only the shell
// parser can find, and that stays open past the document's budget, is an
// error naming its line, not a command cut where the budget ran out.
func TestLongCommands(t *testing.T) {
	body := func(n int, f string) string {
		var b strings.Builder
		for i := range n {
			fmt.Fprintf(&b, f, i)
		}
		return b.String()
	}
	for _, c := range []struct {
		name  string
		src   string
		lines int // lines of the first command, 0 for an error
		err   string
	}{
		{"heredoc of 5000 lines", "```console\n$ cat <<EOF >f\n" + body(5000, "line %d of a long file\n") + "EOF\n$ wc -l <f\n5000\n```\n", 5002, ""},
		{"heredoc of 200 KiB in a few lines", "```console\n$ cat <<'EOF' >f\n" + body(20, strings.Repeat("x", 10<<10)+"%d\n") + "EOF\n$ true\n```\n", 22, ""},
		{"quote over 3000 lines", "```console\n$ echo \"\n" + body(3000, "%d\n") + "\"\n$ true\n```\n", 3002, ""},
		{"function of 300 lines", "```console\n$ f () {\n" + body(300, "  echo %d\n") + "}\n$ f | wc -l\n300\n```\n", 302, ""},
		{"function of 3000 lines with quotes", "```console\n$ f () {\n" + body(3000, "  echo \"line %d\"; printf '%%s\\n' x\n") + "}\n$ f | wc -l\n6000\n```\n", 3002, ""},
		{"if of 3000 lines", "```console\n$ if true; then\n" + body(3000, "  echo \"$((%d + 1))\" | tr -d 1\n") + "fi\n$ true\n```\n", 3002, ""},
		// Every line holds the "}" that could close the function, so
		// every line asks the parser again.
		{"function that never closes", "text\n\n```console\n$ f () {\n" + body(20000, "  echo ${x}%d;\n") + "```\n", 0, "a.md:4: command still open after "},
	} {
		t.Run(c.name, func(t *testing.T) {
			doc, err := Parse("a.md", []byte(c.src), Config{})
			if c.err != "" {
				if _, ok := err.(*Error); !ok || !strings.HasPrefix(err.Error(), c.err) {
					t.Fatalf("error %v, want %s...", err, c.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			steps := doc.Steps()
			if len(steps) != 2 {
				t.Fatalf("%d steps, want 2", len(steps))
			}
			if n := strings.Count(steps[0].Command, "\n") + 1; n != c.lines {
				t.Errorf("first command has %d lines, want %d", n, c.lines)
			}
		})
	}
}

func TestCloserOf(t *testing.T) {
	for src, want := range map[string]string{
		"f () {\n a\n":     "}",
		"if x; then\n a\n": "fi",
		"case x in\n":      "esac",
		"echo \"a\n":       `"`,
		"echo 'a\n":        "'",
		"echo `a\n":        "`",
		"echo $((1\n":      ")",
		"[[ a\n":           "]",
		"for i in 1; do\n": "", // no body yet: any line may go on
		"while x\n":        "",
		"x |\n":            "",
	} {
		_, err := syntax.NewParser(syntax.Variant(syntax.LangBash)).Parse(strings.NewReader(src), "")
		var perr syntax.ParseError
		if !errors.As(err, &perr) {
			t.Fatalf("%q: %v", src, err)
		}
		if got := closerOf(perr.Text); got != want {
			t.Errorf("closerOf(%q) = %q, want %q", perr.Text, got, want)
		}
	}
}
