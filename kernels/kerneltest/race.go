//go:build race

package kerneltest

// raceEnabled trims the suite (Options.Short) under the race detector.
const raceEnabled = true
