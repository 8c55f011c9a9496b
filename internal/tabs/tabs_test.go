package tabs

import "testing"

func TestExpand(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{"", ""},
		{"no tab", "no tab"},
		{"\tx", "        x"},
		{"ab\tc", "ab      c"},
		{"abcdefgh\tc", "abcdefgh        c"},
		{"é\tx", "é       x"}, // columns count runes, not bytes
		{"a\n\tb", "a\n        b"},
		{"\t\t", "                "},
	} {
		if got := Expand(tt.in); got != tt.want {
			t.Errorf("Expand(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
