package wordish

import (
	"context"
	"errors"
	"fmt"
	"io"
	"regexp"
	"runtime"
	"sort"
	"sync"

	"github.com/wordish-go/wordish/parser"
	"github.com/wordish-go/wordish/report"
	"github.com/wordish-go/wordish/runner"
	"github.com/wordish-go/wordish/update"
)

// Exit statuses (Summary.Status), as `wordish run` exits.
const (
	StatusOK     = 0 // every step passed or was skipped
	StatusFailed = 1 // a step failed or errored
	// StatusBad: a document could not be read or parsed (the others
	// still ran), a report or a rewrite could not be written; it wins
	// over StatusFailed. A usage error, where nothing ran, is Run's
	// error, and the command exits 2 for it too.
	StatusBad = 2
)

// Summary is what a Run did.
type Summary struct {
	// Docs are the documents replayed, in argument order; one that could
	// not be read or parsed has Err set and no steps.
	Docs       []*runner.DocResult
	Counts     runner.Counts  // the steps reported, over every document
	Unreadable int            // documents that could not be read or parsed
	Rewritten  map[string]int // with Config.Update: steps rewritten, by path
	WriteErrs  []error        // reports or rewrites that could not be written (said on Stderr too)
	Status     int            // StatusOK, StatusFailed or StatusBad
}

// Run is the pipeline of `wordish run`: it reads and parses the
// documents named by paths, keeps the steps cfg selects, refuses the run
// if a document has a root step and this is not root (or, with Update,
// is an HTML page), replays up to cfg.Jobs documents in parallel, each
// in a fresh shell, writes the reports and, with cfg.Update, rewrites
// what drifted. When ctx is cancelled the running commands are
// interrupted, cleanup steps run, and the reports are still complete.
//
// A path is a file; FILE:LINE[,LINE...], the steps at those lines (the
// steps before them still replay, to rebuild their state); a directory,
// every article below it in sorted order, skipping hidden directories,
// vendor and node_modules; or a glob pattern with "**". A document named
// twice is replayed once.
//
// The error is a usage error, and then nothing ran: a bad Config, a
// selection that selects no step, a refused document or report file.
// Problems with one document (unreadable, unparsable) are in the Summary
// instead, and the others still run.
func Run(ctx context.Context, cfg Config, paths []string) (Summary, error) {
	r, err := newRun(cfg, paths)
	if err != nil {
		return Summary{}, err
	}
	return r.replay(ctx)
}

// pipeline is the state of one Run.
type pipeline struct {
	cfg     Config
	stderr  io.Writer
	targets []*target // in argument order; each holds its document or why not
	sels    map[*target]func(*parser.Step) bool
	total   int // steps that will start, for the progress line

	mu   sync.Mutex
	docs []*runner.DocResult // by target
	upd  *update.Updater     // with cfg.Update
}

// newRun does what comes before the replay: the configuration checked,
// the documents read, parsed and selected, the root and update checks.
func newRun(cfg Config, paths []string) (*pipeline, error) {
	p := &pipeline{cfg: cfg, stderr: cfg.Stderr}
	if p.stderr == nil {
		p.stderr = io.Discard
	}
	var runRE *regexp.Regexp
	if cfg.Run != "" {
		re, err := regexp.Compile(cfg.Run)
		if err != nil {
			return nil, fmt.Errorf("--run: %v", err)
		}
		runRE = re
	}
	if cfg.ShardTiming != "" && cfg.Shard.N == 0 {
		return nil, fmt.Errorf("--shard-timing needs --shard K/N")
	}
	p.targets = expandArgs(paths)
	if err := report.Check(cfg.Report.Files, p.paths()); err != nil {
		return nil, err
	}
	if err := p.selectTargets(runRE); err != nil {
		return nil, err
	}
	var errs []error
	for _, t := range p.targets {
		if t.doc == nil {
			continue
		}
		p.total += startedSteps(t.doc, p.sels[t])
		if err := runner.CheckRoot(t.doc); err != nil {
			errs = append(errs, err)
		}
		if cfg.Update && t.doc.Format == parser.HTML {
			errs = append(errs, fmt.Errorf("update: %s: cannot rewrite an HTML page; update the source the page was built from (Markdown or reStructuredText) and rebuild the page", t.doc.Path))
		}
	}
	return p, errors.Join(errs...)
}

// paths are the documents' paths, in argument order.
func (p *pipeline) paths() []string {
	out := make([]string, len(p.targets))
	for i, t := range p.targets {
		out[i] = t.path
	}
	return out
}

// replay runs the documents and reports.
func (p *pipeline) replay(ctx context.Context) (Summary, error) {
	files := p.paths()
	stdout := p.cfg.Stdout
	if stdout == nil {
		stdout = io.Discard
	}
	reps, textOut, closers, err := report.Open(p.cfg.Report.Files, files, stdout)
	if err != nil {
		return Summary{}, err
	}
	topt := p.cfg.Report.TextOptions
	topt.Total = p.total
	text := report.NewTextReporter(textOut, topt)
	text.Begin(files)
	rep := runner.Reporter(text)
	if len(reps) > 0 {
		rep = report.Multi(append([]runner.Reporter{text}, reps...))
	}
	if p.cfg.Update {
		p.upd = update.NewUpdater(rep)
		p.upd.Choose = p.cfg.Choose
		rep = p.upd
	}
	p.docs = make([]*runner.DocResult, len(p.targets))
	p.work(ctx, rep)

	text.Finish()
	sum := p.summary()
	for _, c := range closers {
		if err := c(); err != nil {
			fmt.Fprintf(p.stderr, "wordish: %v\n", err)
			sum.WriteErrs = append(sum.WriteErrs, err)
			sum.Status = StatusBad
		}
	}
	p.reportUpdates(&sum)
	return sum, nil
}

// work replays the documents, up to cfg.Jobs in parallel, started in
// argument order (the text reporter keeps each document's output
// together, in that order).
func (p *pipeline) work(ctx context.Context, rep runner.Reporter) {
	jobs := p.cfg.Jobs
	if jobs <= 0 {
		jobs = runtime.NumCPU()
	}
	next := make(chan int)
	var wg sync.WaitGroup
	for w := 0; w < min(jobs, len(p.targets)); w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				if !p.stopped() {
					p.replayOne(ctx, i, rep)
				}
			}
		}()
	}
	for i := range p.targets {
		if p.stopped() {
			break
		}
		next <- i
		if i+1 < len(p.targets) && ctx.Err() == nil {
			// The next document's shell starts while this one runs.
			runner.Prestart(p.cfg.Replay)
		}
	}
	close(next)
	wg.Wait()
	runner.DropSpare()
}

// stopped reports whether the update's Chooser asked that no more
// document be replayed (update -i: the user quit).
func (p *pipeline) stopped() bool { return p.upd != nil && p.upd.Stopped() }

func (p *pipeline) replayOne(ctx context.Context, i int, rep runner.Reporter) {
	t := p.targets[i]
	var res *runner.DocResult
	if t.err != nil {
		res = &runner.DocResult{Path: t.path, Err: t.err}
		rep.StartDoc(t.path)
		rep.EndDoc(res)
	} else {
		opts := p.cfg.Replay
		opts.Select = both(opts.Select, p.sels[t])
		res = runner.Run(ctx, t.doc, opts, rep)
	}
	p.mu.Lock()
	p.docs[i] = res
	p.mu.Unlock()
}

// both selects the steps a and b select (nil selects all).
func both(a, b func(*parser.Step) bool) func(*parser.Step) bool {
	if a == nil {
		return b
	}
	if b == nil {
		return a
	}
	return func(s *parser.Step) bool { return a(s) && b(s) }
}

// summary tallies the replayed documents and the exit status: failed or
// errored steps make it 1 (with Update, errored ones only: a failed step
// is rewritten), an unreadable document 2.
func (p *pipeline) summary() Summary {
	sum := Summary{Status: StatusOK}
	for _, d := range p.docs {
		if d == nil {
			continue // not started: update -i quit
		}
		sum.Docs = append(sum.Docs, d)
		c := d.Counts()
		sum.Counts.Merge(c)
		bad := c.Errored > 0 || !p.cfg.Update && c.Failed > 0
		switch {
		case d.Err != nil:
			sum.Unreadable++
			sum.Status = StatusBad
		case bad && sum.Status == StatusOK:
			sum.Status = StatusFailed
		}
	}
	return sum
}

// reportUpdates lists the rewritten files, in argument order, and the
// errors met writing them (status 2).
func (p *pipeline) reportUpdates(sum *Summary) {
	if p.upd == nil {
		return
	}
	sum.Rewritten = p.upd.Changed()
	order := map[string]int{}
	for i, t := range p.targets {
		if _, dup := order[t.path]; !dup {
			order[t.path] = i
		}
	}
	paths := make([]string, 0, len(sum.Rewritten))
	for path := range sum.Rewritten {
		paths = append(paths, path)
	}
	sort.Slice(paths, func(i, j int) bool { return order[paths[i]] < order[paths[j]] })
	for _, path := range paths {
		fmt.Fprintf(p.stderr, "wordish: update: %s: rewrote the expected output of %d step(s)\n", path, sum.Rewritten[path])
	}
	for _, err := range p.upd.Errs() {
		fmt.Fprintf(p.stderr, "wordish: update: %v\n", err)
		sum.WriteErrs = append(sum.WriteErrs, err)
		sum.Status = StatusBad
	}
}
