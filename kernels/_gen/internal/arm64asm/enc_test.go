package arm64asm

import "testing"

// Words assembled and disassembled with GNU as/objdump for aarch64
// (binutils 2.40, -march=armv8.2-a+dotprod).
func TestKnownEncodings(t *testing.T) {
	for _, c := range []struct {
		got  Inst
		bits uint32
		asm  string
	}{
		{SDOT(0, 1, 2), 0x4e829420, "sdot v0.4s, v1.16b, v2.16b"},
		{SDOT(8, 20, 0), 0x4e809688, "sdot v8.4s, v20.16b, v0.16b"},
		{SDOT(31, 17, 5), 0x4e85963f, "sdot v31.4s, v17.16b, v5.16b"},
		{UDOT(3, 9, 30), 0x6e9e9523, "udot v3.4s, v9.16b, v30.16b"},
		{SMULL(1, 2, 3), 0x0e23c041, "smull v1.8h, v2.8b, v3.8b"},
		{SMULL2(4, 5, 6), 0x4e26c0a4, "smull2 v4.8h, v5.16b, v6.16b"},
		{SMLAL(1, 2, 3), 0x0e238041, "smlal v1.8h, v2.8b, v3.8b"},
		{SMLAL2(4, 5, 6), 0x4e2680a4, "smlal2 v4.8h, v5.16b, v6.16b"},
		{SMLAL2(28, 20, 0), 0x4e20829c, "smlal2 v28.8h, v20.16b, v0.16b"},
		{SADALP(7, 8), 0x4e606907, "sadalp v7.4s, v8.8h"},
		{FADD(9, 10, 11), 0x4e2bd549, "fadd v9.4s, v10.4s, v11.4s"},
		{FADDP(12, 13, 14), 0x6e2ed5ac, "faddp v12.4s, v13.4s, v14.4s"},
		{FMUL(1, 2, 3), 0x6e23dc41, "fmul v1.4s, v2.4s, v3.4s"},
		{FCVTNS(4, 5), 0x4e21a8a4, "fcvtns v4.4s, v5.4s"},
		{FABS(6, 7), 0x4ea0f8e6, "fabs v6.4s, v7.4s"},
		{FMAX(8, 9, 10), 0x4e2af528, "fmax v8.4s, v9.4s, v10.4s"},
		{FMAXV(11, 12), 0x6e30f98b, "fmaxv s11, v12.4s"},
		{SCVTF(15, 16), 0x4e21da0f, "scvtf v15.4s, v16.4s"},
	} {
		if c.got.Bits != c.bits || c.got.Asm != c.asm {
			t.Errorf("%s: got %#08x %q, want %#08x", c.asm, c.got.Bits, c.got.Asm, c.bits)
		}
	}
}

func TestFieldsDoNotOverlap(t *testing.T) {
	// Every register field must land in its own bits: changing one register
	// changes only its field.
	base := SDOT(0, 0, 0).Bits
	for r := 1; r < 32; r++ {
		if d := SDOT(r, 0, 0).Bits ^ base; d != uint32(r) {
			t.Errorf("Rd=%d changes bits %#x", r, d)
		}
		if n := SDOT(0, r, 0).Bits ^ base; n != uint32(r)<<5 {
			t.Errorf("Rn=%d changes bits %#x", r, n)
		}
		if m := SDOT(0, 0, r).Bits ^ base; m != uint32(r)<<16 {
			t.Errorf("Rm=%d changes bits %#x", r, m)
		}
	}
}

func TestLine(t *testing.T) {
	if got, want := SDOT(0, 1, 2).Line(), "WORD\t$0x4e829420\t// sdot v0.4s, v1.16b, v2.16b"; got != want {
		t.Errorf("Line() = %q, want %q", got, want)
	}
}

func TestBadRegisterPanics(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Error("SDOT(32, 0, 0) did not panic")
		}
	}()
	SDOT(32, 0, 0)
}
