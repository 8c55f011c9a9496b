package parser

func (p *parse) html() error { return nil }
