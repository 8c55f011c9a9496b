// Package parser reads articles (Markdown, reStructuredText, HTML) and
// finds their shell sessions: code blocks made of prompt lines, the
// commands typed after them, and the output the article shows.
//
// Each format is a reader in a file of its own (markdown.go, rst.go,
// html.go) that finds the code blocks and their source positions, and a
// line of the formats table (format.go) that names it and its file
// extensions; prompts, steps and directives are the same for all
// (split.go, command.go, prompt.go, options.go).
//
// # Blocks
//
// Markdown is parsed with goldmark: fenced (``` and ~~~) and indented
// code blocks, also inside lists, blockquotes and definition lists
// (goldmark's extension: "Term" then ":   description"). An indented code
// block that holds a line opening a fence is read as the fenced blocks in
// it, the text around them dropped, as Python-Markdown (mkdocs) and
// Pandoc show a fence indented four columns past a list item's text or in
// an admonition's indented body ("!!! note"); each ends at its closing
// fence, or with the indented block.
//
// reST is scanned here: the sourcecode, code-block and code directives
// (their ":option:" lines skipped), parsed-literal (untagged; its inline
// markup is not rendered), sphinx-prompt's prompt directive
// (below) and "::" literal blocks (whose language is that of the last
// ".. highlight:: LANG" when it is a shell's); the tabs of a line's
// indentation are expanded to 8-column stops to find the structure, the
// tabs after it are text and stay.
//
// HTML is read with goquery: every <pre>, highlighting markup stripped,
// entities decoded, <br> as a newline, line numbers counted in the HTML
// source. What a reader does not see is dropped (line numbers: Sphinx's
// "linenos", Hugo's "ln", Zola's first table cell; Asciidoctor's "conum"
// callouts; mdBook's hidden "boring" lines, shown only on request; style
// sheets and scripts inside the <pre>) and what CSS shows is added: the
// text of a "span.CLASS:before { content: "..." }" rule before each such
// span, and of a "span:before" rule in a style sheet inside the <pre>
// before each of its plain spans (sphinx-prompt's prompts, new and old).
//
// # Languages
//
// A Markdown info string's language is its first word, split at ",",
// blanks and braces: "shell,hidelines=#" and "console title="x"" are
// shell and console. In a Pandoc attribute list ("{.bash .numberLines}",
// "{#id .console}") it is the first class; a MyST directive
// ("{code-block} console") gives its argument, "{prompt} ..." is a
// prompt directive, and others ("{note}") hold no code. In HTML the
// language is in a "language-X" or "lang-X" class of the <code> or <pre>
// (what follows a "," is dropped), a "highlight-X" class of an ancestor
// (Sphinx, GitHub), a shell's bare name among the classes (Pandoc's
// "sourceCode console") or a data-lang or data-language attribute
// (Asciidoctor with Rouge, Zola, Astro).
//
// A block tagged console, shell-session, sh-session or terminal is a
// session. A block tagged sh, bash, shell or zsh, an untagged block and a
// text block are sessions only when they hold prompt lines. Other
// languages, a mistyped tag ("consle") among them, are not sessions in
// Markdown and reST; in HTML, where Sphinx labels every literal block with
// its default language, any <pre> with prompt lines is.
//
// # Prompts
//
// A prompt line starts with a prompt and a blank (or is just the prompt,
// an empty command). The prompts are a closed grammar, the prompts shells
// print by default and people paste, each ending in "$", "#" (root) or
// "%", each optionally behind a "(venv) ", "(base) " or "(.venv) "
// marker:
//
//	$ ls                        bare: "$ ", "# ", "% "
//	~$ ls  ~/src# ls            a "~" path
//	me@box:~/src$ ls            user@host:path (Debian, Ubuntu)
//	pi@raspberrypi:~ $ ls       the same with a space before "$" or "%"
//	missing:~$ ls               host:path, path starting with "~" or "/"
//	me@mbp ~ % ls               user@host path (zsh, Gentoo)
//	[root@box ~]# ls            [user@host dir] (Fedora, RHEL), blanks
//	[root@box ~ ] # ls          inside the brackets and before the sigil
//	bash-5.2$ ls  sh-4.4# ls    shell-version (sh, bash, zsh, ksh, mksh,
//	                            dash, ash)
//
// User, host and marker names are letters, digits, "_", "-" and "."; a
// path holds no blank, "$" or "#". Anything else is not a prompt, so
// these lines are output: "Total: 5 $ ", "http://x/$ ", "100% done",
// "foo% bar".
// Config.Prompts (--prompt) adds literal prompts. A line holding just a
// prompt ("$") ends the previous output and gives no step.
//
// A bare "# " is also how shell comments and many outputs begin, so it is
// a prompt only where the block's prompt style makes it one:
//
//   - in a block that has any other kind of prompt line ("$ ", "~# ",
//     "root@host# "...), "# " lines are comments or output;
//   - in a block tagged sh, bash, shell or zsh (a script, where "#" starts
//     comments), "# " lines are never prompts;
//   - otherwise (console-like, text and untagged blocks whose only prompts
//     are bare "#"), "# " lines are root prompts, except in output (below);
//   - and never when the text after "# " starts with a capital letter
//     ("# Now restart it", "# This file is managed by Puppet"): commands
//     are written in lower case, sentences are not; a first word holding
//     "=" ("# LANG=C sort") is a command all the same.
//
// # Commands and output
//
// After a prompt, the command goes on over the following lines for as
// long as the bash parser of mvdan.cc/sh says it is incomplete: open
// quotes, brackets and braces, compound commands, heredoc bodies up to
// their terminator, a trailing backslash, "&&" or "|". Continuation lines
// win over prompt-like text, as in a shell. When the first continuation
// line starts with a continuation prompt, that prefix is removed from the
// continuation lines that have one: bash's PS2 "> ", or zsh's, which names
// what is open: one or more of heredoc, quote, dquote, bquote, for, while,
// until, repeat, select, if, then, else, elif, case, pipe, cmdand, cmdor,
// subsh, cursh, function, cmdsubst, mathsubst, braceparam, array, always,
// math, cond, foreach, errpipe, brace, elif-then, heredocd, separated by
// single blanks and followed by "> " ("heredoc> ", "for pipe> "). Once the
// command is complete, every line up to the next prompt line is output,
// including lines starting with "> " or "if> ". A command that is still
// open at the end of the block ends there; heredocs and quotes run on for
// as many lines as they need.
//
// Annotations. In a block whose prompts are not bare "#" (a "$"-style
// block), the author writes comments in "#" lines (lines of "#" alone, or
// "#"s and a blank; not "#!/bin/sh" or "#define"). A run of them that
// leads straight into the next prompt and comes after a blank line, or, in
// a block tagged sh, bash, shell or zsh (where "#" starts comments), right
// after the command ("$ cd src", "# then build", "$ make"), is the
// author's comment on the next command, not output of the one before: the
// output ends before it. A run at the start of the block is no output
// either (nothing before the first prompt is). An exercise marker after a
// blank line ("### " or more "#", or a "#" comment with "expected output"
// in it, as in "##### add your solution here") ends the output too: what
// follows is what the reader has to produce, not what the command printed.
// Limits: the output of a command that prints a blank line and then only
// "#" lines just before the next prompt (the end of a commented
// configuration file), or in a script block only "#" lines, loses them,
// and so does output that holds an exercise-like marker; "#" lines not
// after a blank line, or followed by other output, stay output.
//
// "#" lines in a root block. In a block whose prompts are bare "# ",
// output can itself hold "#" lines (a trace file's "# tracer: nop",
// getfacl's "# file: dir"). A "#" line met after a command starts a run
// of consecutive lines starting with "#"; the run is output, not
// prompts, when one of its lines cannot be a command: "#" followed by no
// blank ("#P:8") or by several blanks (column headings), a lone "#" that
// is not the run's last line, a first word ending in ":" ("file:",
// "owner:": no command is named so), or text the bash parser rejects
// ("# see ) here"). Otherwise every line of the run is a prompt. Limits:
// the run ends only at a line that does not start with "#", so a real
// command written right after such output, with no other output line
// between, is read as output; and output whose "#" lines all read as
// commands ("# owner root") is read as commands.
//
// The bash parser is only asked when a cheap scan of quotes, escapes and
// operators cannot tell, a heredoc body is read up to its terminator line
// without asking again, the body of an open construct is asked about only
// at lines that hold its end (the "}", "fi", ")" or quote the parser
// said it waits for), and each document has a parsing budget (four
// times its size plus 2 MiB): a command still open when it runs out is
// an error naming the command's line ("command still open after N
// lines"), so that no input, however crafted, takes more than linear
// time. Markdown lists and block quotes nested deeper than 100 levels
// are an error too: goldmark's time grows with depth times length.
//
// Trailing blanks are removed from every line (a reader cannot see them)
// and trailing blank lines from the output; the indentation that all
// lines of a block share is not part of the text. Otherwise Command and
// Expected are the article's text: tabs stay tabs (matching, not parsing,
// expands them as a terminal does).
//
// # sphinx-prompt
//
// The prompt directive of the sphinx-prompt extension (".. prompt::
// bash $ auto" in reST, "```{prompt} bash $ auto" in MyST), with its
// arguments as words or as :language:, :prompts: and :modifiers:
// options, is read as sphinx-prompt renders it. Only shell languages
// (bash, sh, shell, zsh, console; "text" with prompts given) are
// sessions; bash's default prompt is "$". With the "auto" modifier the
// body is a session whose prompts are the directive's comma-separated
// ones, each followed by a blank, and nothing else: like a console code
// block, with output between the commands. Without "auto", sphinx-prompt
// shows every body line (bash lines ending in "\" joined to the next)
// behind the prompt and no output: each is a step whose output is not
// shown, so its options have ignore-output, its Origin is
// OriginPromptDirective ("prompt directive", which wordish list shows)
// and it cannot be updated in place.
//
// # Directives
//
// OPTIONS (see ParseOptions) apply to every step of the next block when
// written as a Markdown "<!-- wordish: OPTIONS -->" comment just before
// the block (in HTML, the same comment before a <pre>, with no text
// between, as a Markdown renderer that keeps raw HTML leaves it) or a reST
// ".. wordish: OPTIONS" comment, and to one command
// when written as a trailing "# wordish: OPTIONS" comment on it; the
// command's own options win.
//
// # Update mode
//
// In Markdown and reST, a Step's OutputStart, OutputEnd and LinePrefix
// locate its output in Document.Source; Document.RenderOutput gives the
// replacement text for a new output. HTML steps are not editable.
package parser
