// Package wordish replays the shell sessions of articles (Markdown,
// reStructuredText, HTML) and reports what drifted. Run is the whole
// pipeline, as `wordish run` does it:
//
//	paths → read and parse (parser) → select (FILE:LINE, Config.Run, Config.Shard)
//	      → root check → replay, Config.Jobs documents in parallel (runner, session)
//	      → reports (report) → rewrite what drifted, with Config.Update (update)
//	      → Summary (counts, exit status)
//
// Config holds every setting, grouped by the layer that reads it; its
// zero value is `wordish run` without flags. The command (cmd/wordish)
// turns its flags into a Config and calls Run; `wordish update` is the
// same Run with Update set; the go test integration (package
// wordishtest) runs each article with Run too; the VM sandbox hands the
// Config to its guest as JSON.
//
//	sum, err := wordish.Run(ctx, wordish.Config{Stdout: os.Stdout}, []string{"README.md"})
//
// This package's docs_test.go checks the project's own README.md and user
// guide with wordishtest.Test.
package wordish
