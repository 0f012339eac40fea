package kerneltest

// Hooks for the external tests of this package.
var raceEnabledForTest = raceEnabled

// GuardProbe maps and returns one guarded byte, or the reason guard pages are unavailable.
func GuardProbe() ([]byte, func(), error) { return guarded(1, false) }

// RaceEnabled reports whether the race detector is on.
func RaceEnabled() bool { return raceEnabledForTest }
