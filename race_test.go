//go:build race

package cookiesession

// raceEnabled: the race detector drops pooled objects at random, so
// allocation counts that rely on sync.Pool are not exact under it.
const raceEnabled = true
