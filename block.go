package cookiesession

import "unsafe"

// Opening a cookie allocates what the session keeps: its entries, the
// plaintext their keys and values point into, and for Decode the Session
// itself. For a session of up to 16 keys and 512 bytes of payload these
// come as one block, from a few fixed sizes; a larger one gets an
// allocation for each, sized exactly.
//
// A string that Get returns may point into the block, and then keeps the
// whole block alive: the price of not copying it.

const (
	// roomEntries is how many entries a block holds beyond the cookie's:
	// a request that opens a session often adds a key before sealing it.
	roomEntries = 2
	// roomBytes is how many bytes a block leaves after the plaintext for
	// the encodings of values set (state.arena).
	roomBytes = 64
	// blockMaxPlain is the largest plaintext (with roomBytes) a block holds.
	blockMaxPlain = 512
)

// sessionSlot is what a block holds before its entries: the Session, for
// Decode, or nothing, when the caller has one.
type sessionSlot interface{ Session | struct{} }

type entryArray interface {
	[4]entry | [8]entry | [16]entry
}

type byteArray interface {
	[128]byte | [256]byte | [blockMaxPlain]byte
}

type block[S sessionSlot, E entryArray, P byteArray] struct {
	s       S
	entries E
	plain   P
}

// openStorage is what opening a cookie fills: the Session (nil if the
// caller has one), room for entries (nil: parse allocates them once it has
// checked their keys) and the buffer the plaintext is copied to.
type openStorage struct {
	s       *Session
	entries []entry
	plain   []byte
}

// newStorage returns storage for a plaintext of size bytes (roomBytes
// included) and n entries (roomEntries included), with a Session if
// withSession. n comes from the data map's header, not yet checked: a
// block is only chosen when n is small, so a header that lies costs at
// most one block.
func newStorage(withSession bool, n, size int) openStorage {
	if withSession {
		return storageFor[Session](n, size)
	}
	return storageFor[struct{}](n, size)
}

func storageFor[S sessionSlot](n, size int) openStorage {
	if size <= blockMaxPlain {
		switch {
		case n <= 4:
			return blockFor[S, [4]entry](size)
		case n <= 8:
			return blockFor[S, [8]entry](size)
		case n <= 16:
			return blockFor[S, [16]entry](size)
		}
	}
	st := openStorage{plain: make([]byte, 0, size)}
	if _, ok := any((*S)(nil)).(*Session); ok {
		st.s = new(Session)
	}
	return st
}

func blockFor[S sessionSlot, E entryArray](size int) openStorage {
	switch {
	case size <= 128:
		return newBlock[S, E, [128]byte]()
	case size <= 256:
		return newBlock[S, E, [256]byte]()
	}
	return newBlock[S, E, [blockMaxPlain]byte]()
}

func newBlock[S sessionSlot, E entryArray, P byteArray]() openStorage {
	b := new(block[S, E, P])
	s, _ := any(&b.s).(*Session)
	// E is an array of entries and P one of bytes, so these slices cover
	// exactly the memory of those fields, typed as it was allocated.
	return openStorage{
		s:       s,
		entries: unsafe.Slice((*entry)(unsafe.Pointer(&b.entries)), len(b.entries))[:0],
		plain:   unsafe.Slice((*byte)(unsafe.Pointer(&b.plain)), len(b.plain))[:0],
	}
}
