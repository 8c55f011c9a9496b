package session

import (
	"bytes"
	"fmt"
	"regexp"
	"testing"
)

// feed runs sc over chunks as readStream does and returns the data and
// the markers it saw, in order.
func feed(sc *scanner, chunks [][]byte) (data []byte, marks []string) {
	var carry []byte
	emit := func(ev event) bool {
		switch ev.kind {
		case evData:
			data = append(data, ev.data...)
			marks = append(marks, "data")
		case evMark:
			marks = append(marks, fmt.Sprintf("m%d:%d", ev.seq, ev.status))
		case evEnd:
			marks = append(marks, fmt.Sprintf("e%d:%d", ev.seq, ev.status))
		}
		return true
	}
	for _, c := range chunks {
		buf := append(append([]byte(nil), carry...), c...)
		carry = append([]byte(nil), sc.scan(buf, emit)...)
	}
	if len(carry) > 0 {
		emit(event{data: carry})
	}
	// Only the order of markers matters: merge runs of data.
	var out []string
	for _, m := range marks {
		if m == "data" && len(out) > 0 && out[len(out)-1] == "data" {
			continue
		}
		out = append(out, m)
	}
	return data, out
}

func TestScannerSplits(t *testing.T) {
	const nonce = "0123456789abcdef"
	batch := "/tmp/w1/b"
	mk := func(s string) string { return "\x1e" + nonce + ":" + s + "\x1e" }
	errLine := func(seq string) string {
		return batch + ": line 7: printf: " + mk(seq) + ": invalid number\n"
	}
	tests := []struct {
		name, in, data string
		marks          []string
		wrap           bool
	}{
		{"plain", "out" + mk("1:0") + "more" + mk("2:3") + mk("E1:0"), "outmore",
			[]string{"data", "m1:0", "data", "m2:3", "e1:0"}, false},
		{"look-alikes", "\x1e" + nonce[:8] + ":1:0\x1e" + "\x1e" + nonce + ":x:y\x1e" + mk("1:0"),
			"\x1e" + nonce[:8] + ":1:0\x1e" + "\x1e" + nonce + ":x:y\x1e", []string{"data", "m1:0"}, false},
		{"trailing marker byte", "abc\x1e" + mk("4:0"), "abc\x1e", []string{"data", "m4:0"}, false},
		{"wrapped", "err\n" + errLine("5:1") + "next" + errLine("6:0"), "err\nnext",
			[]string{"data", "m5:1", "data", "m6:0"}, true},
		{"wrapped after partial line", "no newline" + errLine("5:0"), "no newline",
			[]string{"data", "m5:0"}, true},
		{"bash error kept", batch + ": line 3: foo: command not found\n" + errLine("2:127"),
			"bash: foo: command not found\n", []string{"data", "m2:127"}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := []byte(tt.in)
			// Every way of cutting the input in two, and byte by byte.
			cuts := [][][]byte{{in}, splitEvery(in, 1)}
			for k := 1; k < len(in); k++ {
				cuts = append(cuts, [][]byte{in[:k], in[k:]})
			}
			for _, chunks := range cuts {
				sc := scanner{mark: []byte("\x1e" + nonce + ":")}
				if tt.wrap {
					sc.wrap = []byte(batch + ": ")
					sc.rewrite = regexp.MustCompile(regexp.QuoteMeta(batch+": ") + `[^:\n]{1,24} [0-9]+: `)
					sc.as = []byte("bash: ")
				}
				data, marks := feed(&sc, chunks)
				if !bytes.Equal(data, []byte(tt.data)) || fmt.Sprint(marks) != fmt.Sprint(tt.marks) {
					t.Fatalf("chunks %q: data %q marks %v, want %q %v", chunks, data, marks, tt.data, tt.marks)
				}
			}
		})
	}
}

func splitEvery(b []byte, n int) [][]byte {
	var out [][]byte
	for len(b) > n {
		out = append(out, b[:n])
		b = b[n:]
	}
	return append(out, b)
}
