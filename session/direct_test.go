package session

import (
	"strings"
	"testing"

	"mvdan.cc/sh/v3/syntax"
)

func parsesAlone(text string) error {
	_, err := syntax.NewParser(syntax.Variant(syntax.LangBash)).Parse(strings.NewReader(text), "")
	return err
}

// TestPlainWords checks that the parser-free path of direct accepts only
// what the parser accepts, and agrees with direct.
func TestPlainWords(t *testing.T) {
	s := &Session{bash: true}
	for _, tc := range []struct {
		text  string
		plain bool
	}{
		{"echo 1", true},
		{"ls -l /tmp", true},
		{"a=1 b=2 env", true},
		{"", true},
		{"   ", true},
		{"make -j4 CFLAGS=-O2 all", true},
		{"git commit -m x@y:z,w+v%u", true},
		{"if", false},
		{"echo hi fi", false},
		{"done", false},
		{"time ls", false},
		{"echo 'x'", false},
		{"echo $HOME", false},
		{"ls *.go", false},
		{"echo a\necho b", false},
		{"echo a # c", false},
		{"cat <<EOF", false},
		{"echo \\", false},
		{"{ echo; }", false},
		{"echo a; echo b", false},
		{strings.Repeat("x ", 1000), false}, // long: left to the parser
	} {
		if got := plainWords(tc.text); got != tc.plain {
			t.Errorf("plainWords(%q) = %v, want %v", tc.text, got, tc.plain)
		}
		if !tc.plain {
			continue
		}
		if err := parsesAlone(tc.text); err != nil {
			t.Errorf("plainWords(%q) accepts what the parser rejects: %v", tc.text, err)
		}
		if !s.direct(tc.text) {
			t.Errorf("direct(%q) = false", tc.text)
		}
	}
}

// FuzzPlainWords: whatever plainWords accepts, the parser accepts.
func FuzzPlainWords(f *testing.F) {
	for _, s := range []string{"echo 1", "a=1 ls -l", "x y z", "fi", "-- ==", "echo hi fi"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, text string) {
		if plainWords(text) {
			if err := parsesAlone(text); err != nil {
				t.Errorf("plainWords(%q) accepts what the parser rejects: %v", text, err)
			}
		}
	})
}
