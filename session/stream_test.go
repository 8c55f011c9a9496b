package session

import (
	"testing"
	"time"
)

func TestParseMark(t *testing.T) {
	tests := []struct {
		in   string
		want event
		ok   bool
	}{
		{"7:123", event{kind: evMark, seq: 7, token: "123"}, true},
		{"7:", event{kind: evMark, seq: 7}, true}, // a shell without SRANDOM
		{"E3:42", event{kind: evEnd, seq: 3, token: "42"}, true},
		{"7", event{}, false},
		{"x:0", event{}, false},
		{"7:1:2", event{}, false},
	}
	for _, tt := range tests {
		got, ok := parseMark([]byte(tt.in))
		if ok != tt.ok || ok && (got.kind != tt.want.kind || got.seq != tt.want.seq || got.token != tt.want.token) {
			t.Errorf("parseMark(%q) = %+v, %v; want %+v, %v", tt.in, got, ok, tt.want, tt.ok)
		}
	}
}

func TestEpochTime(t *testing.T) {
	at := time.Unix(1764000000, 123456000)
	for in, want := range map[string]time.Time{
		"1764000000.123456": at,
		"1764000000,123456": at, // a comma locale
		"":                  {}, // a shell without EPOCHREALTIME
		"17640000":          {}, // not a time: ignored
	} {
		if got := epochTime([]byte(in)); !got.Equal(want) {
			t.Errorf("epochTime(%q) = %v, want %v", in, got, want)
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
