//go:build !race

package cookiesession

const raceEnabled = false
