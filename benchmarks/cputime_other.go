//go:build !unix

package benchmarks

import "time"

// processCPU is not measured here: the cpu-ns/op metric is left out.
func processCPU() (time.Duration, bool) { return 0, false }
