package main

import (
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Flags and settings that were accepted, ignored or misreported: each must
// now give its exit status (2 for a bad flag or argument, 1 for a failure)
// and a message naming it, before anything is measured.
func TestHostileFlags(t *testing.T) {
	dir := t.TempDir()
	res := filepath.Join(dir, "r.txt")
	os.WriteFile(res, []byte("BenchmarkX 1 5 ns/op\nBenchmarkX 1 6 ns/op\n"), 0o644)
	ro := filepath.Join(dir, "ro")
	os.Mkdir(ro, 0o555)
	if st, err := os.Stat("/sys/kernel"); os.Geteuid() == 0 && err == nil && st.IsDir() {
		ro = "/sys/kernel" // root writes into any folder mode allows, not there
	}
	sweep := []string{"sweep", "--kernels", "ref-i8", "--threads", "1", "--count", "1", "--min-time", "1ms", "--no-probe", "--quiet"}
	out := func(name string) string { return filepath.Join(dir, name) }
	cases := []struct {
		name string
		env  map[string]string
		args []string
		code int
		want string
	}{
		// 11: NaN and negative numbers.
		{"alpha NaN", nil, []string{"compare", "--alpha", "NaN", res}, 2, "--alpha NaN"},
		{"seconds NaN", nil, []string{"profile", "--kernel", "ref-i8", "--seconds", "NaN"}, 2, "--seconds NaN"},
		{"top -1", nil, []string{"profile", "--kernel", "ref-i8", "--shape", "3x1", "--seconds", "0.01", "--top", "-1", "--out", out("p1")}, 2, "--top -1"},
		// 12: a shape given twice.
		{"duplicate shapes", nil, append(sweep, "--shapes", "64x256,64x256", "--out", out("s12")), 2, "appears twice"},
		// 14: settings that silently meant nothing or "default".
		{"require typo", map[string]string{"QKBENCH_REQUIRE": "nope"}, append(sweep, "--shapes", "8x256", "--out", out("s14a")), 1, `"nope"`},
		{"disable typo", map[string]string{"QKBENCH_DISABLE": "avx2-i9x"}, append(sweep, "--shapes", "8x256", "--out", out("s14b")), 2, `"avx2-i9x"`},
		{"disable typo check", map[string]string{"QKBENCH_DISABLE": "nope"}, []string{"check", "--shapes", "3x1", "--kernels", "ref-i8"}, 2, `"nope"`},
		{"required but filtered", map[string]string{"QKBENCH_REQUIRE": "test-broken-i8"}, []string{"sweep", "--kernels", "available", "--shapes", "8x256", "--threads", "1", "--count", "1", "--min-time", "1ms", "--no-probe", "--quiet", "--out", out("s14c")}, 1, "test-broken-i8"},
		{"empty shapes", nil, append(sweep, "--shapes", "", "--out", out("s14d")), 2, "-shapes: empty value"},
		{"empty kernels", nil, []string{"check", "--kernels", " "}, 2, "-kernels: empty value"},
		{"empty codebook", nil, []string{"check", "--codebook", ""}, 2, "-codebook: empty value"},
		// 15: profile's extra arguments.
		{"profile extra", nil, []string{"profile", "--kernel", "ref-i8", "extra", "--out", out("p15")}, 2, `unexpected argument "extra"`},
		// 16: bad flag values that exited 1.
		{"compare bad col", nil, []string{"compare", "--col", "((", res}, 2, "column projection"},
		// 4: outputs checked before measuring.
		{"profile out folder", nil, []string{"profile", "--kernel", "ref-i8", "--shape", "3x1", "--out", dir}, 2, "is a folder"},
		{"profile out unwritable", nil, []string{"profile", "--kernel", "ref-i8", "--shape", "3x1", "--out", filepath.Join(ro, "p")}, 2, "cannot be written"},
		{"cpuprofile unwritable", nil, append(sweep, "--shapes", "8x256", "--cpuprofile", ro, "--out", out("s4")), 2, "cannot be written"},
		{"out unwritable", nil, append(sweep, "--shapes", "8x256", "--out", ro), 2, "cannot be written"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			for k, v := range c.env {
				t.Setenv(k, v)
			}
			code, stdout, stderr := runCmd(t, c.args...)
			if code != c.code || !strings.Contains(stderr, c.want) {
				t.Errorf("%v: exit %d, stderr %q; want %d and %q\nstdout: %s", c.args, code, stderr, c.code, c.want, stdout)
			}
		})
	}
	if _, err := os.Stat("cpu.pprof"); err == nil {
		t.Error("profile wrote ./cpu.pprof")
	}
}

// A panic exits 1: Go's status for it, 2, is the one for a bad flag.
func TestPanicExitsOne(t *testing.T) {
	verbs["test-panic"] = verb{run: func([]string, io.Writer, io.Writer) error { panic("boom") }}
	defer delete(verbs, "test-panic")
	code, _, stderr := runCmd(t, "test-panic")
	if code != 1 || !strings.Contains(stderr, "internal error: boom") {
		t.Errorf("exit %d, stderr %q", code, stderr)
	}
}
