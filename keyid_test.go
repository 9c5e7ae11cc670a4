package cookiesession

// Wire format v2 binds the key ID into the keys (FORMAT.md §1): a cookie
// relabelled with another key ID never opens, even in a separately
// configured keyring holding the same secret. Cookies sealed in format v1
// still open (and Middleware reseals them as v2) unless Config.RejectV1.
// The v1 cookies here come from wfSealV1, securecookie's algorithm with the
// v1 keys written out in the tests, never from the library.

import (
	"bytes"
	"compress/flate"
	"crypto/rand"
	"errors"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"

	"github.com/gorilla/securecookie"
)

// wfDeriveV1 derives k's format v1 keys, which ignore its ID.
func wfDeriveV1(k Key) (hashKey, blockKey []byte) {
	return wfHKDF(k.Secret, "cookiesession/v1 hmac-sha256"), wfHKDF(k.Secret, "cookiesession/v1 aes-256")
}

// wfV1Payload is the format v1 envelope of the same session as the v2
// envelope p: the two differ only in the version field.
func wfV1Payload(tb testing.TB, p []byte) []byte {
	tb.Helper()
	if len(p) < 2 || p[0] != 0x9a || p[1] != 0x02 {
		tb.Fatalf("not a version 2 envelope: % x", p[:min(len(p), 2)])
	}
	q := bytes.Clone(p)
	q[1] = 0x01
	return q
}

// wfSealV1 seals payload as format v1 did: securecookie's value under the
// v1 keys, after k's ID.
func wfSealV1(k Key, name string, ts int64, iv, payload []byte) string {
	hashKey, blockKey := wfDeriveV1(k)
	return k.ID + "." + wfRefSeal(hashKey, blockKey, name, ts, iv, payload)
}

func wfRandIV(tb testing.TB) []byte {
	iv := make([]byte, 16)
	if _, err := rand.Read(iv); err != nil {
		tb.Fatal(err)
	}
	return iv
}

// wfV1Cookie returns a format v1 cookie of a session holding user=ann,
// sealed by key k for codec c at c's clock, and the session.
func wfV1Cookie(tb testing.TB, c *Codec, k Key) (string, *Session) {
	tb.Helper()
	s := c.New()
	s.Set("user", "ann")
	s.AddFlash("hello")
	return wfSealV1(k, c.Name(), c.unixNow(), wfRandIV(tb), wfV1Payload(tb, wfPayload(tb, c, s))), s
}

// TestKeyIDBoundIntoKeys: two keyrings configured apart with one secret
// under the IDs "a" and "b". A cookie sealed by either, relabelled with the
// other's ID, is ErrInvalid; as sealed, it opens.
func TestKeyIDBoundIntoKeys(t *testing.T) {
	secret := bytes.Repeat([]byte{0x5a}, MinSecretLen)
	ca := wfCodec(t, "session", Config{Keys: wfKeyring(t, Key{ID: "a", Secret: secret})})
	cb := wfCodec(t, "session", Config{Keys: wfKeyring(t, Key{ID: "b", Secret: secret})})
	for _, tc := range []struct {
		from, to *Codec
		id       string
	}{{ca, cb, "b"}, {cb, ca, "a"}} {
		s := tc.from.New()
		s.Set("user", "ann")
		v := mustEncode(t, tc.from, s)
		if _, err := tc.from.Decode(v); err != nil {
			t.Fatalf("as sealed: %v", err)
		}
		_, rest, _ := strings.Cut(v, ".")
		if o, err := tc.to.Decode(tc.id + "." + rest); o != nil || !errors.Is(err, ErrInvalid) {
			t.Errorf("relabelled %s.: %v, %v; want ErrInvalid", tc.id, o, err)
		}
	}
}

// TestV1CookieOpens: a v1 cookie opens to the session it was sealed from,
// compressed (v1 deflated the whole envelope) or not, and is marked as
// legacy; with RejectV1 it is ErrInvalid.
func TestV1CookieOpens(t *testing.T) {
	k := wfKey("k1")
	c := wfCodec(t, "session", Config{Keys: wfKeyring(t, k)})
	strict := wfCodec(t, "session", Config{Keys: wfKeyring(t, k), RejectV1: true})
	v, s := wfV1Cookie(t, c, k)
	want, err := c.Decode(mustEncode(t, c, s))
	if err != nil {
		t.Fatal(err)
	}
	var z bytes.Buffer
	z.WriteByte(compressedMarker)
	w, _ := flate.NewWriter(&z, flate.BestCompression)
	w.Write(wfV1Payload(t, wfPayload(t, c, s)))
	w.Close()
	compressed := wfSealV1(k, c.Name(), c.unixNow(), wfRandIV(t), z.Bytes())

	for name, v := range map[string]string{"plain": v, "compressed": compressed} {
		got, err := c.Decode(v)
		if err != nil {
			t.Fatalf("%s v1 cookie: %v", name, err)
		}
		wfSameSession(t, got, want)
		if !got.legacy || got.KeyID() != "k1" {
			t.Errorf("%s v1 cookie: legacy %v, key %q", name, got.legacy, got.KeyID())
		}
		if o, err := strict.Decode(v); o != nil || !errors.Is(err, ErrInvalid) {
			t.Errorf("%s v1 cookie with RejectV1: %v, %v; want ErrInvalid", name, o, err)
		}
	}
	if want.legacy {
		t.Error("a v2 cookie is marked legacy")
	}
}

// TestV1AndV2DoNotMix: an envelope of version 1 opens only under the v1
// keys, one of version 2 only under the v2 keys, compressed or not.
func TestV1AndV2DoNotMix(t *testing.T) {
	k := wfKey("k1")
	c := wfCodec(t, "session", Config{Keys: wfKeyring(t, k)})
	s := c.New()
	s.Set("user", "ann")
	v2 := wfPayload(t, c, s)
	v1 := wfV1Payload(t, v2)
	hashKey, blockKey := wfDerive(k)
	for name, v := range map[string]string{
		"version 1 envelope under v2 keys":            "k1." + wfRefSeal(hashKey, blockKey, c.Name(), wfNow, wfRandIV(t), v1),
		"version 1 envelope compressed under v2 keys": "k1." + wfRefSeal(hashKey, blockKey, c.Name(), wfNow, wfRandIV(t), wfDeflate(v1)),
		"version 2 envelope under v1 keys":            wfSealV1(k, c.Name(), wfNow, wfRandIV(t), v2),
		"version 2 envelope compressed under v1 keys": wfSealV1(k, c.Name(), wfNow, wfRandIV(t), wfDeflate(v2)),
	} {
		if o, err := c.Decode(v); o != nil || !errors.Is(err, ErrInvalid) {
			t.Errorf("%s: %v, %v; want ErrInvalid", name, o, err)
		}
	}
	// A server on version 1 holds only the v1 keys: a v2 cookie fails
	// their MAC (README: switch every server at once).
	h1, b1 := wfDeriveV1(k)
	_, sealed, _ := strings.Cut(mustEncode(t, c, s), ".")
	var got []byte
	if err := securecookie.New(h1, b1).SetSerializer(securecookie.NopEncoder{}).MaxAge(0).Decode(c.Name(), sealed, &got); err == nil {
		t.Error("a v2 cookie opens under the v1 keys")
	}
	// The same framings with matching versions open, so the refusals
	// above are the versions' doing.
	for name, v := range map[string]string{
		"version 2 envelope under v2 keys":            "k1." + wfRefSeal(hashKey, blockKey, c.Name(), wfNow, wfRandIV(t), v2),
		"version 2 envelope compressed under v2 keys": "k1." + wfRefSeal(hashKey, blockKey, c.Name(), wfNow, wfRandIV(t), wfDeflate(v2)),
		"version 1 envelope under v1 keys":            wfSealV1(k, c.Name(), wfNow, wfRandIV(t), v1),
	} {
		if _, err := c.Decode(v); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
}

// TestV1RelabelNeedsRejectV1: format v1 bound no key ID, so until
// RejectV1 a v1 cookie relabelled for a keyring holding its secret under
// another ID opens there (FORMAT.md §1 says so); RejectV1 closes that.
func TestV1RelabelNeedsRejectV1(t *testing.T) {
	secret := bytes.Repeat([]byte{0xa5}, MinSecretLen)
	ka, kb := Key{ID: "a", Secret: secret}, Key{ID: "b", Secret: secret}
	ca := wfCodec(t, "session", Config{Keys: wfKeyring(t, ka)})
	v, _ := wfV1Cookie(t, ca, ka)
	_, rest, _ := strings.Cut(v, ".")
	if _, err := wfCodec(t, "session", Config{Keys: wfKeyring(t, kb)}).Decode("b." + rest); err != nil {
		t.Fatalf("relabelled v1 cookie without RejectV1: %v (FORMAT.md says it opens)", err)
	}
	strict := wfCodec(t, "session", Config{Keys: wfKeyring(t, kb), RejectV1: true})
	if o, err := strict.Decode("b." + rest); o != nil || !errors.Is(err, ErrInvalid) {
		t.Errorf("relabelled v1 cookie with RejectV1: %v, %v; want ErrInvalid", o, err)
	}
}

// TestMiddleware_ResealsV1Cookie: the first request with a v1 cookie sees
// its session and gets it back sealed as v2, though the handler changed
// nothing; the next request, with the v2 cookie, gets no Set-Cookie. With
// RejectV1 the v1 cookie opens nothing and is deleted.
func TestMiddleware_ResealsV1Cookie(t *testing.T) {
	k := wfKey("k1")
	c, _, lg := mwNew(t, Config{Insecure: true, Keys: wfKeyring(t, k)})
	v, _ := wfV1Cookie(t, c, k)
	e := mwStart(t, c.Middleware(mwApp()), false)
	r := e.get(t, "/get?k=user", c.Name()+"="+v)
	if r.body != "ann" {
		t.Fatalf("user=%q from the v1 cookie", r.body)
	}
	ck, _ := mwOneCookie(t, r.Response, c.Name())
	strict, _ := newTestCodec(t, Config{Keys: wfKeyring(t, k), RejectV1: true, Now: c.now})
	s, err := strict.Decode(ck.Value)
	if err != nil {
		t.Fatalf("the resealed cookie is not v2: %v", err)
	}
	if s.legacy || GetOr(s, "user", "") != "ann" {
		t.Errorf("resealed session: legacy %v, user %q", s.legacy, GetOr(s, "user", ""))
	}
	r = e.get(t, "/get?k=user", c.Name()+"="+ck.Value)
	if r.body != "ann" {
		t.Fatalf("user=%q from the resealed cookie", r.body)
	}
	mwNoCookie(t, r.Response, c.Name())
	if s := lg.String(); s != "" {
		t.Errorf("unexpected log: %q", s)
	}

	cs, _, _ := mwNew(t, Config{Insecure: true, Keys: wfKeyring(t, k), RejectV1: true})
	es := mwStart(t, cs.Middleware(mwApp()), false)
	v, _ = wfV1Cookie(t, cs, k)
	r = es.get(t, "/get?k=user", cs.Name()+"="+v)
	if r.body != "<none>" {
		t.Errorf("user=%q from a v1 cookie with RejectV1", r.body)
	}
	del, raw := mwOneCookie(t, r.Response, cs.Name())
	mwDeletion(t, del, raw)
}

// TestFormatVersion: FormatVersion tells a v1 cookie, which Middleware
// reseals, from a v2 one and from a session not opened from a cookie.
func TestFormatVersion(t *testing.T) {
	k := wfKey("k1")
	c := wfCodec(t, "session", Config{Keys: wfKeyring(t, k)})
	v1, s := wfV1Cookie(t, c, k)
	if got := s.FormatVersion(); got != 0 {
		t.Errorf("new session: FormatVersion %d, want 0", got)
	}
	legacy, err := c.Decode(v1)
	if err != nil {
		t.Fatal(err)
	}
	if got := legacy.FormatVersion(); got != 1 {
		t.Errorf("v1 cookie: FormatVersion %d, want 1", got)
	}
	if legacy.Renew(); legacy.FormatVersion() != 1 {
		t.Error("Renew changed what the cookie was sealed in")
	}
	current, err := c.Decode(mustEncode(t, c, legacy))
	if err != nil {
		t.Fatal(err)
	}
	if got := current.FormatVersion(); got != 2 {
		t.Errorf("resealed cookie: FormatVersion %d, want 2", got)
	}
	if current.Flush(); current.FormatVersion() != 0 {
		t.Errorf("flushed session: FormatVersion %d, want 0", current.FormatVersion())
	}

	// Through the middleware: the handler sees 1, and the response's
	// cookie opens as 2.
	mc, _, _ := mwNew(t, Config{Insecure: true, Keys: wfKeyring(t, k)})
	v1, _ = wfV1Cookie(t, mc, k)
	var seen []int
	h := mc.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		seen = append(seen, FromContext(r.Context()).FormatVersion())
	}))
	rec := httptest.NewRecorder()
	req := httptest.NewRequest("GET", "/", nil)
	req.Header.Set("Cookie", mc.Name()+"="+v1)
	h.ServeHTTP(rec, req)
	ck, _ := mwOneCookie(t, rec.Result(), mc.Name())
	req = httptest.NewRequest("GET", "/", nil)
	req.Header.Set("Cookie", mc.Name()+"="+ck.Value)
	h.ServeHTTP(httptest.NewRecorder(), req)
	if !reflect.DeepEqual(seen, []int{1, 2}) {
		t.Errorf("FormatVersion in the handler: %v, want [1 2]", seen)
	}
}
