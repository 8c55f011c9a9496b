package parser

import (
	"strings"
)

// OriginPromptDirective marks the steps of a sphinx-prompt directive
// without "auto": the article shows each line behind a prompt and no
// output, so their output is not checked.
const OriginPromptDirective = "prompt directive"

// promptArgs are the arguments of a sphinx-prompt directive, as
// positional arguments ("bash $ auto") or options (":prompts: (env) $").
type promptArgs struct {
	lang, prompts, modifiers string
}

// option sets a directive option; others (":class:") do not matter.
func (a *promptArgs) option(name, val string) {
	switch name {
	case "language":
		a.lang = val
	case "prompts":
		a.prompts = val
	case "modifiers":
		a.modifiers = val
	}
}

func (a *promptArgs) positional(words []string) {
	for k, w := range words {
		switch k {
		case 0:
			a.lang = w
		case 1:
			a.prompts = w
		case 2:
			a.modifiers = w
		}
	}
}

// addPromptBlock reads the body of a sphinx-prompt directive
// (".. prompt:: bash $ auto" in reST, "```{prompt} bash $ auto" in MyST).
// With the "auto" modifier the body is a session whose prompts are the
// directive's comma-separated ones: lines starting with one of them and a
// blank are commands, the lines between output. Without it, sphinx-prompt
// shows every line (joined over trailing backslashes in bash) behind the
// one prompt, so each is a step with no output shown: the step's output
// is ignored, its Origin says why, and it cannot be updated in place.
// Languages other than shells (python, batch, powershell...) hold no
// session.
func (p *parse) addPromptBlock(b *block, a promptArgs) error {
	lang := a.lang
	if lang == "" {
		lang = "text"
	}
	prompts := a.prompts
	switch strings.ToLower(lang) {
	case "bash", "sh", "shell", "zsh", "console":
		if prompts == "" {
			prompts = "$"
		}
	case "text":
		if prompts == "" {
			return nil // no prompt: plain text
		}
	default:
		return nil
	}
	b.lang = lang
	auto := false
	for _, m := range strings.Split(a.modifiers, ",") {
		auto = auto || strings.TrimSpace(m) == "auto"
	}
	if auto {
		var list []string
		for _, pr := range strings.Split(prompts, ",") {
			if pr != "" {
				list = append(list, pr+" ")
			}
		}
		saved := p.prompts
		p.prompts = &promptSet{extra: newPromptSet(append(list, saved.extra...)).extra, only: true}
		defer func() { p.prompts = saved }()
		b.lang = "console" // the prompts are given: "#" ones too
		return p.addBlock(b)
	}

	lines := dedent(b.lines)
	prompt := prompts + " "
	var steps []*Step
	for i := 0; i < len(lines); i++ {
		first := i
		cmd := []string{lines[i].text}
		for lang == "bash" && strings.HasSuffix(lines[i].text, "\\") && i+1 < len(lines) {
			i++
			cmd = append(cmd, lines[i].text)
		}
		command := strings.Join(cmd, "\n")
		if strings.TrimSpace(command) == "" {
			continue
		}
		opts := b.opts
		opts.IgnoreOutput = true
		for k := range cmd {
			o, set, found, err := commandDirective(cmd[k])
			if err != nil {
				return p.errorf(lines[first+k].num, "%v", err)
			}
			if found {
				if opts = opts.merge(o, set); opts.check() != nil {
					return p.errorf(lines[first+k].num, "%v", opts.check())
				}
			}
		}
		steps = append(steps, &Step{
			File:    p.doc.Path,
			Line:    lines[first].num,
			Prompt:  prompt,
			Root:    isRoot(prompt),
			Command: command,
			Options: opts,
			Origin:  OriginPromptDirective,
		})
	}
	if len(steps) > 0 {
		p.doc.Blocks = append(p.doc.Blocks, &Block{Line: lines[0].num, Lang: lang, Options: b.opts, Steps: steps})
	}
	return nil
}
