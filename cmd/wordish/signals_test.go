package main

import (
	"context"
	"io"
	"os"
	"syscall"
	"testing"
)

// TestSIGPIPEOnlyForOutput: notified, SIGPIPE comes with a write to any
// broken pipe (a session's script after its shell died); it stops the
// replay only once wordish's own output has lost its reader.
func TestSIGPIPEOnlyForOutput(t *testing.T) {
	pr, pw, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer pw.Close()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	st := &stopper{cancel: cancel, outputs: []*os.File{pw}}

	st.signal(syscall.SIGPIPE, io.Discard)
	if ctx.Err() != nil || st.status() != 0 {
		t.Fatalf("a SIGPIPE with the output's reader still there stopped the replay (status %d)", st.status())
	}
	pr.Close()
	st.signal(syscall.SIGPIPE, io.Discard)
	if ctx.Err() == nil || st.status() != exitInterrupted+int(syscall.SIGPIPE) {
		t.Fatalf("a SIGPIPE once the reader is gone: cancelled %v, status %d", ctx.Err() != nil, st.status())
	}
}

func TestReaderGone(t *testing.T) {
	f, err := os.CreateTemp(t.TempDir(), "out")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	pr, pw, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer pw.Close()
	tests := []struct {
		name string
		f    *os.File
		gone bool
	}{
		{"regular file", f, false},
		{"pipe with its reader", pw, false},
	}
	for _, tt := range tests {
		if got := readerGone(tt.f); got != tt.gone {
			t.Errorf("%s: readerGone = %v, want %v", tt.name, got, tt.gone)
		}
	}
	pr.Close()
	if !readerGone(pw) {
		t.Error("pipe without its reader: readerGone = false")
	}
}
