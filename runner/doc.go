// Package runner is the replay engine and the judge: Run replays one
// parser.Document in a fresh session and returns a DocResult, telling a
// Reporter as it goes (package report writes them; wordish.Run is the
// whole pipeline: many documents, in parallel, with their reports). Every
// step is passed, failed, errored, skipped or not run; see Outcome. A
// step's output is judged by a Matcher (Compile: exact lines, "..."
// wildcards, regex, norm-ws) and a failure explained by a unified diff
// (Detail). StepName names a step in every machine-readable report, and
// Script turns a document into a bash script (`wordish script`).
//
// Options carries what the command line's flags set for the replay
// (timeout, shell, environment, working directory, keep-going); its zero
// value is what `wordish run` does by default.
package runner
