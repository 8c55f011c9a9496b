package session

import (
	"testing"
	"time"
)

func TestParseMark(t *testing.T) {
	at := time.Unix(1764000000, 123456000)
	tests := []struct {
		in   string
		want event
		ok   bool
	}{
		{"7:0", event{kind: evMark, seq: 7, status: 0}, true},
		{"7:130:1764000000.123456", event{kind: evMark, seq: 7, status: 130, at: at}, true},
		{"7:1:1764000000,123456", event{kind: evMark, seq: 7, status: 1, at: at}, true}, // a comma locale
		{"7:1:", event{kind: evMark, seq: 7, status: 1}, true},                          // a shell without EPOCHREALTIME
		{"7:1:17640000", event{kind: evMark, seq: 7, status: 1}, true},                  // not a time: ignored
		{"E3:0", event{kind: evEnd, seq: 3, status: 0}, true},
		{"7", event{}, false},
		{"x:0", event{kind: evMark, status: 0}, false},
	}
	for _, tt := range tests {
		got, ok := parseMark([]byte(tt.in))
		if ok != tt.ok || got.kind != tt.want.kind || got.seq != tt.want.seq || got.status != tt.want.status || !got.at.Equal(tt.want.at) {
			t.Errorf("parseMark(%q) = %+v, %v; want %+v, %v", tt.in, got, ok, tt.want, tt.ok)
		}
	}
}

// TestDurationsInOneRead: commands whose markers reach wordish together
// still get their own durations, from the shell's clock.
func TestDurationsInOneRead(t *testing.T) {
	s, err := Start(Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var d []time.Duration
	s.RunBatch([]Command{{Text: "sleep 0.2"}, {Text: "true"}, {Text: "sleep 0.1"}}, func(_ int, r Result) {
		d = append(d, r.Duration)
	})
	if len(d) != 3 {
		t.Fatalf("%d results", len(d))
	}
	if d[0] < 200*time.Millisecond || d[2] < 100*time.Millisecond || d[1] >= 100*time.Millisecond {
		t.Errorf("durations %v: want >= 200ms, < 100ms, >= 100ms", d)
	}
}
