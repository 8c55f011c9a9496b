// Command mkdocs renders a Markdown article to a standalone HTML page with
// highlighted code blocks, as documentation generators publish them: each
// block is a <pre> full of <span>s with chroma (Pygments-compatible)
// classes, and the page carries the matching style sheet.
//
//	cd tools/mkdocs && go run . ../../docs/lvm.md ../../docs/lvm.html
//
// It is a module of its own so that wordish itself does not depend on the
// highlighter. Raw HTML in the Markdown (such as wordish's
// <!-- wordish: ... --> directives) is kept. The output depends only on the
// input, so the checked-in page can be compared with a fresh rendering.
package main

import (
	"bytes"
	"fmt"
	"html"
	"os"
	"strings"

	chromahtml "github.com/alecthomas/chroma/v2/formatters/html"
	"github.com/alecthomas/chroma/v2/styles"
	"github.com/yuin/goldmark"
	highlighting "github.com/yuin/goldmark-highlighting/v2"
	"github.com/yuin/goldmark/ast"
	"github.com/yuin/goldmark/extension"
	"github.com/yuin/goldmark/parser"
	gmhtml "github.com/yuin/goldmark/renderer/html"
	"github.com/yuin/goldmark/text"
)

const style = "friendly"

func main() {
	if len(os.Args) != 3 {
		fmt.Fprintln(os.Stderr, "usage: mkdocs IN.md OUT.html")
		os.Exit(2)
	}
	src, err := os.ReadFile(os.Args[1])
	if err != nil {
		fmt.Fprintln(os.Stderr, "mkdocs:", err)
		os.Exit(1)
	}
	page, err := render(src)
	if err != nil {
		fmt.Fprintf(os.Stderr, "mkdocs: %s: %v\n", os.Args[1], err)
		os.Exit(1)
	}
	if err := os.WriteFile(os.Args[2], page, 0o644); err != nil {
		fmt.Fprintln(os.Stderr, "mkdocs:", err)
		os.Exit(1)
	}
}

// render turns Markdown into a whole HTML page.
func render(src []byte) ([]byte, error) {
	md := goldmark.New(
		goldmark.WithExtensions(
			extension.GFM,
			highlighting.NewHighlighting(
				highlighting.WithStyle(style),
				highlighting.WithFormatOptions(chromahtml.WithClasses(true)),
			),
		),
		goldmark.WithParserOptions(parser.WithAutoHeadingID()),
		goldmark.WithRendererOptions(gmhtml.WithUnsafe()),
	)
	doc := md.Parser().Parse(text.NewReader(src))
	var body bytes.Buffer
	if err := md.Renderer().Render(&body, src, doc); err != nil {
		return nil, err
	}
	var css bytes.Buffer
	if err := chromahtml.New(chromahtml.WithClasses(true)).WriteCSS(&css, styles.Get(style)); err != nil {
		return nil, err
	}
	var page bytes.Buffer
	page.WriteString("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n")
	fmt.Fprintf(&page, "<title>%s</title>\n", html.EscapeString(title(doc, src)))
	page.WriteString("<!-- generated from the Markdown source by tools/mkdocs: do not edit -->\n")
	page.WriteString("<style>\nbody { max-width: 50em; margin: 2em auto; padding: 0 1em; font-family: sans-serif; line-height: 1.45; }\n")
	page.WriteString("pre { padding: .6em .8em; overflow-x: auto; }\n")
	page.Write(css.Bytes())
	page.WriteString("</style>\n</head>\n<body>\n")
	page.Write(body.Bytes())
	page.WriteString("</body>\n</html>\n")
	return page.Bytes(), nil
}

// title is the text of the first heading.
func title(doc ast.Node, src []byte) string {
	var t string
	ast.Walk(doc, func(n ast.Node, entering bool) (ast.WalkStatus, error) {
		if h, ok := n.(*ast.Heading); ok && entering {
			var b strings.Builder
			for c := h.FirstChild(); c != nil; c = c.NextSibling() {
				if tx, ok := c.(*ast.Text); ok {
					b.Write(tx.Segment.Value(src))
				} else if cs, ok := c.(*ast.CodeSpan); ok {
					for cc := cs.FirstChild(); cc != nil; cc = cc.NextSibling() {
						if tx, ok := cc.(*ast.Text); ok {
							b.Write(tx.Segment.Value(src))
						}
					}
				}
			}
			t = b.String()
			return ast.WalkStop, nil
		}
		return ast.WalkContinue, nil
	})
	return t
}
