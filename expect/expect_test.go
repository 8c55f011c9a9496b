package expect

import "testing"

func TestParseFormatFits(t *testing.T) {
	tests := []struct {
		in     string
		kind   Kind
		code   int
		fits   []int
		misfit []int
	}{
		{"0", Zero, 0, []int{0}, []int{1, 255}},
		{"3", Code, 3, []int{3}, []int{0, 4}},
		{"nonzero", Nonzero, 0, []int{1, 130}, []int{0}},
		{"any", Any, 0, []int{0, 1, 255}, nil},
	}
	for _, tt := range tests {
		k, code, err := Parse(tt.in)
		if err != nil || k != tt.kind || code != tt.code {
			t.Errorf("Parse(%q) = %v, %d, %v", tt.in, k, code, err)
		}
		if got := Format(k, code); got != tt.in {
			t.Errorf("Format(Parse(%q)) = %q", tt.in, got)
		}
		for _, s := range tt.fits {
			if !k.Fits(code, s) {
				t.Errorf("%q does not fit %d", tt.in, s)
			}
		}
		for _, s := range tt.misfit {
			if k.Fits(code, s) {
				t.Errorf("%q fits %d", tt.in, s)
			}
		}
	}
	for _, bad := range []string{"", "-1", "256", "x", "Any"} {
		if _, _, err := Parse(bad); err == nil {
			t.Errorf("Parse(%q) accepted", bad)
		}
	}
}
