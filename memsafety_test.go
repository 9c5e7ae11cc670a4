package cookiesession

import (
	"bytes"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
)

// These tests hold values read from a session across everything that later
// writes to it: strings Get returns alias the opened plaintext (block.go,
// state.arena), so a write that reached those bytes would change a value
// the caller already holds.

// smallSession returns a sealed session small enough to open into a block
// with arena room, holding "name" and "other".
func smallSession(t *testing.T, c *Codec) string {
	t.Helper()
	s := c.New()
	s.Set("name", "alice")
	s.Set("other", "bob")
	s.AddFlash("hello")
	return mustEncode(t, c, s)
}

func TestMemGetStringSurvivesWrites(t *testing.T) {
	c, _ := newTestCodec(t, Config{})
	v := smallSession(t, c)
	writes := map[string]func(s *Session){
		"set others": func(s *Session) {
			for i := range 40 { // first into the arena, then past it
				s.Set(fmt.Sprintf("k%02d", i), strings.Repeat("x", i))
			}
		},
		"set same key": func(s *Session) {
			for i := range 10 {
				s.Set("name", strings.Repeat("Z", i+1))
			}
		},
		"delete and set": func(s *Session) {
			s.Delete("name")
			s.Set("name", "mallory")
		},
		"pop":        func(s *Session) { s.Pop("name"); s.Set("zz", "ZZZZZ") },
		"setdefault": func(s *Session) { s.SetDefault("new", "ZZZZZ"); s.SetDefault("name", "ZZZZZ") },
		"clear":      func(s *Session) { s.Clear(); s.Set("name", "ZZZZZ"); s.Set("a", "YYYYY") },
		"flush":      func(s *Session) { s.Flush(); s.Set("name", "ZZZZZ") },
		"renew":      func(s *Session) { s.Renew(); s.Set("name", "ZZZZZ") },
		"flashes":    func(s *Session) { s.Flashes(); s.AddFlash("ZZZZZ") },
		"encode": func(s *Session) {
			s.Set("name", "ZZZZZ")
			if _, err := c.Encode(s); err != nil {
				t.Fatalf("Encode: %v", err)
			}
		},
	}
	for name, write := range writes {
		t.Run(name, func(t *testing.T) {
			s := mustDecode(t, c, v)
			typed, _ := Get[string](s, "name")
			untyped, _ := s.Get("name")
			other, _ := Get[string](s, "other")
			keys := s.Keys()
			write(s)
			if typed != "alice" || untyped != "alice" || other != "bob" {
				t.Fatalf("after %s, earlier Gets read %q, %v, %q; want alice, alice, bob", name, typed, untyped, other)
			}
			if strings.Join(keys, ",") != "name,other" {
				t.Fatalf("after %s, earlier Keys reads %v", name, keys)
			}
		})
	}
}

func TestMemFlashStringSurvivesWrites(t *testing.T) {
	c, _ := newTestCodec(t, Config{})
	s := mustDecode(t, c, smallSession(t, c))
	got := Flashes[string](s)
	for i := range 20 {
		s.AddFlash(strings.Repeat("Z", 5))
		s.Set(fmt.Sprint(i), "ZZZZZ")
	}
	mustEncode(t, c, s)
	if len(got) != 1 || got[0] != "hello" {
		t.Fatalf("flash read earlier is now %q", got)
	}
}

// TestMemBytesNotShared mutates every []byte that crosses the API, in both
// directions, and checks the session and its sealed form do not change.
func TestMemBytesNotShared(t *testing.T) {
	c, _ := newTestCodec(t, Config{})
	in := []byte{1, 2, 3}
	s := c.New()
	s.Set("b", in)
	s.Set("m", map[string]any{"k": []byte{4, 5}})
	in[0] = 99 // the caller's slice, after Set
	check := func(s *Session, when string) {
		t.Helper()
		b, _ := Get[[]byte](s, "b")
		if !bytes.Equal(b, []byte{1, 2, 3}) {
			t.Fatalf("%s: b reads %v", when, b)
		}
		m, _ := Get[map[string]any](s, "m")
		if k, _ := m["k"].([]byte); !bytes.Equal(k, []byte{4, 5}) {
			t.Fatalf("%s: m reads %v", when, m)
		}
	}
	mutate := func(s *Session) {
		b, _ := Get[[]byte](s, "b")
		b[0] = 77
		u, _ := s.Get("b")
		u.([]byte)[1] = 77
		m, _ := s.Get("m")
		m.(map[string]any)["k"].([]byte)[0] = 77
		m.(map[string]any)["new"] = 1
	}
	check(s, "after Set")
	mutate(s)
	check(s, "new session, after mutating reads")

	v := mustEncode(t, c, s)
	d := mustDecode(t, c, v)
	mutate(d)
	check(d, "decoded, after mutating reads")
	d.Set("x", "y") // reseal from d's entries
	check(mustDecode(t, c, mustEncode(t, c, d)), "resealed")
	check(mustDecode(t, c, v), "second Decode of the same value")
}

// TestMemConcurrentSession uses one decoded Session from several goroutines;
// run with -race. Each goroutine's own key must read what it last set.
func TestMemConcurrentSession(t *testing.T) {
	c, _ := newTestCodec(t, Config{})
	s := mustDecode(t, c, smallSession(t, c))
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			key := fmt.Sprint("g", g)
			for i := range 50 {
				want := fmt.Sprint(g, "-", i)
				s.Set(key, want)
				if got, _ := Get[string](s, key); got != want {
					t.Errorf("%s reads %q, want %q", key, got, want)
					return
				}
				if got, _ := Get[string](s, "name"); got != "alice" {
					t.Errorf("name reads %q", got)
					return
				}
				s.Keys()
				s.AddFlash(i)
				s.Flashes()
				if _, err := c.Encode(s); err != nil {
					t.Errorf("Encode: %v", err)
					return
				}
			}
		}()
	}
	wg.Wait()
}

// TestMemMiddlewareValuesOutliveRequest keeps strings read in one request
// and checks them after later requests (same cookie, other writes) ran.
func TestMemMiddlewareValuesOutliveRequest(t *testing.T) {
	c, _ := newTestCodec(t, Config{})
	var kept []string
	h := c.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s := FromContext(r.Context())
		v, _ := Get[string](s, "name")
		kept = append(kept, v)
		for i := range 10 {
			s.Set(fmt.Sprint("k", i), "ZZZZZZZZ")
		}
		s.Set("name", "ZZZZZ")
	}))
	cookie := (&http.Cookie{Name: c.name, Value: smallSession(t, c)}).String()
	for range 5 {
		req := httptest.NewRequest("GET", "https://example.com/", nil)
		req.Header.Set("Cookie", cookie)
		h.ServeHTTP(httptest.NewRecorder(), req)
	}
	for i, v := range kept {
		if v != "alice" {
			t.Fatalf("value read in request %d now reads %q", i, v)
		}
	}
}

// TestMemVerifyReadSurvivesWrites: Config.Verify sees a copy of the opened
// state (Codec.revoked); a string it reads must not change when the
// session it hands back is written to.
func TestMemVerifyReadSurvivesWrites(t *testing.T) {
	var seen string
	c, _ := newTestCodec(t, Config{Verify: func(s *Session) error {
		seen, _ = Get[string](s, "name")
		return nil
	}})
	s := mustDecode(t, c, smallSession(t, c))
	for i := range 20 {
		s.Set(fmt.Sprint(i), "ZZZZZ")
	}
	s.Clear()
	s.Set("name", "ZZZZZ")
	mustEncode(t, c, s)
	if seen != "alice" {
		t.Fatalf("string Verify read is now %q", seen)
	}
}

// TestMemVerifyRejectedCandidateKeepsItsStrings: when Config.Verify refuses
// the first of two cookies sent, a string it read from that one must not
// change when the second opens: each candidate opens into storage of its
// own.
func TestMemVerifyRejectedCandidateKeepsItsStrings(t *testing.T) {
	var seen []string
	c, _ := newTestCodec(t, Config{Name: "s", Verify: func(s *Session) error {
		name, _ := Get[string](s, "name")
		seen = append(seen, name)
		if name == "mallory" {
			return errors.New("refused")
		}
		return nil
	}})
	sealed := func(name string) string {
		s := c.New()
		s.Set("name", name)
		return mustEncode(t, c, s)
	}
	var got string
	h := c.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got, _ = Get[string](FromContext(r.Context()), "name")
	}))
	req := httptest.NewRequest("GET", "https://example.com/", nil)
	req.Header.Set("Cookie", "s="+sealed("mallory")+"; s="+sealed("alice"))
	h.ServeHTTP(httptest.NewRecorder(), req)
	if got != "alice" || len(seen) != 2 || seen[0] != "mallory" || seen[1] != "alice" {
		t.Fatalf("handler read %q; Verify read %q, want [mallory alice]", got, seen)
	}
}
