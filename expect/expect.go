// Package expect is the exit status a step expects: the parser reads it
// from the status= option, the session stops a batch at the first
// command whose status does not fit it, the judge says it in its
// reasons. It imports nothing, so that both can share the one enum.
package expect

import (
	"fmt"
	"strconv"
)

// Kind says which exit statuses a command expects; the zero value is 0.
type Kind int

const (
	Zero    Kind = iota // 0 (the default)
	Code                // exactly the code given with it
	Nonzero             // anything but 0
	Any                 // anything
)

// Fits reports whether status fits k; code is the status Code expects.
func (k Kind) Fits(code, status int) bool {
	switch k {
	case Code:
		return status == code
	case Nonzero:
		return status != 0
	case Any:
		return true
	}
	return status == 0
}

// Format gives k (and code, for Code) in the syntax of the status=
// option: "0", "3", "nonzero" or "any".
func Format(k Kind, code int) string {
	switch k {
	case Code:
		return strconv.Itoa(code)
	case Nonzero:
		return "nonzero"
	case Any:
		return "any"
	}
	return "0"
}

// Parse reads the value of a status= option: 0-255, nonzero or any.
func Parse(v string) (Kind, int, error) {
	switch v {
	case "nonzero":
		return Nonzero, 0, nil
	case "any":
		return Any, 0, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 0 || n > 255 {
		return 0, 0, fmt.Errorf("bad status %q: want 0-255, nonzero or any", v)
	}
	if n == 0 {
		return Zero, 0, nil
	}
	return Code, n, nil
}
