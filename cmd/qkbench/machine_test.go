package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/qkbench/qkbench/bench/probe"
)

func TestMachineQuick(t *testing.T) {
	cache := t.TempDir()
	t.Setenv("XDG_CACHE_HOME", cache) // os.UserCacheDir on Linux and the BSDs
	t.Setenv("HOME", cache)           // and on macOS

	var out, errb bytes.Buffer
	if code := run([]string{"machine", "--quick", "--json"}, &out, &errb); code != 0 {
		t.Fatalf("exit %d, stderr %s", code, errb.String())
	}
	var got struct {
		CacheFile string         `json:"cache_file"`
		Measured  bool           `json:"measured_now"`
		Machine   *probe.Machine `json:"machine"`
	}
	if err := json.Unmarshal(out.Bytes(), &got); err != nil {
		t.Fatalf("--json output: %v\n%s", err, out.String())
	}
	if !got.Measured || got.Machine == nil || !got.Machine.Quick || len(got.Machine.Figures) == 0 {
		t.Fatalf("first run: measured %v, machine %+v", got.Measured, got.Machine)
	}
	if _, err := os.Stat(got.CacheFile); err != nil || !strings.HasPrefix(got.CacheFile, cache) {
		t.Errorf("cache file %q: %v (want it under %s)", got.CacheFile, err, cache)
	}
	if got.Machine.PeakMACs("i8", "go") <= 0 {
		t.Errorf("no Go int8 figure: %+v", got.Machine.Figures)
	}

	// The second run shows the cached figures as a table.
	out.Reset()
	if code := run([]string{"machine", "--quick"}, &out, &errb); code != 0 {
		t.Fatalf("second run: exit %d, stderr %s", code, errb.String())
	}
	text := out.String()
	for _, want := range []string{"cached", filepath.Base(got.CacheFile), "Go int8 MAC", "GMAC/s", "roofline:"} {
		if !strings.Contains(text, want) {
			t.Errorf("table lacks %q:\n%s", want, text)
		}
	}
	if got.Machine.Unavailable == "" && !strings.Contains(text, "GB/s") {
		t.Errorf("table lacks read bandwidth:\n%s", text)
	}
}

func TestMachineBadArgs(t *testing.T) {
	for _, args := range [][]string{{"machine", "--nope"}, {"machine", "extra"}} {
		var out, errb bytes.Buffer
		if code := run(args, &out, &errb); code != 2 {
			t.Errorf("%v: exit %d, want 2 (stderr %s)", args, code, errb.String())
		}
	}
}
