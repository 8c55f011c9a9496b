package update

import "github.com/wordish-go/wordish/runner"

// nopReporter discards the events of a run (the tests read its result).
type nopReporter struct{}

func (nopReporter) StartDoc(string)                 {}
func (nopReporter) Step(string, *runner.StepResult) {}
func (nopReporter) EndDoc(*runner.DocResult)        {}
