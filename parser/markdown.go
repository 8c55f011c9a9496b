package parser

import (
	"bytes"
	"regexp"
	"strings"

	"github.com/yuin/goldmark/ast"
	"github.com/yuin/goldmark/extension"
	gmparser "github.com/yuin/goldmark/parser"
	"github.com/yuin/goldmark/text"
	"github.com/yuin/goldmark/util"
)

// mdParser finds blocks only: code blocks are all we read, and inline
// parsing (emphasis, links...) would take most of the time. It also
// forgets the text of paragraphs, which would otherwise still be cut into
// text nodes.
var mdParser = gmparser.NewParser(
	gmparser.WithBlockParsers(gmparser.DefaultBlockParsers()...),
	// Definition lists (PHP Markdown Extra, Pandoc, mkdocs): a fence in a
	// ": description" closes where the reader sees it close.
	gmparser.WithBlockParsers(
		util.Prioritized(extension.NewDefinitionListParser(), 101),
		util.Prioritized(extension.NewDefinitionDescriptionParser(), 102),
	),
	gmparser.WithParagraphTransformers(util.Prioritized(dropText{}, 0)),
)

type dropText struct{}

func (dropText) Transform(n *ast.Paragraph, _ text.Reader, _ gmparser.Context) {
	n.SetLines(text.NewSegments())
}

// blockDirective matches the text of a "<!-- wordish: OPTIONS -->" comment.
var mdDirective = regexp.MustCompile(`^\s*<!--\s*wordish:((?s).*?)-->\s*$`)

func (p *parse) markdown() error {
	src := p.doc.Source
	off := bomLen(src)
	body := src[off:]
	root := mdParser.Parse(text.NewReader(body))
	li := newLineCounter(body)
	var err error
	walkErr := ast.Walk(root, func(n ast.Node, entering bool) (ast.WalkStatus, error) {
		if !entering {
			return ast.WalkContinue, nil
		}
		var info string
		switch c := n.(type) {
		case *ast.FencedCodeBlock:
			if c.Info != nil {
				info = string(c.Info.Segment.Value(body))
			}
		case *ast.CodeBlock:
		default:
			return ast.WalkContinue, nil
		}
		b := &block{editable: true}
		if b.opts, err = p.mdBlockOptions(n, body, li); err != nil {
			return ast.WalkStop, err
		}
		segs := n.Lines()
		b.lines = make([]srcLine, 0, segs.Len())
		for i := 0; i < segs.Len(); i++ {
			seg := segs.At(i)
			start := bytes.LastIndexByte(body[:seg.Start], '\n') + 1
			end := len(body)
			if j := bytes.IndexByte(body[seg.Start:], '\n'); j >= 0 {
				end = seg.Start + j + 1
			}
			stop := min(seg.Stop, end)
			t := strings.TrimRight(string(body[seg.Start:stop]), "\r\n")
			if seg.Padding > 0 {
				t = strings.Repeat(" ", seg.Padding) + t
			}
			b.lines = append(b.lines, srcLine{
				text:   t,
				num:    li.lineOf(seg.Start),
				start:  off + start,
				end:    off + end,
				prefix: string(body[start:seg.Start]),
			})
		}
		if _, ok := n.(*ast.CodeBlock); ok {
			b.lines, info = indentedFence(b.lines)
		}
		lang, directive, args := infoLang(info)
		switch directive {
		case "", "code-block", "code", "sourcecode":
		case "prompt":
			var a promptArgs
			a.positional(args)
			return ast.WalkSkipChildren, p.addPromptBlock(b, a)
		default:
			return ast.WalkSkipChildren, nil // a MyST directive that holds no code
		}
		b.lang = lang
		return ast.WalkSkipChildren, p.addBlock(b)
	})
	if walkErr != nil {
		return walkErr
	}
	return err
}

// mdBlockOptions reads a "<!-- wordish: OPTIONS -->" comment just before
// the code block.
func (p *parse) mdBlockOptions(n ast.Node, body []byte, li *lineCounter) (Options, error) {
	h, ok := n.PreviousSibling().(*ast.HTMLBlock)
	if !ok || h.Lines().Len() == 0 {
		return Options{}, nil
	}
	var t []byte
	for i := 0; i < h.Lines().Len(); i++ {
		seg := h.Lines().At(i)
		t = append(t, seg.Value(body)...)
	}
	if h.HasClosure() {
		seg := h.ClosureLine
		t = append(t, seg.Value(body)...)
	}
	m := mdDirective.FindSubmatch(t)
	if m == nil {
		return Options{}, nil
	}
	o, err := ParseOptions(string(m[1]))
	if err != nil {
		return Options{}, p.errorf(li.lineOf(h.Lines().At(0).Start), "%v", err)
	}
	return o, nil
}

// indentedFence reads an indented code block that holds a fence as the
// fenced block it is to the reader. CommonMark makes a fence indented four
// columns past a list item's content an indented code block, fence lines
// included, while Python-Markdown (mkdocs), Pandoc and the authors who
// indent list content by four spaces show the fenced block. It returns the
// lines between the fences (up to the end when the fence is not closed)
// and the info string; lines as they are when the block does not start
// with a fence.
func indentedFence(lines []srcLine) ([]srcLine, string) {
	first := 0
	for first < len(lines) && strings.TrimSpace(lines[first].text) == "" {
		first++
	}
	if first == len(lines) {
		return lines, ""
	}
	open := strings.TrimLeft(lines[first].text, " ")
	n := 0
	for n < len(open) && open[n] == open[0] {
		n++
	}
	if n < 3 || open[0] != '`' && open[0] != '~' || open[0] == '`' && strings.Contains(open[n:], "`") {
		return lines, ""
	}
	fence := open[:n]
	for k := first + 1; k < len(lines); k++ {
		t := strings.TrimSpace(lines[k].text)
		if strings.HasPrefix(t, fence) && strings.Trim(t, fence[:1]) == "" {
			return lines[first+1 : k], open[n:]
		}
	}
	return lines[first+1:], open[n:]
}
