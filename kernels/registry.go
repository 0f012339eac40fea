package kernels

import (
	"fmt"
	"os"
	"sort"
	"strings"
	"sync"
)

var (
	regMu sync.RWMutex
	reg   []Kernel
)

// Register adds k to the registry. Backends call it from init. It panics on a
// duplicate or malformed id: that is a programming error found at start-up.
func Register(k Kernel) {
	if err := Add(k); err != nil {
		panic(err)
	}
}

// Add adds k to the registry, or returns an error for a malformed id or one
// already registered. Kernels loaded at run time (plugins) come this way.
func Add(k Kernel) error {
	id := k.Info().ID
	if err := CheckID(id); err != nil {
		return err
	}
	regMu.Lock()
	defer regMu.Unlock()
	for _, o := range reg {
		if o.Info().ID == id {
			return fmt.Errorf("kernels: kernel %q registered twice (backends %s and %s)", id, o.Info().Backend, k.Info().Backend)
		}
	}
	reg = append(reg, k)
	sort.SliceStable(reg, func(i, j int) bool { return order(reg[i]) < order(reg[j]) })
	return nil
}

// order sorts references first, then portable Go, assembly, C, then peers and plugins; by id within.
func order(k Kernel) string {
	i := k.Info()
	rank := map[string]string{"scalar": "0", "amd64": "1", "arm64": "1", "cgo": "2"}[i.Backend]
	if rank == "" {
		rank = "3"
	}
	if strings.HasPrefix(i.ID, "ref-") {
		rank = "/"
	}
	return rank + i.ID
}

// CheckID reports a malformed kernel id: empty, a character other than
// a-z, 0-9, '-' and '_', or a "-<digits>" ending, which benchmark names read
// as GOMAXPROCS (docs/format.md §6).
func CheckID(id string) error {
	if id == "" {
		return fmt.Errorf("kernels: empty kernel id")
	}
	for _, r := range id {
		if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-' || r == '_') {
			return fmt.Errorf("kernels: kernel id %q: only a-z, 0-9, '-' and '_' are allowed", id)
		}
	}
	// A benchmark name part ending in -<digits> reads as GOMAXPROCS (docs/format.md §6).
	if i := strings.LastIndexByte(id, '-'); i >= 0 && i+1 < len(id) && strings.Trim(id[i+1:], "0123456789") == "" {
		return fmt.Errorf("kernels: kernel id %q ends in -<digits>", id)
	}
	return nil
}

// List returns every registered kernel, available or not.
func List() []Kernel {
	regMu.RLock()
	defer regMu.RUnlock()
	return append([]Kernel(nil), reg...)
}

// IDs returns the ids of every registered kernel.
func IDs() []string {
	var ids []string
	for _, k := range List() {
		ids = append(ids, k.Info().ID)
	}
	return ids
}

// Lookup finds a kernel by id.
func Lookup(id string) (Kernel, error) {
	for _, k := range List() {
		if k.Info().ID == id {
			return k, nil
		}
	}
	return nil, fmt.Errorf("kernels: unknown kernel %q; known kernels: %s", id, strings.Join(IDs(), ", "))
}

// Select resolves a comma-separated list of ids. "" or "all" means every
// registered kernel; "available" every usable one. Unknown ids are an error.
func Select(list string) ([]Kernel, error) {
	list = strings.TrimSpace(list)
	switch list {
	case "", "all":
		return List(), nil
	case "available":
		var out []Kernel
		for _, k := range List() {
			if Usable(k) == nil {
				out = append(out, k)
			}
		}
		return out, nil
	}
	var out []Kernel
	seen := map[string]bool{}
	for _, id := range strings.Split(list, ",") {
		id = strings.TrimSpace(id)
		if id == "" || seen[id] {
			continue
		}
		seen[id] = true
		k, err := Lookup(id)
		if err != nil {
			return nil, err
		}
		out = append(out, k)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("kernels: kernel list %q names no kernel", list)
	}
	return out, nil
}

// Usable returns nil when k can run here: k.Available() and not switched
// off by QKBENCH_DISABLE (a comma list of kernel ids, id prefixes such as
// "avx512", or backends such as "cgo").
func Usable(k Kernel) error {
	if err := k.Available(); err != nil {
		return err
	}
	i := k.Info()
	for _, d := range strings.Split(os.Getenv("QKBENCH_DISABLE"), ",") {
		d = strings.TrimSpace(d)
		if d == "" {
			continue
		}
		if d == i.ID || d == i.Backend || strings.HasPrefix(i.ID, d) {
			return fmt.Errorf("disabled by QKBENCH_DISABLE=%s", os.Getenv("QKBENCH_DISABLE"))
		}
	}
	return nil
}

// CheckDisable returns an error naming each QKBENCH_DISABLE entry that
// matches no registered kernel id, id prefix or backend (a typo would
// otherwise switch nothing off, silently).
func CheckDisable() error {
	var bad []string
	for _, d := range strings.Split(os.Getenv("QKBENCH_DISABLE"), ",") {
		if d = strings.TrimSpace(d); d == "" {
			continue
		}
		hit := false
		for _, k := range List() {
			i := k.Info()
			hit = hit || d == i.Backend || strings.HasPrefix(i.ID, d)
		}
		if !hit {
			bad = append(bad, fmt.Sprintf("%q", d))
		}
	}
	if len(bad) > 0 {
		return fmt.Errorf("kernels: QKBENCH_DISABLE=%s: %s match no kernel id, id prefix or backend; known kernels: %s", os.Getenv("QKBENCH_DISABLE"), strings.Join(bad, ", "), strings.Join(IDs(), ", "))
	}
	return nil
}

// Required returns the kernel ids listed in QKBENCH_REQUIRE. Tests fail,
// rather than skip, when one of them is unknown or unusable.
func Required() []string {
	var out []string
	for _, id := range strings.Split(os.Getenv("QKBENCH_REQUIRE"), ",") {
		if id = strings.TrimSpace(id); id != "" {
			out = append(out, id)
		}
	}
	return out
}

// CheckRequired returns an error naming every required kernel that is unknown or unusable.
func CheckRequired() error {
	var bad []string
	for _, id := range Required() {
		k, err := Lookup(id)
		if err != nil {
			bad = append(bad, id+": not registered")
			continue
		}
		if err := Usable(k); err != nil {
			bad = append(bad, id+": "+err.Error())
		}
	}
	if len(bad) > 0 {
		return fmt.Errorf("kernels: QKBENCH_REQUIRE=%s but: %s", os.Getenv("QKBENCH_REQUIRE"), strings.Join(bad, "; "))
	}
	return nil
}
