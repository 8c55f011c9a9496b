package session

import (
	"strings"
	"testing"
)

func TestNormalize(t *testing.T) {
	tests := []struct {
		name, raw, want string
	}{
		{"empty", "", ""},
		{"plain", "a\nb\n", "a\nb\n"},
		{"no final newline", "a\nb", "a\nb"},
		{"crlf", "a\r\nb\r\n", "a\nb\n"},
		{"tabs to 8-column stops", "a\tb\n12345678\tc\n", "a       b\n12345678        c\n"},
		{"tab moves over text", "abc\rx\ty\n", "xbc     y\n"},
		{"cr overwrite", "50%\r100%\n", "100%\n"},
		{"cr shorter keeps the rest", "Progress 10%\rDone\n", "Doneress 10%\n"},
		{"cr then erase line", "Progress 10%\r\x1b[KDone\n", "Done\n"},
		{"erase whole line", "abc\x1b[2K\rxy\n", "xy\n"},
		{"progress bar", "[#   ] 25%\r[##  ] 50%\r[####] 100%\n", "[####] 100%\n"},
		{"trailing cr", "abc\r", "abc"},
		{"backspace", "abc\b\bXY\n", "aXY\n"},
		{"backspace at start", "\b\bab\n", "ab\n"},
		{"spinner", "wait |\b/\b-\b\\\bok\n", "wait ok\n"},
		{"colours", "\x1b[1;31mred\x1b[0m \x1b[38;5;208mx\x1b[m\n", "red x\n"},
		{"osc title", "\x1b]0;title\x07text\x1b]8;;http://x\x1b\\link\x1b]8;;\x1b\\\n", "textlink\n"},
		{"charset and keypad", "\x1b(Bab\x1b=c\x1b>\n", "abc\n"},
		{"private modes", "\x1b[?25lhidden cursor\x1b[?25h\x1b[?2004h\n", "hidden cursor\n"},
		{"cursor moves", "abc\x1b[2Dx\x1b[3Cy\x1b[1Gz\n", "zxc  y\n"},
		{"nul and bel", "a\x00b\x07c\n", "abc\n"},
		{"invalid utf-8", "a\xffb\xc3\n", "a\ufffdb\ufffd\n"},
		{"utf-8 overwrite", "héllo\rHÉ\n", "HÉllo\n"},
		{"c1 csi ignored", "a\u009bb\n", "ab\n"},
		{"escape at end", "abc\x1b", "abc"},
		{"unfinished csi", "abc\x1b[1;3", "abc"},
		{"huge move", "a\x1b[99999999999999999999Cb\n", "a" + strings.Repeat(" ", 78) + "b\n"},
		{"huge down", "a\x1b[9999Bb\x1b[9999Bc\n", "a" + strings.Repeat("\n", 23) + " bc\n"},
		{"cursor up redraw", "a: 10%\nb: 10%\n\x1b[2A\x1b[2Ka: done\n\x1b[2Kb: done\n", "a: done\nb: done\n"},
		{"previous line", "x\ny\x1b[F\x1b[Kz\n", "z\ny"}, // the cursor ends on y's line
		{"erase below", "a\nb\nc\x1b[2A\x1b[J\n", "a\n"},
		{"erase below from start", "a\nb\nc\r\x1b[2A\x1b[J\n", "\n"},
		{"clear screen", "old\x1b[H\x1b[2Jnew\n", "new\n"},
		{"position", "\x1b[2;3Hx\n", "\n  x\n"},
		{"down", "a\x1b[2Bb\n", "a\n\n b\n"},
		{"up past the top", "a\x1b[5Ab\n", "ab\n"},
		{"lines independent", "one\rtwo\nthree\n", "two\nthree\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Normalize([]byte(tt.raw)); got != tt.want {
				t.Errorf("Normalize(%q) = %q, want %q", tt.raw, got, tt.want)
			}
		})
	}
}

func FuzzNormalize(f *testing.F) {
	f.Add([]byte("a\r\x1b[Kb\x08\n\xff"))
	f.Fuzz(func(t *testing.T, raw []byte) {
		Normalize(raw) // must not panic
	})
}

func TestNormalizeBounded(t *testing.T) {
	raw := []byte(strings.Repeat("\x1b[9999C\x1b[9999Bx\x1b[99;999H\x1b[2K", 100000))
	if n := len(Normalize(raw)); n > 10*len(raw) {
		t.Errorf("%d bytes of output for %d of input", n, len(raw))
	}
}

func BenchmarkNormalize(b *testing.B) {
	raw := []byte(strings.Repeat("some output line, with \x1b[1mbold\x1b[0m text\r\n", 200000))
	b.SetBytes(int64(len(raw)))
	for b.Loop() {
		Normalize(raw)
	}
}
