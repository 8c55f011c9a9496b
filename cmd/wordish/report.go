package main

// reportFlag is the flag.Value of one report format's --NAME FILE: it
// sets files[NAME] (report.Options.Files).
type reportFlag struct {
	files *map[string]string
	name  string
}

func (r reportFlag) String() string {
	if r.files == nil {
		return ""
	}
	return (*r.files)[r.name]
}

func (r reportFlag) Set(v string) error {
	if *r.files == nil {
		*r.files = map[string]string{}
	}
	(*r.files)[r.name] = v
	return nil
}
