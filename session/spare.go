package session

import (
	"slices"
	"sync"
)

// A spare is a session started ahead, while the previous document runs,
// for the next Start with an equal Config to take: a replay of several
// documents then pays a session's start-up once, not per document. It is
// an ordinary session (its own reaper, shell and directory) that has run
// nothing yet; DropSpare closes it, and wordish's death ends it like any
// other (its reaper's control pipe closes).
var spare struct {
	mu  sync.Mutex
	cfg Config
	ch  chan *Session // the spare once started (nil if it failed); nil: none
}

// Prestart starts a session for cfg in the background, for the next
// Start with an equal cfg. One spare at most: a spare of another cfg is
// closed. Only for a fresh temporary directory that is not kept (a
// given Workdir is the caller's, shared by no two sessions).
func Prestart(cfg Config) {
	if cfg.Workdir != "" || cfg.Keep {
		return
	}
	spare.mu.Lock()
	defer spare.mu.Unlock()
	if spare.ch != nil {
		if sameConfig(spare.cfg, cfg) {
			return
		}
		go closeSpare(spare.ch)
	}
	ch := make(chan *Session, 1)
	spare.cfg, spare.ch = cfg, ch
	go func() {
		s, err := startCold(cfg)
		if err != nil {
			s = nil
		}
		ch <- s
	}()
}

// DropSpare closes the spare session, if any.
func DropSpare() {
	spare.mu.Lock()
	ch := spare.ch
	spare.ch = nil
	spare.mu.Unlock()
	if ch != nil {
		closeSpare(ch)
	}
}

func closeSpare(ch chan *Session) {
	if s := <-ch; s != nil {
		s.Close()
	}
}

// takeSpare returns the spare if it was started for cfg and its shell
// lives (waiting for it if it is still starting), else nil.
func takeSpare(cfg Config) *Session {
	spare.mu.Lock()
	ch := spare.ch
	if ch == nil || !sameConfig(spare.cfg, cfg) {
		spare.mu.Unlock()
		return nil
	}
	spare.ch = nil
	spare.mu.Unlock()
	s := <-ch
	if s != nil && !s.Alive() {
		s.Close()
		s = nil
	}
	return s
}

func sameConfig(a, b Config) bool {
	return a.Shell == b.Shell && a.Workdir == b.Workdir && a.Keep == b.Keep &&
		a.Timeout == b.Timeout && slices.Equal(a.Env, b.Env)
}
