// Package parser reads articles (Markdown, reStructuredText, HTML) and
// finds their shell sessions: code blocks made of prompt lines, the
// commands typed after them, and the output the article shows.
//
// # Blocks
//
// Markdown is parsed with goldmark: fenced (``` and ~~~) and indented
// code blocks, also inside lists and blockquotes. reST is scanned here:
// the sourcecode, code-block and code directives (their ":option:" lines
// skipped) and "::" literal blocks, with tabs expanded to 8-column stops.
// HTML is read with goquery: every <pre>, highlighting markup stripped,
// entities decoded, <br> as a newline, line numbers counted in the HTML
// source.
//
// A block tagged console, shell-session, sh-session or terminal is a
// session. A block tagged sh, bash, shell or zsh, an untagged block and a
// text block are sessions only when they hold prompt lines. Other
// languages are not sessions in Markdown and reST; in HTML, where Sphinx
// labels every literal block with its default language, any <pre> with
// prompt lines is.
//
// # Prompts
//
// A prompt line starts with "$ ", "% ", "# ", "~$ " or "~/dir# ",
// "user@host:path$ ", "[user@host dir]$ ", each optionally behind a
// "(venv) " marker, or with one of Config.Prompts. A prompt ending in "#"
// marks a root step. A line holding just a prompt ("$") ends the previous
// output and gives no step.
//
// A bare "# " is also how shell comments and many outputs begin, so it is
// a prompt only where the block's prompt style makes it one:
//
//   - in a block that has any other kind of prompt line ("$ ", "~# ",
//     "root@host# "...), "# " lines are comments or output;
//   - in a block tagged sh, bash, shell or zsh (a script, where "#" starts
//     comments), "# " lines are never prompts;
//   - otherwise (console-like, text and untagged blocks whose only prompts
//     are bare "#"), "# " lines are root prompts.
//
// # Commands and output
//
// After a prompt, the command goes on over the following lines for as
// long as the bash parser of mvdan.cc/sh says it is incomplete: open
// quotes, brackets and braces, compound commands, heredoc bodies up to
// their terminator, a trailing backslash, "&&" or "|". Continuation lines
// win over prompt-like text, as in a shell. When the first continuation
// line starts with a PS2 "> ", that prefix is removed from the
// continuation lines that have it. Once the command is complete, every
// line up to the next prompt line is output, including lines starting
// with "> ". A command that is still open at the end of the block (or
// after 1000 lines or 64 KiB) ends there.
//
// The bash parser is only asked when a cheap scan of quotes, escapes and
// operators cannot tell, a heredoc body is read up to its terminator line
// without asking again, and each document has a parsing budget (four
// times its size plus 2 MiB) past which open commands end where they
// are: no input, however crafted, takes more than linear time.
//
// Trailing blanks are removed from every line (a reader cannot see them)
// and trailing blank lines from the output; the indentation that all
// lines of a block share is not part of the text.
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
