// Package wordish is the root of the wordish module, which replays the
// shell sessions of articles (Markdown, reStructuredText, HTML) and
// reports what drifted. The program is cmd/wordish; the packages are
// parser (articles to steps), session (a persistent shell on a
// pseudo-terminal), runner (replay, judgement, reports) and wordishtest
// (checking articles from `go test`).
//
// This package has no code: it holds docs_test.go, which checks the
// project's own README.md and user guide with wordishtest.Test.
package wordish
