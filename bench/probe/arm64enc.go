package probe

import (
	"fmt"
	"regexp"
	"strconv"
)

// The Go arm64 assembler lacks the dot-product instructions, so
// probe_arm64.s spells them as WORD $0x... with the instruction in a comment.
// This file computes those encodings (for any GOARCH, so that the check in
// arm64enc_test.go runs everywhere).

// encodeDot returns the A64 encoding of SDOT (or UDOT when unsigned)
// Vd.<T>, Vn.<Tb>, Vm.<Tb> (vector form, Armv8.2 dotprod), with q selecting
// the 128-bit form (4S, 16B) over the 64-bit one (2S, 8B):
//
//	0 q u 01110 10 0 m 1001 0 1 n d
func encodeDot(unsigned, q bool, d, n, m int) (uint32, error) {
	for _, r := range []int{d, n, m} {
		if r < 0 || r > 31 {
			return 0, fmt.Errorf("probe: arm64 vector register v%d, want v0..v31", r)
		}
	}
	w := uint32(0x0e809400) | uint32(m)<<16 | uint32(n)<<5 | uint32(d)
	if q {
		w |= 1 << 30
	}
	if unsigned {
		w |= 1 << 29
	}
	return w, nil
}

var dotSyntax = regexp.MustCompile(`^\s*(sdot|udot)\s+v(\d+)\.(4s|2s),\s*v(\d+)\.(16b|8b),\s*v(\d+)\.(16b|8b)\s*$`)

// assembleDot encodes one dot-product instruction written as in the Arm
// manual, e.g. "sdot v0.4s, v1.16b, v2.16b".
func assembleDot(text string) (uint32, error) {
	p := dotSyntax.FindStringSubmatch(text)
	if p == nil {
		return 0, fmt.Errorf("probe: %q is not \"sdot|udot vD.4s|2s, vN.16b|8b, vM.16b|8b\"", text)
	}
	q := p[3] == "4s"
	want := "8b"
	if q {
		want = "16b"
	}
	if p[5] != want || p[7] != want {
		return 0, fmt.Errorf("probe: %q: with .%s the sources are .%s", text, p[3], want)
	}
	d, _ := strconv.Atoi(p[2])
	n, _ := strconv.Atoi(p[4])
	m, _ := strconv.Atoi(p[6])
	return encodeDot(p[1] == "udot", q, d, n, m)
}
