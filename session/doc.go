// Package session runs shell commands, one at a time, in one persistent
// shell on a pseudo-terminal, and sandboxes that shell when asked.
package session
