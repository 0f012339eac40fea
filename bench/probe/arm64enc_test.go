package probe

import (
	"bufio"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// Known encodings, as the GNU and LLVM assemblers produce them.
func TestAssembleDotKnown(t *testing.T) {
	for text, want := range map[string]uint32{
		"sdot v0.4s, v1.16b, v2.16b":    0x4e829420,
		"udot v0.4s, v1.16b, v2.16b":    0x6e829420,
		"sdot v0.2s, v1.8b, v2.8b":      0x0e829420,
		"udot v0.2s, v1.8b, v2.8b":      0x2e829420,
		"sdot v31.4s, v31.16b, v31.16b": 0x4e9f97ff,
	} {
		got, err := assembleDot(text)
		if err != nil || got != want {
			t.Errorf("%s: got %#08x, %v; want %#08x", text, got, err, want)
		}
	}
	for _, bad := range []string{
		"sdot v32.4s, v1.16b, v2.16b", "sdot v0.4s, v1.8b, v2.8b", "sdot v0.2s, v1.16b, v2.16b",
		"smull v0.4s, v1.4h, v2.4h", "sdot v0.4s, v1.16b", "",
	} {
		if w, err := assembleDot(bad); err == nil {
			t.Errorf("%q: encoded as %#08x, want an error", bad, w)
		}
	}
	if _, err := encodeDot(false, true, 0, -1, 0); err == nil {
		t.Error("register -1: no error")
	}
}

// Every WORD in probe_arm64.s must carry its instruction in a comment and
// be that instruction's encoding.
func TestArm64Words(t *testing.T) {
	f, err := os.Open("probe_arm64.s")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	word := regexp.MustCompile(`^\s*WORD\s+\$0x([0-9a-fA-F]{8})\s*//\s*(.*)$`)
	n := 0
	sc := bufio.NewScanner(f)
	for line := 1; sc.Scan(); line++ {
		text := sc.Text()
		if !strings.Contains(text, "WORD") || strings.HasPrefix(strings.TrimSpace(text), "//") {
			continue
		}
		p := word.FindStringSubmatch(text)
		if p == nil {
			t.Errorf("probe_arm64.s:%d: %q: want WORD $0x%%08x // instruction", line, text)
			continue
		}
		got, _ := strconv.ParseUint(p[1], 16, 32)
		want, err := assembleDot(p[2])
		if err != nil {
			t.Errorf("probe_arm64.s:%d: %v", line, err)
			continue
		}
		if uint32(got) != want {
			t.Errorf("probe_arm64.s:%d: %s is $%#08x, not $%#08x", line, p[2], want, got)
		}
		n++
	}
	if n != 13 {
		t.Errorf("checked %d WORDs, want 13 (12 in sdotLoop, 1 in sdotOnce)", n)
	}
}
