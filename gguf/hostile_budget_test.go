package gguf

import (
	"encoding/binary"
	"strings"
	"testing"
)

// A uint8 array costs 1 byte an item in the file but ~100 bytes decoded: past
// MaxMetadataItems the reader must refuse instead of allocating gigabytes.
func TestMetadataItemBudget(t *testing.T) {
	n := MaxMetadataItems + 1
	b := []byte("GGUF")
	b = binary.LittleEndian.AppendUint32(b, 3)
	b = binary.LittleEndian.AppendUint64(b, 0) // tensors
	b = binary.LittleEndian.AppendUint64(b, 1) // metadata keys
	key := "big.array"
	b = binary.LittleEndian.AppendUint64(b, uint64(len(key)))
	b = append(b, key...)
	b = binary.LittleEndian.AppendUint32(b, uint32(TypeArray))
	b = binary.LittleEndian.AppendUint32(b, 0) // uint8 items
	b = binary.LittleEndian.AppendUint64(b, uint64(n))
	b = append(b, make([]byte, n)...)
	_, err := OpenBytes(b)
	if err == nil || !strings.Contains(err.Error(), "metadata arrays hold more than") {
		t.Fatalf("OpenBytes of %d uint8 items: %v, want the item budget error", n, err)
	}
}
