package main

import (
	"os"
	"testing"
)

func TestSuggest(t *testing.T) {
	cmds := []string{"help", "list", "run", "sandbox", "script", "update", "version"}
	tests := []struct{ word, want string }{
		{"upate", "update"},
		{"udpate", "update"}, // a swap is one edit
		{"UPDATE", "update"},
		{"lst", "list"},
		{"rnu", "run"},
		{"verison", "version"},
		{"scirpt", "script"},
		{"frobnicate", ""},
		{"x", ""},
		{"", ""},
	}
	for _, tt := range tests {
		if got := suggest(tt.word, cmds); got != tt.want {
			t.Errorf("suggest(%q) = %q, want %q", tt.word, got, tt.want)
		}
	}
}

func TestEditDistance(t *testing.T) {
	tests := []struct {
		a, b string
		want int
	}{
		{"", "", 0}, {"a", "", 1}, {"", "abc", 3}, {"kitten", "sitting", 3},
		{"update", "upate", 1}, {"update", "udpate", 1}, {"abc", "abc", 0},
	}
	for _, tt := range tests {
		if got := editDistance(tt.a, tt.b); got != tt.want {
			t.Errorf("editDistance(%q, %q) = %d, want %d", tt.a, tt.b, got, tt.want)
		}
		if got := editDistance(tt.b, tt.a); got != tt.want {
			t.Errorf("editDistance(%q, %q) = %d, want %d (symmetry)", tt.b, tt.a, got, tt.want)
		}
	}
}

func TestLooksLikeFile(t *testing.T) {
	t.Chdir(t.TempDir())
	os.WriteFile("NOTES", nil, 0o644)
	os.Mkdir("docs", 0o755)
	tests := []struct {
		arg  string
		want bool
	}{
		{"-v", true}, {"--json", true},
		{"missing.md", true}, {"Guide.RST", true}, {"page.htm", true}, {"a.md:12", true}, {"a.md:1,5", true},
		{"NOTES", true}, {"docs", true}, {"docs/x", true}, {"**/*.md", true}, {"*.md", true},
		{"upate", false}, {"frobnicate", false}, {"NOTES2", false},
	}
	for _, tt := range tests {
		if got := looksLikeFile(tt.arg); got != tt.want {
			t.Errorf("looksLikeFile(%q) = %v, want %v", tt.arg, got, tt.want)
		}
	}
}
