package wordishtest

import (
	"reflect"
	"strings"
	"testing"

	"github.com/wordish-go/wordish"
)

func TestExpandPatterns(t *testing.T) {
	t.Chdir("testdata")
	tests := []struct {
		patterns []string
		want     []string
		err      string
	}{
		{[]string{"pass.md"}, []string{"pass.md"}, ""},
		{[]string{"*.md", "sub/*.md"}, []string{"pass.md", "sub/other.md"}, ""},
		{[]string{"*/*.md", "*.md", "sub/other.md"}, []string{"sub/other.md", "pass.md"}, ""}, // each once
		{[]string{"*.md", "sub/*.md", "!sub/other.md"}, []string{"pass.md"}, ""},
		{[]string{"*.md", "sub/*.md", "!*/*.md"}, []string{"pass.md"}, ""},
		{[]string{"*"}, []string{"pass.md"}, ""},                                           // directories are not articles
		{[]string{"**/*.md"}, []string{"pass.md", "sub/deep/deep.md", "sub/other.md"}, ""}, // any depth, sorted
		{[]string{"sub/**/*.md"}, []string{"sub/deep/deep.md", "sub/other.md"}, ""},
		{[]string{"**/*.md", "!sub/**"}, []string{"pass.md"}, ""},
		{[]string{"**/*.md", "!**/deep/*.md"}, []string{"pass.md", "sub/other.md"}, ""},
		{[]string{"{pass,sub/other}.md"}, []string{"pass.md", "sub/other.md"}, ""},
		{nil, nil, "no article given"},
		{[]string{"missing.md"}, nil, `"missing.md" matches no file`},
		{[]string{"*.rst"}, nil, `"*.rst" matches no file`},
		{[]string{"pass.md", "!sub/*.md"}, nil, "excludes none"},
		{[]string{"pass.md", "!pass.md"}, nil, "select no article"},
		{[]string{"[.md"}, nil, "bad pattern"},
	}
	for _, tt := range tests {
		got, err := expandPatterns(tt.patterns)
		if tt.err != "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("expandPatterns(%q): err = %v, want %q", tt.patterns, err, tt.err)
			}
			continue
		}
		if err != nil || !reflect.DeepEqual(got, tt.want) {
			t.Errorf("expandPatterns(%q) = %q, %v; want %q", tt.patterns, got, err, tt.want)
		}
	}
}

// TestTestPasses runs Test on passing articles; the failing side (and
// -run, -json and update) is covered by TestGoTestModule, in a module of
// its own, since a failing subtest here would fail this test.
func TestTestPasses(t *testing.T) {
	if testing.Short() {
		t.Skip("replays articles")
	}
	Test(t, wordish.Config{}, "testdata/pass.md", "testdata/sub/**/*.md")
}
