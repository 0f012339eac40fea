package gguf

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"strings"
)

// Flavor is one of the I2_S layouts of docs/format.md §4.
type Flavor int

// The I2_S flavors, spelled as docs/format.md §4 spells them. FlavorAuto means detect.
const (
	FlavorAuto Flavor = iota
	GgmlQk256NoScale
	Split32WithSibling
	BitNet32F16
)

func (fl Flavor) String() string {
	switch fl {
	case FlavorAuto:
		return "auto"
	case GgmlQk256NoScale:
		return "GgmlQk256NoScale"
	case Split32WithSibling:
		return "Split32WithSibling"
	case BitNet32F16:
		return "BitNet32F16"
	}
	return fmt.Sprintf("Flavor(%d)", int(fl))
}

// ParseFlavor reads a flavor name (case-insensitive; "" is auto).
func ParseFlavor(s string) (Flavor, error) {
	for _, fl := range []Flavor{FlavorAuto, GgmlQk256NoScale, Split32WithSibling, BitNet32F16} {
		if strings.EqualFold(strings.TrimSpace(s), fl.String()) {
			return fl, nil
		}
	}
	if strings.TrimSpace(s) == "" {
		return FlavorAuto, nil
	}
	return FlavorAuto, fmt.Errorf("gguf: unknown I2_S flavor %q, want auto, GgmlQk256NoScale, Split32WithSibling or BitNet32F16", s)
}

// Reading is how a GgmlQk256NoScale tensor's bytes are read (docs/format.md §4).
type Reading int

// The readings. ReadingAuto means detect; the other flavors have ReadingNone.
const (
	ReadingAuto Reading = iota
	ReadingSeed
	ReadingBitnetCpp
	ReadingNone
)

func (r Reading) String() string {
	switch r {
	case ReadingAuto:
		return "auto"
	case ReadingSeed:
		return "seed"
	case ReadingBitnetCpp:
		return "bitnet-cpp"
	case ReadingNone:
		return "-"
	}
	return fmt.Sprintf("Reading(%d)", int(r))
}

// ParseReading reads "auto", "seed" or "bitnet-cpp" ("" is auto).
func ParseReading(s string) (Reading, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "", "auto":
		return ReadingAuto, nil
	case "seed":
		return ReadingSeed, nil
	case "bitnet-cpp", "bitnet.cpp", "bitnetcpp":
		return ReadingBitnetCpp, nil
	}
	return ReadingAuto, fmt.Errorf("gguf: unknown I2_S reading %q, want auto, seed or bitnet-cpp", s)
}

// Options force an I2_S flavor and reading instead of detecting them.
type Options struct {
	Flavor  Flavor
	Reading Reading
}

// MaxPadding is the detection window: a candidate matches when
// 0 <= available - expected <= MaxPadding (docs/format.md §4).
const MaxPadding = 128

// I2SLayout is the result of I2_S flavor detection for one tensor.
type I2SLayout struct {
	Flavor    Flavor
	Reading   Reading
	Rows      int64
	Cols      int64
	Expected  int64   // bytes the flavor needs
	Available int64   // bytes up to the next tensor
	Scale     float32 // bitnet-cpp: the trailing tensor scale
	Sibling   string  // Split32WithSibling: the scale tensor's name
}

// i2sSizes returns the expected bytes of each candidate.
func i2sSizes(rows, cols int64) (seed, bitnet, split32, f16 int64) {
	n := rows * cols
	seed = rows * ((cols + 255) / 256) * 64
	bitnet = n/4 + 32
	split32 = (n + 31) / 32 * 8
	f16 = (n + 31) / 32 * 10
	return
}

func (f *File) sibling(name string) (*TensorInfo, bool) {
	for _, suf := range []string{".scale", ".scales"} {
		if t, ok := f.Tensor(name + suf); ok {
			return t, true
		}
	}
	return nil, false
}

// ReadingKey is the metadata key naming the reading of a file's
// GgmlQk256NoScale tensors ("seed" or "bitnet-cpp"); qkbench gguf synth
// writes it.
const ReadingKey = "qkbench.i2s_reading"

// ErrDamaged is wrapped by the errors that say a file's tensor data are cut
// or inconsistent (as opposed to a tensor qkbench cannot use): commands stop
// on them instead of skipping the tensor.
var ErrDamaged = errors.New("the file looks cut or damaged")

// DetectI2S finds the flavor and reading of an I2_S tensor (docs/format.md §4), or
// checks the ones opt forces. Detected (not forced) GgmlQk256NoScale
// readings are checked against the file: against its ReadingKey when it has
// one, otherwise against the file's other I2_S tensors, which must all read
// the same way. A tensor whose bytes fit the seed reading only because its
// bitnet-cpp bytes were cut (the tensor scale sits where seed sees padding)
// is an error too.
func (f *File) DetectI2S(t *TensorInfo, opt Options) (I2SLayout, error) {
	l, err := f.detectI2S(t, opt)
	if err != nil || opt.Flavor != FlavorAuto || opt.Reading != ReadingAuto || l.Flavor != GgmlQk256NoScale {
		return l, err
	}
	return l, f.checkReading(t, l)
}

// fileReadings is what a file says about its GgmlQk256NoScale readings.
type fileReadings struct {
	key    Reading // from ReadingKey; ReadingAuto when absent
	keyErr error   // a ReadingKey that is no reading
	// by lists the tensors detected with each reading, in file order.
	by map[Reading][]string
}

func (f *File) readings() *fileReadings {
	f.readOnce.Do(func() {
		fr := &fileReadings{by: map[Reading][]string{}}
		if v, ok := f.KV(ReadingKey); ok {
			r, err := ParseReading(v.Str)
			if v.Type != TypeString || err != nil || r == ReadingAuto {
				fr.keyErr = fmt.Errorf("gguf: %s is %s, want \"seed\" or \"bitnet-cpp\"", ReadingKey, v)
			}
			fr.key = r
		}
		for i := range f.Tensors {
			t := &f.Tensors[i]
			if t.Type != I2S {
				continue
			}
			if l, err := f.detectI2S(t, Options{}); err == nil && l.Flavor == GgmlQk256NoScale {
				fr.by[l.Reading] = append(fr.by[l.Reading], t.Name)
			}
		}
		f.read = fr
	})
	return f.read
}

// checkReading checks a detected GgmlQk256NoScale reading against the file.
func (f *File) checkReading(t *TensorInfo, l I2SLayout) error {
	fr := f.readings()
	if fr.keyErr != nil {
		return fr.keyErr
	}
	seed, bitnet, _, _ := i2sSizes(l.Rows, l.Cols)
	need := map[Reading]int64{ReadingSeed: seed, ReadingBitnetCpp: bitnet}
	if fr.key != ReadingAuto {
		if l.Reading == fr.key {
			return nil
		}
		return fmt.Errorf("gguf: tensor %q (I2_S, %s): %d bytes available read as %s, but the file's %s says %s, which needs %d: %w (force the reading to read it anyway)",
			t.Name, t.Shape(), t.Available, l.Reading, ReadingKey, fr.key, need[fr.key], ErrDamaged)
	}
	if len(fr.by) < 2 {
		return nil
	}
	var parts []string
	for _, r := range []Reading{ReadingSeed, ReadingBitnetCpp} {
		if names := fr.by[r]; len(names) > 0 {
			parts = append(parts, fmt.Sprintf("%d read as %s (%s)", len(names), r, firstNames(names, 3)))
		}
	}
	return fmt.Errorf("gguf: tensor %q (I2_S, %s) reads as %s, but the file's I2_S tensors disagree on the reading: %s: %w (force the reading to read it anyway)",
		t.Name, t.Shape(), l.Reading, strings.Join(parts, ", "), ErrDamaged)
}

func firstNames(names []string, n int) string {
	if len(names) <= n {
		return strings.Join(names, ", ")
	}
	return strings.Join(names[:n], ", ") + fmt.Sprintf(", ... %d more", len(names)-n)
}

// detectI2S is DetectI2S for one tensor on its own.
func (f *File) detectI2S(t *TensorInfo, opt Options) (I2SLayout, error) {
	if t.Type != I2S {
		return I2SLayout{}, fmt.Errorf("gguf: tensor %q is %s, not I2_S", t.Name, t.Type)
	}
	rows, cols := t.Rows(), t.Cols()
	seed, bitnet, split32, f16 := i2sSizes(rows, cols)
	l := I2SLayout{Rows: rows, Cols: cols, Available: t.Available}
	fits := func(exp int64) bool { d := t.Available - exp; return d >= 0 && d <= MaxPadding }
	bitnetScale := func() (float32, error) {
		if t.Available < bitnet {
			return 0, fmt.Errorf("gguf: tensor %q: bitnet-cpp reading needs %d bytes, %d available", t.Name, bitnet, t.Available)
		}
		b, err := f.bytesAt(t.Name, t.Start+t.Elems/4, 4)
		if err != nil {
			return 0, err
		}
		s := math.Float32frombits(binary.LittleEndian.Uint32(b))
		if !(s > 0) || math.IsInf(float64(s), 0) {
			return s, fmt.Errorf("gguf: tensor %q: bitnet-cpp trailing scale at byte %d is %v, want a finite positive float", t.Name, t.Elems/4, s)
		}
		return s, nil
	}
	sib, hasSib := f.sibling(t.Name)

	switch opt.Flavor {
	case FlavorAuto:
	case GgmlQk256NoScale:
		l.Flavor = GgmlQk256NoScale
		switch opt.Reading {
		case ReadingSeed:
			l.Reading, l.Expected = ReadingSeed, seed
		case ReadingBitnetCpp:
			l.Reading, l.Expected = ReadingBitnetCpp, bitnet
		default:
			// Pick the reading as detection would among these two: bitnet-cpp
			// when it fits with a valid scale and leaves less padding.
			_, scaleErr := bitnetScale()
			if fits(bitnet) && scaleErr == nil && (!fits(seed) || t.Available-bitnet < t.Available-seed) {
				l.Reading, l.Expected = ReadingBitnetCpp, bitnet
			} else {
				l.Reading, l.Expected = ReadingSeed, seed
			}
		}
	case Split32WithSibling:
		if !hasSib {
			return l, fmt.Errorf("gguf: tensor %q: flavor Split32WithSibling needs a sibling tensor %q or %q; none found", t.Name, t.Name+".scale", t.Name+".scales")
		}
		l.Flavor, l.Reading, l.Expected, l.Sibling = Split32WithSibling, ReadingNone, split32, sib.Name
	case BitNet32F16:
		l.Flavor, l.Reading, l.Expected = BitNet32F16, ReadingNone, f16
	default:
		return l, fmt.Errorf("gguf: tensor %q: unknown flavor %d", t.Name, opt.Flavor)
	}
	if opt.Flavor != FlavorAuto {
		if t.Available < l.Expected {
			return l, fmt.Errorf("gguf: tensor %q (%s, flavor %s reading %s forced): needs %d bytes, %d available: truncated", t.Name, t.Shape(), l.Flavor, l.Reading, l.Expected, t.Available)
		}
		if l.Reading == ReadingBitnetCpp {
			s, err := bitnetScale()
			if err != nil {
				return l, err
			}
			l.Scale = s
		}
		return l, nil
	}
	if opt.Reading != ReadingAuto && opt.Reading != ReadingNone {
		return f.detectI2S(t, Options{Flavor: GgmlQk256NoScale, Reading: opt.Reading})
	}

	if hasSib {
		if !fits(split32) {
			return l, fmt.Errorf("gguf: tensor %q (%s) has a sibling %q, so it is Split32WithSibling, but %d bytes are available and that flavor needs %d (up to %d more allowed)", t.Name, t.Shape(), sib.Name, t.Available, split32, MaxPadding)
		}
		l.Flavor, l.Reading, l.Expected, l.Sibling = Split32WithSibling, ReadingNone, split32, sib.Name
		return l, nil
	}
	type cand struct {
		fl  Flavor
		rd  Reading
		exp int64
	}
	// In priority order: GgmlQk256 (seed, then bitnet-cpp) > BitNet32F16.
	// Split32 without a sibling is no candidate (the sibling is its only evidence).
	cands := []cand{{GgmlQk256NoScale, ReadingSeed, seed}, {GgmlQk256NoScale, ReadingBitnetCpp, bitnet}, {BitNet32F16, ReadingNone, f16}}
	best := -1
	var scaleErr error
	for i, c := range cands {
		if !fits(c.exp) {
			continue
		}
		if c.rd == ReadingBitnetCpp {
			s, err := bitnetScale()
			if err != nil {
				scaleErr = err
				continue
			}
			l.Scale = s
		}
		if best < 0 || t.Available-c.exp < t.Available-cands[best].exp {
			best = i
		}
	}
	if best < 0 {
		sizes := fmt.Sprintf("GgmlQk256NoScale/seed %d, GgmlQk256NoScale/bitnet-cpp %d, Split32WithSibling %d, BitNet32F16 %d", seed, bitnet, split32, f16)
		msg := fmt.Sprintf("gguf: tensor %q (I2_S, %s): %d bytes available match no I2_S flavor (expected, up to %d bytes more: %s)", t.Name, t.Shape(), t.Available, MaxPadding, sizes)
		if scaleErr != nil {
			msg += "; " + scaleErr.Error()
		}
		return l, fmt.Errorf("%s", msg)
	}
	c := cands[best]
	l.Flavor, l.Reading, l.Expected = c.fl, c.rd, c.exp
	if c.rd != ReadingBitnetCpp {
		l.Scale = 0
	}
	if c.rd == ReadingSeed && t.Available < bitnet && t.Elems%128 == 0 && seed <= t.Elems/4 && t.Available >= t.Elems/4+4 {
		// Seed fits only in the bytes the bitnet-cpp reading needs: if its
		// tensor scale is where seed sees padding, bitnet-cpp bytes were cut.
		if s, err := f.bytesAt(t.Name, t.Start+t.Elems/4, 4); err == nil {
			if v := math.Float32frombits(binary.LittleEndian.Uint32(s)); v > 0 && !math.IsInf(float64(v), 0) {
				return l, fmt.Errorf("gguf: tensor %q (I2_S, %s): %d bytes available fit the seed reading, but byte %d holds a bitnet-cpp tensor scale (%g) and that reading needs %d bytes: the tensor looks cut by %d bytes: %w (force the reading to read it anyway)",
					t.Name, t.Shape(), t.Available, t.Elems/4, v, bitnet, bitnet-t.Available, ErrDamaged)
			}
		}
	}
	return l, nil
}
