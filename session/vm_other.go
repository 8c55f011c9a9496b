//go:build !linux

package session

import (
	"context"
	"errors"
)

// RunInVM needs User-Mode Linux, which exists only on Linux.
func RunInVM(ctx context.Context, cfg VMConfig, argv []string) (int, error) {
	return -1, errors.New("the VM sandbox needs Linux (User-Mode Linux)")
}
