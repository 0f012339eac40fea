package stats

import (
	"math"
	"testing"
)

func TestLevels(t *testing.T) {
	two := []float64{100, 101, 99, 120, 100, 121, 119, 100, 102, 100}
	lo, hi, gap, up, ok := Levels(two, 0.2)
	if !ok || math.Abs(lo-100) > 1 || math.Abs(hi-120) > 1 || gap < 0.15 || up != 3 {
		t.Errorf("two levels: %g %g gap %g upper %d ok %v", lo, hi, gap, up, ok)
	}
	one := []float64{100, 101, 99, 100.5, 100, 101.5, 99.5, 100, 102, 100}
	if _, _, gap, _, ok := Levels(one, 0.2); !ok || gap > 0.01 {
		t.Errorf("one level: gap %g", gap)
	}
	// A single outlier is not a level: each side needs 20% of the values.
	outlier := []float64{100, 101, 99, 100.5, 100, 101.5, 99.5, 100, 102, 180}
	if _, _, gap, _, _ := Levels(outlier, 0.2); gap > 0.02 {
		t.Errorf("one outlier made a level: gap %g", gap)
	}
	if _, _, _, _, ok := Levels([]float64{1, 2, 3}, 0.2); ok {
		t.Error("3 values split")
	}
}

func TestSpearman(t *testing.T) {
	if r := Spearman([]float64{1, 2, 3, 4, 5}); math.Abs(r-1) > 1e-12 {
		t.Errorf("increasing: %g", r)
	}
	if r := Spearman([]float64{5, 4, 3, 2, 1}); math.Abs(r+1) > 1e-12 {
		t.Errorf("decreasing: %g", r)
	}
	if r := Spearman([]float64{3, 1, 4, 1, 5, 9, 2, 6, 5, 3}); math.Abs(r) > 0.6 {
		t.Errorf("no trend: %g", r)
	}
	if r := Spearman([]float64{2, 2, 2}); r != 0 {
		t.Errorf("constant: %g", r)
	}
}
