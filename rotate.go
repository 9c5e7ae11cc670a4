package cookiesession

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"hash"
	"strings"
	"sync"
	"sync/atomic"
)

// MinSecretLen is the shortest Key.Secret accepted: 32 bytes, 256 bits.
const MinSecretLen = 32

// maxKeyIDLen is the longest Key.ID accepted. The ID travels in every cookie,
// so it is kept short.
const maxKeyIDLen = 16

// HKDF info strings; see FORMAT.md §1. Format v2 ends each with a NUL and
// the key ID, so the keys that open a cookie depend on the ID it names: a
// cookie relabelled with another ID fails its MAC, even in a separately
// configured keyring that holds the same secret. Format v1's strings bind no
// ID; its keys only open cookies sealed before v2 (see Config.RejectV1).
const (
	hkdfInfoHMAC   = "cookiesession/v2 hmac-sha256\x00" // + key ID
	hkdfInfoAES    = "cookiesession/v2 aes-256\x00"     // + key ID
	hkdfInfoHMACv1 = "cookiesession/v1 hmac-sha256"
	hkdfInfoAESv1  = "cookiesession/v1 aes-256"
)

// A Key is one secret in a Keyring.
//
// ID names the key in every cookie it seals, so it is public: 1 to 16
// characters of [A-Za-z0-9_-]. Secret must be at least MinSecretLen bytes of
// high-entropy randomness (GenerateKey makes one); an HMAC key and an AES-256
// key are derived from it and the ID with HKDF-SHA256, so one secret never
// serves two algorithms and a cookie opens only under the ID it was sealed
// with.
type Key struct {
	ID     string
	Secret []byte
}

// GenerateKey returns a Key with the given ID and a fresh 32-byte secret from
// crypto/rand.
func GenerateKey(id string) (Key, error) {
	if err := checkKeyID(id); err != nil {
		return Key{}, err
	}
	secret := make([]byte, MinSecretLen)
	if _, err := rand.Read(secret); err != nil {
		return Key{}, fmt.Errorf("cookiesession: generating key %q: %w", id, err)
	}
	return Key{ID: id, Secret: secret}, nil
}

// FormatKeys returns the text form of keys that ParseKeys reads:
// "id:base64url(secret)" joined by commas, the first key being the primary.
// It is meant for a single environment variable such as COOKIESESSION_KEYS.
func FormatKeys(keys ...Key) string {
	var b strings.Builder
	for i, k := range keys {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(k.ID)
		b.WriteByte(':')
		b.WriteString(base64.RawURLEncoding.EncodeToString(k.Secret))
	}
	return b.String()
}

// ParseKeys reads the text form written by FormatKeys and returns a Keyring
// whose primary is the first key. White space around the text and around
// each entry is ignored; the secret is canonical base64url, with or without
// its padding (FORMAT.md §1.1 has the exact grammar).
func ParseKeys(text string) (*Keyring, error) {
	text = strings.TrimSpace(text)
	if text == "" {
		return nil, errors.New("cookiesession: no keys given")
	}
	var keys []Key
	for i, entry := range strings.Split(text, ",") {
		entry = strings.TrimSpace(entry)
		id, enc, ok := strings.Cut(entry, ":")
		if !ok {
			return nil, fmt.Errorf("cookiesession: key %d: want id:base64url(secret)", i+1)
		}
		if !validKeyID(id) {
			// Not echoed: in a garbled entry ("secret:id") this is the secret.
			return nil, fmt.Errorf("cookiesession: key %d: ID is not 1 to %d characters of [A-Za-z0-9_-]", i+1, maxKeyIDLen)
		}
		secret, err := decodeSecret(enc)
		if err != nil {
			// The secret itself is never echoed into the error.
			return nil, fmt.Errorf("cookiesession: key %d (%q): secret is not base64url: %w", i+1, id, err)
		}
		keys = append(keys, Key{ID: id, Secret: secret})
	}
	return NewKeyring(keys[0], keys[1:]...)
}

// decodeSecret decodes the secret of a key's text form: canonical base64url,
// with its "=" padding or without any. Line breaks (which Go's decoder would
// skip), wrong padding and non-zero padding bits are refused, so each secret
// has exactly the two spellings FORMAT.md §1.1 gives.
func decodeSecret(enc string) ([]byte, error) {
	if strings.ContainsAny(enc, "\r\n") {
		return nil, errors.New("line break in base64")
	}
	if strings.HasSuffix(enc, "=") {
		return base64.URLEncoding.Strict().DecodeString(enc)
	}
	return base64.RawURLEncoding.Strict().DecodeString(enc)
}

// A Keyring holds the keys a Codec seals and opens with: one primary key that
// seals every new cookie, and older keys that still open the cookies they
// sealed. A cookie names the key that sealed it, so opening never tries
// another key: only, when the MAC fails, the same key's wire format v1
// derivation (see Config.RejectV1).
//
// A Keyring is safe for concurrent use: Rotate and Retire may run while other
// goroutines encode and decode with it; each operation sees either the old or
// the new set of keys, never a mixture.
type Keyring struct {
	mu    sync.Mutex // serialises writers; readers use state
	state atomic.Pointer[keyState]
}

// keyState is an immutable snapshot of a Keyring.
type keyState struct {
	primary *sealKey
	keys    []*sealKey // primary first; a handful at most, so a scan beats a map
}

func (st *keyState) lookup(id string) *sealKey {
	for _, k := range st.keys {
		if k.id == id {
			return k
		}
	}
	return nil
}

// withSecret returns the key in st derived from the same secret as k. The
// v1 keys bind no ID, so they tell secrets apart whatever their IDs.
func (st *keyState) withSecret(k *sealKey) *sealKey {
	for _, o := range st.keys {
		if hmac.Equal(o.v1.hashKey, k.v1.hashKey) {
			return o
		}
	}
	return nil
}

// NewKeyring returns a Keyring that seals with primary and also opens cookies
// sealed by any of accepted. Every key is validated here, never at first use:
// a malformed or duplicate ID or a short secret is an error.
func NewKeyring(primary Key, accepted ...Key) (*Keyring, error) {
	st := &keyState{}
	for _, k := range append([]Key{primary}, accepted...) {
		sk, err := deriveKey(k)
		if err != nil {
			return nil, err
		}
		if st.lookup(k.ID) != nil {
			return nil, fmt.Errorf("cookiesession: duplicate key ID %q", k.ID)
		}
		if other := st.withSecret(sk); other != nil {
			// A v1 cookie's key ID is not bound by its keys: one secret
			// under two IDs would let it be relabelled from one to the
			// other.
			return nil, fmt.Errorf("cookiesession: keys %q and %q have the same secret", other.id, k.ID)
		}
		st.keys = append(st.keys, sk)
	}
	st.primary = st.keys[0]
	kr := &Keyring{}
	kr.state.Store(st)
	return kr, nil
}

// Rotate makes primary the key that seals new cookies. The previous primary
// stays accepted, so no session is logged out. Rotating to a key already in
// the ring promotes it, provided the secret is the same; an ID reused with a
// different secret is an error.
func (kr *Keyring) Rotate(primary Key) error {
	sk, err := deriveKey(primary)
	if err != nil {
		return err
	}
	kr.mu.Lock()
	defer kr.mu.Unlock()
	old := kr.load()
	next := &keyState{primary: sk, keys: []*sealKey{sk}}
	for _, k := range old.keys {
		switch {
		case k.id != sk.id && hmac.Equal(k.v1.hashKey, sk.v1.hashKey):
			return fmt.Errorf("cookiesession: keys %q and %q have the same secret", k.id, sk.id)
		case k.id != sk.id:
			next.keys = append(next.keys, k)
		case !hmac.Equal(k.hashKey, sk.hashKey):
			return fmt.Errorf("cookiesession: key ID %q is already in use with a different secret", sk.id)
		}
	}
	kr.state.Store(next)
	return nil
}

// Retire removes the key with the given ID: cookies it sealed no longer open
// (they fail with ErrUnknownKey). The primary key cannot be retired; Rotate
// to its successor first.
func (kr *Keyring) Retire(id string) error {
	kr.mu.Lock()
	defer kr.mu.Unlock()
	old := kr.load()
	if old.primary != nil && old.primary.id == id {
		return fmt.Errorf("cookiesession: key %q is the primary key and cannot be retired", id)
	}
	if old.lookup(id) == nil {
		return fmt.Errorf("cookiesession: no key %q to retire", id)
	}
	next := &keyState{primary: old.primary}
	for _, k := range old.keys {
		if k.id != id {
			next.keys = append(next.keys, k)
		}
	}
	kr.state.Store(next)
	return nil
}

// PrimaryID returns the ID of the key that seals new cookies, or "" for a
// zero Keyring.
func (kr *Keyring) PrimaryID() string {
	if p := kr.load().primary; p != nil {
		return p.id
	}
	return ""
}

// IDs returns the IDs of all keys in the ring, the primary first.
func (kr *Keyring) IDs() []string {
	st := kr.load()
	ids := make([]string, len(st.keys))
	for i, k := range st.keys {
		ids[i] = k.id
	}
	return ids
}

// load returns the current snapshot. A zero Keyring holds no keys until its
// first Rotate; NewCodec refuses it.
func (kr *Keyring) load() *keyState {
	if st := kr.state.Load(); st != nil {
		return st
	}
	return &keyState{}
}

// sealKey is a Key with its derived keys and the state built from them.
type sealKey struct {
	id       string
	hashKey  []byte
	blockKey []byte
	block    cipher.Block
	macs     sync.Pool // of hash.Hash, keyed with hashKey
	// v1 is the same secret under format v1's derivation, which ignores
	// the ID: it opens cookies sealed before v2 and never seals. It is nil
	// in a v1 sealKey itself.
	v1 *sealKey
}

func (k *sealKey) mac() hash.Hash {
	if h, ok := k.macs.Get().(hash.Hash); ok {
		h.Reset()
		return h
	}
	return hmac.New(sha256.New, k.hashKey)
}

func (k *sealKey) putMAC(h hash.Hash) { k.macs.Put(h) }

func deriveKey(k Key) (*sealKey, error) {
	if err := checkKeyID(k.ID); err != nil {
		return nil, err
	}
	if len(k.Secret) < MinSecretLen {
		return nil, fmt.Errorf("cookiesession: key %q: secret is %d bytes, want at least %d", k.ID, len(k.Secret), MinSecretLen)
	}
	sk, err := deriveWith(k, hkdfInfoHMAC+k.ID, hkdfInfoAES+k.ID)
	if err != nil {
		return nil, err
	}
	if sk.v1, err = deriveWith(k, hkdfInfoHMACv1, hkdfInfoAESv1); err != nil {
		return nil, err
	}
	return sk, nil
}

// deriveWith derives k's HMAC and AES keys with the given HKDF info strings.
func deriveWith(k Key, infoHMAC, infoAES string) (*sealKey, error) {
	hashKey, err := hkdf.Key(sha256.New, k.Secret, nil, infoHMAC, 32)
	if err != nil {
		return nil, fmt.Errorf("cookiesession: key %q: %w", k.ID, err)
	}
	blockKey, err := hkdf.Key(sha256.New, k.Secret, nil, infoAES, 32)
	if err != nil {
		return nil, fmt.Errorf("cookiesession: key %q: %w", k.ID, err)
	}
	block, err := aes.NewCipher(blockKey)
	if err != nil {
		return nil, fmt.Errorf("cookiesession: key %q: %w", k.ID, err)
	}
	return &sealKey{id: k.ID, hashKey: hashKey, blockKey: blockKey, block: block}, nil
}

func checkKeyID(id string) error {
	if !validKeyID(id) {
		return fmt.Errorf("cookiesession: key ID %q: want 1 to %d characters of [A-Za-z0-9_-]", id, maxKeyIDLen)
	}
	return nil
}

func validKeyID(id string) bool {
	if len(id) == 0 || len(id) > maxKeyIDLen {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}
