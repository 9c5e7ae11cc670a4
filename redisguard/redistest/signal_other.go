//go:build !unix

package redistest

import (
	"errors"
	"os"
)

var errNoPause = errors.New("redistest: Pause and Resume need a Unix system")

func pause(*os.Process) error  { return errNoPause }
func resume(*os.Process) error { return errNoPause }
