package cookiesession

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func TestGenerateKey(t *testing.T) {
	for _, id := range []string{"k", "k1", "2026-01", "A_b-9", strings.Repeat("x", maxKeyIDLen)} {
		k, err := GenerateKey(id)
		if err != nil {
			t.Errorf("GenerateKey(%q): %v", id, err)
			continue
		}
		if k.ID != id || len(k.Secret) != MinSecretLen {
			t.Errorf("GenerateKey(%q) = ID %q, %d-byte secret", id, k.ID, len(k.Secret))
		}
		if _, err := NewKeyring(k); err != nil {
			t.Errorf("NewKeyring(GenerateKey(%q)): %v", id, err)
		}
	}
	for _, id := range []string{"", strings.Repeat("x", maxKeyIDLen+1), "a.b", "a:b", "é", "a b", "a,b", "a/b", "a=b", "k1\n", "\x00"} {
		if k, err := GenerateKey(id); err == nil {
			t.Errorf("GenerateKey(%q) = %v, want an error", id, k.ID)
		}
		// The same rule holds for a Key built by hand.
		if _, err := NewKeyring(Key{ID: id, Secret: make([]byte, MinSecretLen)}); err == nil {
			t.Errorf("NewKeyring accepted key ID %q", id)
		}
	}
	a, _ := GenerateKey("a")
	b, _ := GenerateKey("a")
	if bytes.Equal(a.Secret, b.Secret) || bytes.Equal(a.Secret, make([]byte, MinSecretLen)) {
		t.Error("GenerateKey secrets are not random")
	}
}

func TestNewKeyring(t *testing.T) {
	secret := func(n int, b byte) []byte { return bytes.Repeat([]byte{b}, n) }
	ok := []struct {
		name     string
		primary  Key
		accepted []Key
		ids      []string
	}{
		{"32-byte secret", Key{"a", secret(32, 1)}, nil, []string{"a"}},
		{"64-byte secret", Key{"a", secret(64, 1)}, nil, []string{"a"}},
		{"three keys", Key{"a", secret(32, 1)}, []Key{{"b", secret(32, 2)}, {"c", secret(32, 3)}}, []string{"a", "b", "c"}},
	}
	for _, tc := range ok {
		kr, err := NewKeyring(tc.primary, tc.accepted...)
		if err != nil {
			t.Errorf("%s: %v", tc.name, err)
			continue
		}
		if kr.PrimaryID() != tc.primary.ID || !slices.Equal(kr.IDs(), tc.ids) {
			t.Errorf("%s: PrimaryID %q, IDs %q", tc.name, kr.PrimaryID(), kr.IDs())
		}
	}
	bad := []struct {
		name     string
		primary  Key
		accepted []Key
	}{
		{"31-byte primary", Key{"a", secret(31, 1)}, nil},
		{"31-byte accepted", Key{"a", secret(32, 1)}, []Key{{"b", secret(31, 2)}}},
		{"nil secret", Key{"a", nil}, nil},
		{"duplicate ID", Key{"a", secret(32, 1)}, []Key{{"a", secret(32, 2)}}},
		{"duplicate ID, same secret", Key{"a", secret(32, 1)}, []Key{{"b", secret(32, 2)}, {"a", secret(32, 1)}}},
		{"bad accepted ID", Key{"a", secret(32, 1)}, []Key{{"b.c", secret(32, 2)}}},
		{"zero primary", Key{}, nil},
		// The ID is outside the MAC: one secret under two IDs would let a
		// cookie be relabelled from one to the other.
		{"same secret, two IDs", Key{"a", secret(32, 1)}, []Key{{"b", secret(32, 1)}}},
	}
	for _, tc := range bad {
		if kr, err := NewKeyring(tc.primary, tc.accepted...); err == nil {
			t.Errorf("%s: NewKeyring = %v, want an error", tc.name, kr.IDs())
		}
	}
	// The secret is copied in, not aliased: changing the caller's slice
	// later changes nothing.
	k := Key{"a", secret(32, 9)}
	kr, err := NewKeyring(k)
	if err != nil {
		t.Fatal(err)
	}
	c, _ := newTestCodec(t, Config{Keys: kr})
	s := c.New()
	s.Set("x", 1)
	v := mustEncode(t, c, s)
	clear(k.Secret)
	if _, err := c.Decode(v); err != nil {
		t.Errorf("after the caller zeroed its secret: %v", err)
	}
}

func TestFormatParseKeys(t *testing.T) {
	var keys []Key
	for _, id := range []string{"new", "mid", "old"} {
		k, err := GenerateKey(id)
		if err != nil {
			t.Fatal(err)
		}
		keys = append(keys, k)
	}
	text := FormatKeys(keys...)
	if strings.ContainsAny(text, " =\n") {
		t.Errorf("FormatKeys wrote %q: want no spaces, padding or newlines", text)
	}
	parsed, err := ParseKeys(text)
	if err != nil {
		t.Fatalf("ParseKeys(FormatKeys(...)): %v", err)
	}
	if parsed.PrimaryID() != "new" || !slices.Equal(parsed.IDs(), []string{"new", "mid", "old"}) {
		t.Errorf("parsed PrimaryID %q, IDs %q", parsed.PrimaryID(), parsed.IDs())
	}
	// Same secrets: a cookie sealed by each original key opens with the
	// parsed ring, and the reverse.
	reader, _ := newTestCodec(t, Config{Keys: parsed})
	for _, k := range keys {
		ring, err := NewKeyring(k)
		if err != nil {
			t.Fatal(err)
		}
		w, _ := newTestCodec(t, Config{Keys: ring})
		s := w.New()
		s.Set("by", k.ID)
		got, err := reader.Decode(mustEncode(t, w, s))
		if err != nil {
			t.Errorf("cookie sealed by %q does not open with the parsed ring: %v", k.ID, err)
			continue
		}
		if got.KeyID() != k.ID {
			t.Errorf("KeyID = %q, want %q", got.KeyID(), k.ID)
		}
		// Parsing the formatted single key again gives the same key.
		single, err := ParseKeys(FormatKeys(k))
		if err != nil {
			t.Fatal(err)
		}
		r2, _ := newTestCodec(t, Config{Keys: single})
		if _, err := r2.Decode(mustEncode(t, w, s)); err != nil {
			t.Errorf("ParseKeys(FormatKeys(%q)) does not open its cookies: %v", k.ID, err)
		}
	}

	enc := func(k Key) string { return base64.RawURLEncoding.EncodeToString(k.Secret) }
	variants := map[string]string{
		"padded":             keys[0].ID + ":" + base64.URLEncoding.EncodeToString(keys[0].Secret) + "," + keys[1].ID + ":" + enc(keys[1]),
		"surrounding spaces": "  " + keys[0].ID + ":" + enc(keys[0]) + " ,\t" + keys[1].ID + ":" + enc(keys[1]) + "\n",
	}
	for name, text := range variants {
		kr, err := ParseKeys(text)
		if err != nil {
			t.Errorf("%s: ParseKeys: %v", name, err)
			continue
		}
		if !slices.Equal(kr.IDs(), []string{"new", "mid"}) {
			t.Errorf("%s: IDs %q", name, kr.IDs())
		}
		c, _ := newTestCodec(t, Config{Keys: kr})
		s := c.New()
		s.Set("x", 1)
		if _, err := reader.Decode(mustEncode(t, c, s)); err != nil {
			t.Errorf("%s: the parsed key is not the original: %v", name, err)
		}
	}
}

func TestParseKeysRejects(t *testing.T) {
	secret := "c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0LXNlY3Jl" // 33 bytes once decoded
	short := base64.RawURLEncoding.EncodeToString(bytes.Repeat([]byte("s"), MinSecretLen-1))
	stdAlphabet := base64.RawStdEncoding.EncodeToString(bytes.Repeat([]byte{0xfb, 0xff}, 16)) // has + and /
	cases := []struct {
		name   string
		text   string
		secret string // text that must not appear in the error
	}{
		{"empty", "", ""},
		{"blank", "  \n ", ""},
		{"missing colon", "k1" + secret, secret},
		{"secret only", secret, secret},
		{"empty ID", ":" + secret, secret},
		{"bad ID", "a.b:" + secret, secret},
		{"long ID", strings.Repeat("k", 17) + ":" + secret, secret},
		{"empty secret", "k1:", ""},
		{"garbage secret", "k1:" + secret + "!!", secret},
		{"secret with a colon", "k1:" + secret + ":" + secret, secret},
		{"short secret", "k1:" + short, short},
		{"standard alphabet", "k1:" + stdAlphabet, stdAlphabet},
		{"swapped", secret + ":k1", secret},
		{"trailing comma", "k1:" + secret + ",", secret},
		{"duplicate", "k1:" + secret + ",k1:" + secret, secret},
		{"second entry bad", "k1:" + secret + ",k2:" + secret + "*", secret},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			kr, err := ParseKeys(tc.text)
			if err == nil {
				t.Fatalf("ParseKeys(%q) = %q, want an error", tc.text, kr.IDs())
			}
			if tc.secret != "" && strings.Contains(err.Error(), tc.secret[:16]) {
				t.Errorf("the error echoes the secret: %v", err)
			}
		})
	}
	// The control: the secret above is fine where it belongs.
	if _, err := ParseKeys("k1:" + secret); err != nil {
		t.Fatalf("ParseKeys of a good entry: %v", err)
	}
}

func TestRotate(t *testing.T) {
	k1, _ := GenerateKey("k1")
	k2, _ := GenerateKey("k2")
	ring, err := NewKeyring(k1)
	if err != nil {
		t.Fatal(err)
	}
	c, _ := newTestCodec(t, Config{Keys: ring})
	s := c.New()
	s.Set("user", 1)
	v1 := mustEncode(t, c, s)
	if !strings.HasPrefix(v1, "k1.") {
		t.Fatalf("cookie %q does not start with k1.", v1)
	}

	if err := ring.Rotate(k2); err != nil {
		t.Fatal(err)
	}
	if ring.PrimaryID() != "k2" || !slices.Equal(ring.IDs(), []string{"k2", "k1"}) {
		t.Errorf("after Rotate: PrimaryID %q, IDs %q", ring.PrimaryID(), ring.IDs())
	}
	// The old cookie still opens; resealed, it carries the new key.
	s = mustDecode(t, c, v1)
	if s.KeyID() != "k1" {
		t.Errorf("KeyID = %q, want k1", s.KeyID())
	}
	v2 := mustEncode(t, c, s)
	if !strings.HasPrefix(v2, "k2.") {
		t.Errorf("resealed cookie %q does not start with k2.", v2)
	}
	if got := mustDecode(t, c, v2); got.KeyID() != "k2" || !got.Has("user") {
		t.Errorf("resealed cookie: KeyID %q, keys %v", got.KeyID(), got.Keys())
	}

	// Rotating to the primary again changes nothing.
	if err := ring.Rotate(k2); err != nil {
		t.Errorf("Rotate to the current primary: %v", err)
	}
	if !slices.Equal(ring.IDs(), []string{"k2", "k1"}) {
		t.Errorf("after a repeated Rotate IDs %q", ring.IDs())
	}

	// An existing ID with another secret is refused, and the ring is unchanged.
	impostor, _ := GenerateKey("k1")
	if err := ring.Rotate(impostor); err == nil {
		t.Error("Rotate to an existing ID with another secret succeeded")
	}
	if ring.PrimaryID() != "k2" || !slices.Equal(ring.IDs(), []string{"k2", "k1"}) {
		t.Errorf("a refused Rotate changed the ring: %q", ring.IDs())
	}
	if _, err := c.Decode(v1); err != nil {
		t.Errorf("after a refused Rotate, a k1 cookie: %v", err)
	}
	// So are keys that are not valid at all.
	for _, k := range []Key{{ID: "k3", Secret: make([]byte, MinSecretLen-1)}, {ID: "k.3", Secret: k2.Secret}, {}} {
		if err := ring.Rotate(k); err == nil {
			t.Errorf("Rotate(%q, %d-byte secret) succeeded", k.ID, len(k.Secret))
		}
	}

	// The same ID and secret promotes the old key.
	if err := ring.Rotate(k1); err != nil {
		t.Fatalf("Rotate back to k1: %v", err)
	}
	if ring.PrimaryID() != "k1" || !slices.Equal(ring.IDs(), []string{"k1", "k2"}) {
		t.Errorf("after promoting k1: PrimaryID %q, IDs %q", ring.PrimaryID(), ring.IDs())
	}
	if v := mustEncode(t, c, mustDecode(t, c, v2)); !strings.HasPrefix(v, "k1.") {
		t.Errorf("after promoting k1 the cookie is %q", v)
	}
}

func TestRetire(t *testing.T) {
	k1, _ := GenerateKey("k1")
	k2, _ := GenerateKey("k2")
	ring, _ := NewKeyring(k1)
	c, _ := newTestCodec(t, Config{Keys: ring})
	s := c.New()
	s.Set("user", 1)
	v1 := mustEncode(t, c, s)
	if err := ring.Rotate(k2); err != nil {
		t.Fatal(err)
	}
	v2 := mustEncode(t, c, s)

	if err := ring.Retire("k2"); err == nil {
		t.Error("Retire of the primary succeeded")
	}
	if err := ring.Retire("nope"); err == nil {
		t.Error("Retire of an unknown ID succeeded")
	}
	if !slices.Equal(ring.IDs(), []string{"k2", "k1"}) {
		t.Errorf("refused Retires changed the ring: %q", ring.IDs())
	}
	if err := ring.Retire("k1"); err != nil {
		t.Fatalf("Retire(k1): %v", err)
	}
	if !slices.Equal(ring.IDs(), []string{"k2"}) || ring.PrimaryID() != "k2" {
		t.Errorf("after Retire: PrimaryID %q, IDs %q", ring.PrimaryID(), ring.IDs())
	}
	got, err := c.Decode(v1)
	if !errors.Is(err, ErrUnknownKey) || errors.Is(err, ErrInvalid) || got != nil {
		t.Errorf("cookie of a retired key: %v, %v; want nil, ErrUnknownKey only", got, err)
	}
	if _, err := c.Decode(v2); err != nil {
		t.Errorf("cookie of the primary after Retire: %v", err)
	}
	if err := ring.Retire("k1"); err == nil {
		t.Error("Retire of an already retired key succeeded")
	}
	// Bringing the key back makes its cookies open again.
	if err := ring.Rotate(k1); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Decode(v1); err != nil {
		t.Errorf("cookie of a key brought back: %v", err)
	}
}

func TestDecodeWrongKey(t *testing.T) {
	s := func(c *Codec) string {
		sess := c.New()
		sess.Set("x", 1)
		return mustEncode(t, c, sess)
	}
	server, _ := newTestCodec(t, Config{Keys: newKeyring(t, "k1", "k0")})

	t.Run("never in the ring", func(t *testing.T) {
		other, _ := newTestCodec(t, Config{Keys: newKeyring(t, "zz")})
		_, err := server.Decode(s(other))
		if !errors.Is(err, ErrUnknownKey) {
			t.Errorf("err = %v, want ErrUnknownKey", err)
		}
	})
	t.Run("same ID, other secret", func(t *testing.T) {
		for _, id := range []string{"k1", "k0"} {
			other, _ := newTestCodec(t, Config{Keys: newKeyring(t, id)})
			_, err := server.Decode(s(other))
			if !errors.Is(err, ErrInvalid) || errors.Is(err, ErrUnknownKey) {
				t.Errorf("%s: err = %v, want ErrInvalid", id, err)
			}
		}
	})
	t.Run("relabelled", func(t *testing.T) {
		// The ID picks the one key that is tried: a seal by k0 relabelled
		// k1 does not open, although both keys are in the ring.
		k0, _ := GenerateKey("k0")
		k1, _ := GenerateKey("k1")
		ring, _ := NewKeyring(k1, k0)
		server, _ := newTestCodec(t, Config{Keys: ring})
		only0, _ := NewKeyring(k0)
		w, _ := newTestCodec(t, Config{Keys: only0})
		v := s(w)
		if _, err := server.Decode(v); err != nil {
			t.Fatalf("the k0 cookie itself: %v", err)
		}
		_, err := server.Decode("k1" + strings.TrimPrefix(v, "k0"))
		if !errors.Is(err, ErrInvalid) {
			t.Errorf("err = %v, want ErrInvalid", err)
		}
	})
}

func TestZeroKeyring(t *testing.T) {
	var ring Keyring
	if ring.PrimaryID() != "" || len(ring.IDs()) != 0 {
		t.Errorf("zero Keyring: PrimaryID %q, IDs %q", ring.PrimaryID(), ring.IDs())
	}
	if _, err := NewCodec(Config{Keys: &ring}); err == nil {
		t.Error("NewCodec accepted a zero Keyring")
	}
	if err := ring.Retire("k1"); err == nil {
		t.Error("Retire on a zero Keyring succeeded")
	}
	// Its first Rotate makes it usable.
	k, _ := GenerateKey("k1")
	if err := ring.Rotate(k); err != nil {
		t.Fatal(err)
	}
	c, _ := newTestCodec(t, Config{Keys: &ring})
	s := c.New()
	s.Set("x", 1)
	if got := mustRoundTrip(t, c, s); got.KeyID() != "k1" {
		t.Errorf("KeyID = %q", got.KeyID())
	}
}

func TestNewCodecValidation(t *testing.T) {
	keys := newKeyring(t, "k1")
	bad := map[string]Config{
		"missing Keys":            {},
		"zero Keyring":            {Keys: &Keyring{}},
		"negative MaxAge":         {Keys: keys, MaxAge: -time.Second},
		"MaxAge 1ns":              {Keys: keys, MaxAge: 1},
		"MaxAge 999ms":            {Keys: keys, MaxAge: 999 * time.Millisecond},
		"negative AbsoluteTO":     {Keys: keys, AbsoluteTimeout: -time.Hour},
		"AbsoluteTimeout 500ms":   {Keys: keys, AbsoluteTimeout: 500 * time.Millisecond},
		"negative MaxLength":      {Keys: keys, MaxLength: -1},
		"name with a space":       {Keys: keys, Name: "a b"},
		"name with a semicolon":   {Keys: keys, Name: "a;b"},
		"name with =":             {Keys: keys, Name: "a=b"},
		"name with a comma":       {Keys: keys, Name: "a,b"},
		"name with a quote":       {Keys: keys, Name: `a"b`},
		"name with non-ASCII":     {Keys: keys, Name: "sessión"},
		"name with a control":     {Keys: keys, Name: "a\x01b"},
		"RefreshAfter negative":   {Keys: keys, RefreshAfter: -0.1},
		"RefreshAfter above 1":    {Keys: keys, RefreshAfter: 1.5},
		"__Host- without Secure":  {Keys: keys, Name: "__Host-s", Insecure: true},
		"SameSite None, Insecure": {Keys: keys, SameSite: http.SameSiteNoneMode, Insecure: true},
	}
	for name, cfg := range bad {
		if c, err := NewCodec(cfg); err == nil {
			t.Errorf("%s: NewCodec = %v, want an error", name, c.Name())
		}
	}

	good := map[string]Config{
		"defaults":       {Keys: keys},
		"MaxAge 1s":      {Keys: keys, MaxAge: time.Second},
		"MaxLength 100":  {Keys: keys, MaxLength: 100},
		"token name":     {Keys: keys, Name: "__Host-sid!#$%&'*+-.^_`|~"},
		"RefreshAfter 1": {Keys: keys, RefreshAfter: 1},
	}
	for name, cfg := range good {
		c, err := NewCodec(cfg)
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		want := cfg.Name
		if want == "" {
			want = DefaultHostName // Secure, Path /, no Domain
		}
		if c.Name() != want {
			t.Errorf("%s: Name() = %q, want %q", name, c.Name(), want)
		}
	}
	// Zero fields select the documented defaults.
	c, _ := newTestCodec(t, Config{Keys: keys})
	s := c.New()
	if s.ExpiryAge() != DefaultMaxAge {
		t.Errorf("default ExpiryAge = %v, want %v", s.ExpiryAge(), DefaultMaxAge)
	}
	noise := make([]byte, DefaultMaxLength)
	rand.Read(noise) // incompressible, should compression ever be on
	s.Set("big", noise)
	if _, err := c.Encode(s); !errors.Is(err, ErrTooLarge) {
		t.Errorf("Encode of a %d-byte value: err = %v, want ErrTooLarge", DefaultMaxLength, err)
	}
}

// Rotate and Retire while other goroutines encode and decode: every
// operation sees a consistent ring. Run with -race.
func TestKeyringConcurrentRotation(t *testing.T) {
	base, _ := GenerateKey("base")
	ring, err := NewKeyring(base)
	if err != nil {
		t.Fatal(err)
	}
	c, _ := newTestCodec(t, Config{Keys: ring})
	s := c.New()
	s.Set("x", "base")
	baseCookie := mustEncode(t, c, s) // "base" is never retired

	var stop atomic.Bool
	var wg sync.WaitGroup
	errs := make(chan error, 16)
	const rotations = 200
	wg.Add(1)
	go func() {
		defer wg.Done()
		defer stop.Store(true)
		prev := ""
		for i := range rotations {
			k, err := GenerateKey(fmt.Sprintf("r%d", i))
			if err != nil {
				errs <- err
				return
			}
			if err := ring.Rotate(k); err != nil {
				errs <- fmt.Errorf("Rotate: %w", err)
				return
			}
			if prev != "" {
				if err := ring.Retire(prev); err != nil {
					errs <- fmt.Errorf("Retire(%s): %w", prev, err)
					return
				}
			}
			if ids := ring.IDs(); len(ids) != 2 || ids[0] != k.ID || ids[1] != "base" {
				errs <- fmt.Errorf("after rotation %d IDs = %q", i, ids)
				return
			}
			prev = k.ID
		}
	}()
	var opened atomic.Int64
	for w := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; !stop.Load() || i < 50; i++ {
				s := c.New()
				s.Set("w", w)
				v, err := c.Encode(s)
				if err != nil {
					errs <- err
					return
				}
				id, _, _ := strings.Cut(v, ".")
				if id != "base" && !strings.HasPrefix(id, "r") {
					errs <- fmt.Errorf("cookie sealed with key %q", id)
					return
				}
				switch got, err := c.Decode(v); {
				case err == nil:
					if n, _ := Get[int](got, "w"); n != w || got.KeyID() != id {
						errs <- fmt.Errorf("decoded w=%d KeyID %q from a %q cookie", n, got.KeyID(), id)
						return
					}
					opened.Add(1)
				case !errors.Is(err, ErrUnknownKey): // retired in between: fine
					errs <- fmt.Errorf("Decode: %w", err)
					return
				}
				if _, err := c.Decode(baseCookie); err != nil {
					errs <- fmt.Errorf("Decode of the base cookie: %w", err)
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if opened.Load() == 0 {
		t.Error("no cookie opened during rotation")
	}
	if ring.PrimaryID() != fmt.Sprintf("r%d", rotations-1) {
		t.Errorf("PrimaryID = %q", ring.PrimaryID())
	}
}

func TestRotateRefusesSecretUnderNewID(t *testing.T) {
	k1 := Key{"a", bytes.Repeat([]byte{1}, 32)}
	kr, err := NewKeyring(k1)
	if err != nil {
		t.Fatal(err)
	}
	if err := kr.Rotate(Key{"b", bytes.Repeat([]byte{1}, 32)}); err == nil || !strings.Contains(err.Error(), "same secret") {
		t.Fatalf("Rotate to a new ID with the primary's secret: %v, want a same-secret error", err)
	}
	if kr.PrimaryID() != "a" {
		t.Fatalf("a refused Rotate changed the primary to %q", kr.PrimaryID())
	}
}
