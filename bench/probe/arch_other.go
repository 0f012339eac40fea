//go:build (!amd64 && !arm64) || purego

package probe

import (
	"errors"
	"runtime"
)

func asmUnavailable() string { return errNoAsm.Error() }

var errNoAsm = errors.New("no probe assembly in this build (GOARCH=" + runtime.GOARCH + ", or the purego tag)")

func noAsm() error { return errNoAsm }

func archRead() []readLoop {
	return []readLoop{{width: "vector", isa: "asm", instr: "assembly read loop", avail: noAsm}}
}

func archCompute() []computeLoop {
	return []computeLoop{
		{name: "add chain (clock)", kind: KindClock, isa: "asm", unit: "GHz", avail: noAsm},
		{name: "int8 dot product", kind: KindInt8, isa: "asm", unit: "GMAC/s", avail: noAsm},
		{name: "f32 FMA", kind: KindF32, isa: "asm", unit: "GFMA/s", avail: noAsm},
	}
}
