package cookiesession

import (
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

// headerWriter is a ResponseWriter whose header map is reused between
// requests, so that allocation counts show the middleware's own.
type headerWriter struct{ h http.Header }

func (w *headerWriter) Header() http.Header         { return w.h }
func (w *headerWriter) Write(p []byte) (int, error) { return len(p), nil }
func (w *headerWriter) WriteHeader(int)             {}

var allocTestValue any = int64(1700000000) // boxed once, as a handler's value would be

// TestMiddlewareAllocations pins the middleware's allocations: an
// untouched request costs the writer (which holds the session, its context
// and the header values) and the request copy r.WithContext makes, nothing
// else; a session read and changed costs those two, the storage the opened
// session keeps (block.go) and its Set-Cookie line, which the sealed value
// is written into: four in all. The same work through Load and
// CommitResponse costs four too: the session, its storage, the storage for
// the header values and the Set-Cookie line.
func TestMiddlewareAllocations(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector empties sync.Pool at random; CI runs this test without -race too")
	}
	c, _ := newTestCodec(t, Config{Name: "s"})
	s := c.New()
	s.Set("user", "ada")
	req := httptest.NewRequest(http.MethodGet, "/", nil)
	req.Header.Set("Cookie", "s="+mustEncode(t, c, s))
	w := &headerWriter{h: http.Header{}}

	untouched := c.Middleware(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	if n := testing.AllocsPerRun(200, func() {
		clear(w.h)
		untouched.ServeHTTP(w, req)
	}); n > 2 {
		t.Errorf("untouched request: %v allocations, want at most 2 (writer, request copy)", n)
	}

	work := func(s *Session) {
		if v, ok := Get[string](s, "user"); !ok || v != "ada" {
			t.Fatalf("user = %q, %v", v, ok)
		}
		s.Set("n", allocTestValue)
	}
	changed := c.Middleware(http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) {
		work(FromContext(r.Context()))
	}))
	mw := testing.AllocsPerRun(200, func() {
		clear(w.h)
		changed.ServeHTTP(w, req)
	})
	if len(w.h["Set-Cookie"]) != 1 || w.h.Get("Vary") != "Cookie" || w.h.Get("Cache-Control") != "no-store" {
		t.Fatalf("middleware response headers: %v", w.h)
	}
	viaCommit := testing.AllocsPerRun(200, func() {
		clear(w.h)
		s := c.Load(req.Context(), req.Header["Cookie"]...)
		work(s)
		c.CommitResponse(w, req, s, http.StatusOK)
	})
	if len(w.h["Set-Cookie"]) != 1 {
		t.Fatalf("CommitResponse headers: %v", w.h)
	}
	if mw != 4 || viaCommit != 4 {
		t.Errorf("changed session: middleware %v allocations, want 4 (writer, request copy, session storage, Set-Cookie line); Load+CommitResponse %v, want 4 (session, its storage, header values, Set-Cookie line)",
			mw, viaCommit)
	}
}

// TestMiddlewareHeaderValuesPerResponse shows that the header values the
// middleware and CommitResponse add without a slice each belong to their
// response: rewriting one in place, or appending to it, changes nothing in
// another response or in another header of the same one.
func TestMiddlewareHeaderValuesPerResponse(t *testing.T) {
	c, _ := newTestCodec(t, Config{Name: "s"})
	handlers := map[string]http.Handler{
		"Middleware": c.Middleware(http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) {
			FromContext(r.Context()).Set("user", "ada")
		})),
		"CommitResponse": http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			s := c.Load(r.Context(), r.Header["Cookie"]...)
			s.Set("user", "ada")
			c.CommitResponse(w, r, s, http.StatusOK)
		}),
	}
	for name, h := range handlers {
		t.Run(name, func(t *testing.T) {
			serve := func() http.Header {
				w := httptest.NewRecorder()
				h.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/", nil))
				return w.Header()
			}
			first := serve()
			for _, name := range []string{"Vary", "Cache-Control", "Set-Cookie"} {
				if v := first[name]; len(v) != 1 || cap(v) != 1 {
					t.Fatalf("%s = %q with cap %d, want one value with cap 1", name, v, cap(v))
				}
			}
			cookie := first["Set-Cookie"][0]
			first["Vary"] = append(first["Vary"], "Accept-Encoding")
			first["Cache-Control"] = append(first["Cache-Control"], "private")
			if first.Get("Cache-Control") != "no-store" || first.Get("Set-Cookie") != cookie {
				t.Fatalf("appending to Vary and Cache-Control changed the other headers: %v", first)
			}
			first["Vary"][0], first["Cache-Control"][0], first["Set-Cookie"][0] = "Accept", "public", "x=y"

			second := serve()
			if second.Get("Vary") != "Cookie" || second.Get("Cache-Control") != "no-store" {
				t.Fatalf("second response after the first's headers were rewritten: %v", second)
			}
			if v := second.Get("Set-Cookie"); len(v) < 2 || v[:2] != "s=" {
				t.Fatalf("second response's Set-Cookie = %q", v)
			}
		})
	}
}

// TestMiddlewareClockReads: a request that opens its session, reads it and
// changes it reads the clock twice, whether or not it carried a cookie:
// once to open, once to seal. The seal is at the time the response
// commits, so a handler that runs for longer than the idle window still
// sends a cookie that opens (sealing at the time the session was opened
// would send one already expired).
func TestMiddlewareClockReads(t *testing.T) {
	clk := newTestClock()
	var reads int
	c, _ := newTestCodec(t, Config{Name: "s", MaxAge: 2 * time.Minute, Now: func() time.Time { reads++; return clk.Now() }})
	h := c.Middleware(http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) {
		s := FromContext(r.Context())
		_, _ = Get[string](s, "user")
		clk.Advance(3 * time.Minute) // a slow handler, past MaxAge
		s.Set("user", "ada")
	}))
	old := c.New()
	old.Set("user", "ada")
	cookie := mustEncode(t, c, old)
	for _, header := range []string{"s=" + cookie, ""} {
		clk.Set(testStart)
		reads = 0
		req := httptest.NewRequest(http.MethodGet, "/", nil)
		if header != "" {
			req.Header.Set("Cookie", header)
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		if reads != 2 {
			t.Errorf("cookie %v: the clock was read %d times, want 2", header != "", reads)
		}
		cks := w.Result().Cookies()
		if len(cks) != 1 {
			t.Fatalf("cookie %v: response cookies %v", header != "", cks)
		}
		s, err := c.Decode(cks[0].Value)
		if err != nil {
			t.Fatalf("cookie %v: the cookie just sent does not open: %v", header != "", err)
		}
		if want := clk.Now().Unix(); s.sealed != want {
			t.Errorf("cookie %v: sealed at %d, want the commit's time %d", header != "", s.sealed, want)
		}
	}
}
