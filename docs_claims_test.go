package cookiesession

// Figures README.md and FORMAT.md state that no other test asserted: each
// test names the sentence it keeps true.

import (
	"context"
	"encoding/binary"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"
)

// TestDocs_CompressShrinksLarge: README ("Large sessions"): with
// Config.Compress, LARGE test sessions shrink by about 64%.
func TestDocs_CompressShrinksLarge(t *testing.T) {
	kr := newKeyring(t, "k1")
	off := lgCodec(t, Config{Keys: kr})
	on := lgCodec(t, Config{Keys: kr, Compress: true})
	s := off.New()
	fillLarge(s) // internal/benchdata's LARGE, the one BENCHMARKS.md measures
	vOff, vOn := mustEncode(t, off, s), mustEncode(t, on, s)
	saved := 1 - float64(len(vOn))/float64(len(vOff))
	t.Logf("LARGE: %d bytes uncompressed, %d compressed: %.1f%% smaller", len(vOff), len(vOn), 100*saved)
	if saved < 0.60 || saved > 0.68 {
		t.Errorf("compression saves %.1f%% of the LARGE cookie; README says about 64%%", 100*saved)
	}
}

// TestDocs_OneCookieCarriesAbout2200Bytes: README ("Large sessions"):
// sealing grows the payload by about 1.8 times, so one 4096-byte cookie
// (the default __Host-session name) carries about 2.2 KB of msgpack.
func TestDocs_OneCookieCarriesAbout2200Bytes(t *testing.T) {
	c, _ := newTestCodec(t, Config{Name: DefaultHostName})
	fits := func(n int) bool {
		s := c.New()
		s.Set("a", strings.Repeat("x", n))
		_, err := c.Encode(s)
		if err != nil && !errors.Is(err, ErrTooLarge) {
			t.Fatal(err)
		}
		return err == nil
	}
	lo, hi := 0, DefaultMaxLength // fits(lo), !fits(hi)
	for hi-lo > 1 {
		if mid := (lo + hi) / 2; fits(mid) {
			lo = mid
		} else {
			hi = mid
		}
	}
	s := c.New()
	s.Set("a", strings.Repeat("x", lo))
	payload := len(lgEnvelope(c, s))
	growth := float64(DefaultMaxLength) / float64(payload)
	t.Logf("the largest payload in one cookie: %d bytes (growth %.2f×)", payload, growth)
	if payload < 2100 || payload > 2300 {
		t.Errorf("one cookie carries %d bytes of payload; README says about 2.2 KB", payload)
	}
	if growth < 1.75 || growth > 1.9 {
		t.Errorf("sealing grows the payload %.2f times; README says about 1.8", growth)
	}
}

// TestDocs_ReadingBackAnInflatedPayload: FORMAT.md §4: reading back a
// value that passed the structural check costs about 120 bytes per payload
// byte for an array of one-entry maps, so a compressed payload of 64 KiB,
// carried by a cookie of a few hundred bytes, takes several megabytes to
// read back (under 8.5 MB), though Decode alone stays within its bound.
func TestDocs_ReadingBackAnInflatedPayload(t *testing.T) {
	c, _ := newTestCodec(t, Config{})
	const maps = 21800 // 0x81 0xa0 0xc0 each: {"": nil}
	value := []byte{0xdd, 0, 0, 0, 0}
	binary.BigEndian.PutUint32(value[1:], maps)
	value = append(value, wfRepeat(maps, 0x81, 0xa0, 0xc0)...)
	env := memEnvelope(c.unixNow(), 1, append(appendString(nil, "a"), value...), 0, nil)
	if len(env) > maxPayload {
		t.Fatalf("control: the envelope is %d bytes, over the %d limit", len(env), maxPayload)
	}
	v := atkSealRaw(t, c, memCompress(t, env))
	if l := len(c.Name()) + 1 + len(v); l > 512 {
		t.Fatalf("control: the cookie is %d bytes; the point is a short one", l)
	}
	readBack := func() {
		s, err := c.Decode(v)
		if err != nil {
			t.Fatal(err)
		}
		got, ok := s.Get("a")
		if l, _ := got.([]any); !ok || len(l) != maps {
			t.Fatalf("Get returned %T, %v", got, ok)
		}
	}
	decoded := atkAllocs(func() {
		if _, err := c.Decode(v); err != nil {
			t.Error(err)
		}
	})
	total := atkAllocs(readBack)
	perByte := float64(total-decoded) / float64(len(env))
	t.Logf("%d-byte cookie, %d-byte payload: Decode %d bytes, Decode+Get %d bytes (Get: %.0f per payload byte)",
		len(v), len(env), decoded, total, perByte)
	if decoded > memCeiling {
		t.Errorf("Decode allocated %d bytes, over its ceiling %d", decoded, memCeiling)
	}
	if perByte < 90 || perByte > 130 {
		t.Errorf("Get allocates %.0f bytes per payload byte; FORMAT.md says about 120", perByte)
	}
	if total > 8_500_000 {
		t.Errorf("reading back allocated %d bytes; FORMAT.md says under 8.5 MB", total)
	}
}

// TestDocs_OnErrorReceivesClockSkew: Config.OnError's doc and README
// ("Errors"): a cookie sealed more than a minute ahead reaches OnError as
// ErrClockSkew, instead of the log, and is still not deleted.
func TestDocs_OnErrorReceivesClockSkew(t *testing.T) {
	kr := newKeyring(t, "k1")
	var got []error
	server, _ := newTestCodec(t, Config{Keys: kr, OnError: func(w http.ResponseWriter, r *http.Request, err error) {
		got = append(got, err)
	}})
	ahead, aheadClk := newTestCodec(t, Config{Keys: kr})
	aheadClk.Advance(2 * time.Minute)
	v := mwSealed(t, ahead, "user", "alice")

	r := pcServe(t, server, nil, "/get?k=user", pcHeader("session", v))
	if r.body != "<none>" || len(r.set) != 0 {
		t.Fatalf("body %q, Set-Cookie %v; want an empty session and no deletion", r.body, r.names())
	}
	if len(got) != 1 || !errors.Is(got[0], ErrClockSkew) {
		t.Fatalf("OnError got %v; want one ErrClockSkew", got)
	}
}

// TestDocs_RevokeSubjectInThePastKeptFromNow: README ("Guard", Limits) and
// RevokeSubject's doc: without AbsoluteTimeout the record is kept MaxAge
// past at, or past now when at is earlier, since a session created before
// at may have been resealed until now.
func TestDocs_RevokeSubjectInThePastKeptFromNow(t *testing.T) {
	e, mem := newGuardEnv(t, Config{Subject: func(s *Session) string { return GetOr(s, "user", "") }, MaxAge: time.Hour})
	v := sessionCookie(t, e.send(t, "/login?user=alice", ""))
	e.clk.Advance(30 * time.Minute)
	if err := e.c.RevokeSubject(context.Background(), "alice", e.clk.Now().Add(-10*time.Minute)); err != nil {
		t.Fatal(err)
	}
	atkWantRejected(t, e.send(t, "/", "session="+v), "session")
	e.clk.Advance(time.Hour + maxClockSkew*time.Second - time.Second)
	if mem.Len() != 1 {
		t.Fatal("revocation forgotten before MaxAge (+ skew) past now")
	}
	e.clk.Advance(time.Second)
	if mem.Len() != 0 {
		t.Fatal("revocation kept past MaxAge (+ skew) from now")
	}
}

// TestDocs_OneCookieReaderAndAChunkedSet: FORMAT.md §6: with MaxCookies = 1
// a reader ignores every NAME.k cookie, and a first cookie with a
// well-formed count is ErrTooLarge (a malformed one is ErrInvalid).
func TestDocs_OneCookieReaderAndAChunkedSet(t *testing.T) {
	kr := newKeyring(t, "k1")
	writer := lgCodec(t, Config{Keys: kr, MaxCookies: 4})
	reader := lgCodec(t, Config{Keys: kr})
	s := writer.New()
	s.Set("blob", lgBlob(1, 5000))
	set := lgSetCookies(lgMustCookies(t, writer, s))
	if len(set) < 2 {
		t.Fatalf("control: the session takes %d cookies, want several", len(set))
	}
	if got, err := reader.DecodeCookies(set); got != nil || !errors.Is(err, ErrTooLarge) || errors.Is(err, ErrInvalid) {
		t.Fatalf("the chunked set to a one-cookie reader: %v, %v; want ErrTooLarge", got, err)
	}
	colon := strings.IndexByte(set[0].Value, ':')
	malformed := []*http.Cookie{{Name: set[0].Name, Value: strings.Repeat("x", colon) + set[0].Value[colon:]}}
	if got, err := reader.DecodeCookies(malformed); got != nil || !errors.Is(err, ErrInvalid) {
		t.Fatalf("a malformed count to a one-cookie reader: %v, %v; want ErrInvalid", got, err)
	}
	small := reader.New()
	small.Set("user", "ada")
	v := mustEncode(t, reader, small)
	got, err := reader.DecodeCookies([]*http.Cookie{{Name: "session", Value: v}, {Name: "session.1", Value: "junk"}})
	if err != nil || GetOr(got, "user", "") != "ada" {
		t.Fatalf("an unchunked cookie next to a stray session.1: %v; want it opened, the chunk ignored", err)
	}
}
