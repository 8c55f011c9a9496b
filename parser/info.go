package parser

import "strings"

// infoLang gives the language of a Markdown info string as the
// generators write it: the first word, split at ",", blanks and braces
// ("shell,hidelines=#", "console title=\"x\"", "console{.x}"); in a
// Pandoc attribute list ("{.bash .numberLines}", "{#id .console}") the
// first class; for a MyST directive ("{code-block} console") the
// directive's argument. directive is the MyST directive's name, "" if
// none, and args the words after it.
func infoLang(info string) (lang, directive string, args []string) {
	info = strings.TrimSpace(info)
	if strings.HasPrefix(info, "{") {
		end := strings.IndexByte(info, '}')
		if end < 0 {
			end = len(info)
		}
		inner := info[1:end]
		if name := strings.TrimSpace(inner); name != "" && !strings.ContainsAny(name, " .#=") {
			// MyST: "{code-block} console", "{prompt} bash $ auto".
			args = strings.Fields(info[min(end+1, len(info)):])
			lang = ""
			if len(args) > 0 {
				lang = args[0]
			}
			return lang, name, args
		}
		for _, f := range strings.Fields(inner) {
			if c, ok := strings.CutPrefix(f, "."); ok && c != "" {
				return c, "", nil
			}
		}
		return "", "", nil
	}
	if i := strings.IndexAny(info, ", \t{"); i >= 0 {
		info = info[:i]
	}
	return info, "", nil
}
