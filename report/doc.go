// Package report writes what a run did: the text report of `wordish run`
// (NewTextReporter), a `go test -json` event stream (NewJSONReporter),
// JUnit XML (NewJUnitReporter) and one HTML page (NewHTMLReporter). Each
// is a runner.Reporter; the file reports are FileReporters, listed in
// Formats, the one table a new format is added to. Multi sends a run's
// events to several reporters.
package report
