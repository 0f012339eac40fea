package main

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/qkbench/qkbench/kernels"
)

func TestList(t *testing.T) {
	code, out, stderr := runCmd(t, "list")
	if code != 0 {
		t.Fatalf("exit %d, stderr %s", code, stderr)
	}
	lines := strings.Split(out, "\n")
	if !strings.HasPrefix(lines[0], "cpu: ") || !strings.HasPrefix(lines[1], "cpus: ") || !strings.HasPrefix(lines[2], "caches: ") {
		t.Errorf("output does not start with the cpu, cpus and caches lines:\n%s", out)
	}
	for _, want := range []string{
		"│ ref-i8 ", "Go: plain loop over",
		"│ test-broken-i8 ", "unavailable: test-broken-i8", "switched off outside the tests",
		"│ test-qk256-f32 ", "codebooks of test-qk256-f32: qk256 only (ternary: test kernel takes only qk256",
		"│ any ",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	// It was 496 columns wide.
	if w := widest(out); w > 120 {
		t.Errorf("list is %d columns wide, want at most 120:\n%s", w, out)
	}
	for _, f := range []string{"md", "csv"} {
		if code, out, _ := runCmd(t, "list", "--format", f); code != 0 || !strings.Contains(out, "test-qk256-f32") {
			t.Errorf("list --format %s: exit %d\n%s", f, code, out)
		}
	}
}

func TestListJSON(t *testing.T) {
	code, out, stderr := runCmd(t, "list", "--json")
	if code != 0 {
		t.Fatalf("exit %d, stderr %s", code, stderr)
	}
	var v struct {
		Machine struct {
			CPU      string   `json:"cpu"`
			Features []string `json:"features"`
		} `json:"machine"`
		Kernels []ListEntry `json:"kernels"`
	}
	if err := json.Unmarshal([]byte(out), &v); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, out)
	}
	if v.Machine.CPU == "" || len(v.Kernels) != len(kernels.List()) {
		t.Fatalf("cpu %q, %d kernels, want %d", v.Machine.CPU, len(v.Kernels), len(kernels.List()))
	}
	byID := map[string]ListEntry{}
	for _, e := range v.Kernels {
		byID[e.ID] = e
	}
	if e := byID["test-broken-i8"]; e.Available || !strings.Contains(e.Unavailable, "switched off") || e.Mode != "i8" || e.Backend != "test" {
		t.Errorf("test-broken-i8: %+v", e)
	}
	if e := byID["test-qk256-f32"]; !e.Available || len(e.Codebooks) != 3 || !e.Codebooks[0].Supported || e.Codebooks[1].Supported {
		t.Errorf("test-qk256-f32: %+v", e)
	}
	if code, _, _ := runCmd(t, "list", "--nope"); code != 2 {
		t.Errorf("list --nope: exit %d, want 2", code)
	}
}
