package bench

import (
	"strings"
	"testing"

	"golang.org/x/perf/benchmath"
)

func unstable(v []float64) string {
	s := benchmath.AssumeNothing.Summary(benchmath.NewSample(append([]float64(nil), v...), &benchmath.DefaultThresholds), 0.95)
	return Unstable(v, s.Center, s.Lo, s.Hi)
}

func TestUnstable(t *testing.T) {
	quiet := []float64{100, 101, 99.5, 100.2, 100.8, 99.9, 100.1, 100.4, 99.7, 100.3}
	if why := unstable(quiet); why != "" {
		t.Errorf("quiet samples: %q", why)
	}
	states := []float64{100, 120, 100.5, 121, 99.8, 119, 100.2, 120.5, 100.1, 119.5}
	if why := unstable(states); !strings.Contains(why, "two levels 20% apart") {
		t.Errorf("two states: %q", why)
	}
	drift := []float64{100, 101, 102, 103, 104, 105, 106, 107, 108, 109}
	if why := unstable(drift); !strings.Contains(why, "drifted +") {
		t.Errorf("drift: %q", why)
	}
	wide := []float64{100, 140, 80, 120, 95, 160, 70, 110, 130, 90}
	if why := unstable(wide); !strings.Contains(why, "interval is ±") {
		t.Errorf("wide: %q", why)
	}
	if why := unstable(quiet[:5]); why != "" {
		t.Errorf("5 samples: %q, want nothing said", why)
	}
}
