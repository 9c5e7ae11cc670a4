package cookiesession

import (
	"encoding/base64"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
)

// csrfApp is a handler behind Middleware and CSRF: GET /token answers a
// CSRF token, GET /renew and GET /flush change the session's ID, and any
// POST answers "ok".
func csrfApp(t *testing.T) (*Codec, http.Handler) {
	t.Helper()
	c, _ := newTestCodec(t, Config{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	mux := http.NewServeMux()
	mux.HandleFunc("GET /token", func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, FromContext(r.Context()).CSRFToken())
	})
	mux.HandleFunc("GET /renew", func(w http.ResponseWriter, r *http.Request) { FromContext(r.Context()).Renew() })
	mux.HandleFunc("GET /flush", func(w http.ResponseWriter, r *http.Request) { FromContext(r.Context()).Flush() })
	mux.HandleFunc("GET /clear", func(w http.ResponseWriter, r *http.Request) { FromContext(r.Context()).Clear() })
	mux.HandleFunc("GET /plain", func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "plain") })
	mux.HandleFunc("/submit", func(w http.ResponseWriter, r *http.Request) {
		FromContext(r.Context()).Set("posted", r.PostFormValue("v"))
		io.WriteString(w, "ok")
	})
	return c, c.Middleware(c.CSRF(mux))
}

// csrfClient is one browser: it keeps the session cookie between requests.
type csrfClient struct {
	t      *testing.T
	h      http.Handler
	cookie string // "session=..." or ""
}

// do sends a request; form, if not nil, is the urlencoded body.
func (b *csrfClient) do(method, target string, form url.Values, header map[string]string) *httptest.ResponseRecorder {
	b.t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req := httptest.NewRequest(method, target, body)
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	if b.cookie != "" {
		req.Header.Set("Cookie", b.cookie)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	rec := httptest.NewRecorder()
	b.h.ServeHTTP(rec, req)
	for _, sc := range rec.Result().Cookies() {
		if sc.Name == "session" {
			b.cookie = "session=" + sc.Value
			if sc.MaxAge < 0 {
				b.cookie = ""
			}
		}
	}
	return rec
}

func (b *csrfClient) token() string {
	b.t.Helper()
	rec := b.do("GET", "/token", nil, nil)
	if rec.Code != http.StatusOK || rec.Body.Len() == 0 {
		b.t.Fatalf("GET /token: %d %q", rec.Code, rec.Body)
	}
	return rec.Body.String()
}

// post submits the form with the token in the form field (or nowhere if
// token is "") and returns the status.
func (b *csrfClient) post(token string, header map[string]string) int {
	b.t.Helper()
	form := url.Values{"v": {"x"}}
	if token != "" {
		form.Set(CSRFField, token)
	}
	return b.do("POST", "/submit", form, header).Code
}

func TestCSRFMissingWrongRight(t *testing.T) {
	_, h := csrfApp(t)
	b := &csrfClient{t: t, h: h}
	tok := b.token()
	if len(tok) != 86 {
		t.Errorf("token %q is %d characters, want 86 (64 bytes, base64url)", tok, len(tok))
	}

	rec := b.do("POST", "/submit", url.Values{"v": {"x"}}, nil)
	if rec.Code != http.StatusForbidden || !strings.Contains(rec.Body.String(), "CSRF") {
		t.Errorf("no token: %d %q, want 403 naming CSRF", rec.Code, rec.Body)
	}
	flipped := []byte(tok)
	flipped[40] ^= 'A' ^ 'B' // still base64url, one byte of the mask changed
	if flipped[40] == tok[40] {
		flipped[40] = 'C'
	}
	other := base64.RawURLEncoding.EncodeToString(make([]byte, 64))
	for name, bad := range map[string]string{
		"wrong":            other,
		"one byte changed": string(flipped),
		"short":            tok[:85],
		"long":             tok + "A",
		"huge":             strings.Repeat(tok, 100),
		"not base64":       strings.Repeat("*", 86),
		"padded":           base64.URLEncoding.EncodeToString(make([]byte, 64)),
	} {
		if code := b.post(bad, nil); code != http.StatusForbidden {
			t.Errorf("%s token: %d, want 403", name, code)
		}
	}
	// Only the query string: refused, tokens do not belong in URLs.
	if code := b.do("POST", "/submit?"+CSRFField+"="+tok, url.Values{"v": {"x"}}, nil).Code; code != http.StatusForbidden {
		t.Errorf("token in the URL only: %d, want 403", code)
	}

	if code := b.post(tok, nil); code != http.StatusOK {
		t.Errorf("right token in the form: %d, want 200", code)
	}
	if code := b.post("", map[string]string{CSRFHeader: tok}); code != http.StatusOK {
		t.Errorf("right token in the header: %d, want 200", code)
	}
	// The handler still reads the form CheckCSRF parsed.
	if rec := b.do("PUT", "/submit", url.Values{"v": {"x"}, CSRFField: {tok}}, nil); rec.Code != http.StatusOK || rec.Body.String() != "ok" {
		t.Errorf("PUT with the right token: %d %q", rec.Code, rec.Body)
	}
	for _, m := range []string{"DELETE", "PATCH", "CUSTOM"} {
		if code := b.do(m, "/submit", nil, nil).Code; code != http.StatusForbidden {
			t.Errorf("%s without a token: %d, want 403", m, code)
		}
	}
}

func TestCSRFSafeMethodsPass(t *testing.T) {
	_, h := csrfApp(t)
	b := &csrfClient{t: t, h: h}
	for _, m := range []string{"GET", "HEAD", "OPTIONS", "TRACE"} {
		rec := b.do(m, "/submit", nil, map[string]string{"Sec-Fetch-Site": "cross-site", "Origin": "https://evil.example"})
		if rec.Code != http.StatusOK {
			t.Errorf("%s without a token, cross-site: %d, want 200", m, rec.Code)
		}
	}
	// A safe request that does not use the session does not open it.
	rec := b.do("GET", "/plain", nil, nil)
	if rec.Header().Get("Vary") != "" || len(rec.Header().Values("Set-Cookie")) != 0 {
		t.Errorf("GET /plain touched the session: %v", rec.Header())
	}
}

// Every call gives a different token, and every one validates, in any
// order and more than once.
func TestCSRFMaskedTokensDifferAllValidate(t *testing.T) {
	_, h := csrfApp(t)
	b := &csrfClient{t: t, h: h}
	seen := map[string]bool{}
	var toks []string
	for range 5 {
		tok := b.token()
		if seen[tok] {
			t.Fatalf("token %q handed out twice", tok)
		}
		seen[tok] = true
		toks = append(toks, tok)
	}
	// Two tokens share no byte pattern beyond chance: they are the same
	// secret under different pads.
	if toks[0][:43] == toks[1][:43] || toks[0][43:] == toks[1][43:] {
		t.Errorf("tokens %q and %q share a half", toks[0], toks[1])
	}
	for i := len(toks) - 1; i >= 0; i-- {
		for range 2 {
			if code := b.post(toks[i], nil); code != http.StatusOK {
				t.Errorf("token %d: %d, want 200", i, code)
			}
		}
	}
}

func TestCSRFTokenFromAnotherSession(t *testing.T) {
	_, h := csrfApp(t)
	alice := &csrfClient{t: t, h: h}
	mallory := &csrfClient{t: t, h: h}
	aliceTok := alice.token()
	malloryTok := mallory.token()
	if code := alice.post(malloryTok, nil); code != http.StatusForbidden {
		t.Errorf("another session's token: %d, want 403", code)
	}
	if code := mallory.post(aliceTok, nil); code != http.StatusForbidden {
		t.Errorf("another session's token the other way: %d, want 403", code)
	}
	// A session without a secret refuses every token.
	fresh := &csrfClient{t: t, h: h}
	if code := fresh.post(aliceTok, nil); code != http.StatusForbidden {
		t.Errorf("a token sent without any session: %d, want 403", code)
	}
	if code := alice.post(aliceTok, nil); code != http.StatusOK {
		t.Errorf("own token: %d, want 200", code)
	}
}

// Renew (login), Flush (logout) and Clear invalidate every token handed out
// before; the next token works again.
func TestCSRFSecretRotatesWithTheSession(t *testing.T) {
	_, h := csrfApp(t)
	for _, path := range []string{"/renew", "/flush", "/clear"} {
		b := &csrfClient{t: t, h: h}
		old := b.token()
		b.do("GET", "/submit", nil, nil) // keep some data, so Flush and Clear leave something
		if rec := b.do("GET", path, nil, nil); rec.Code != http.StatusOK {
			t.Fatalf("GET %s: %d", path, rec.Code)
		}
		if code := b.post(old, nil); code != http.StatusForbidden {
			t.Errorf("after %s, a token from before: %d, want 403", path, code)
		}
		if code := b.post(b.token(), nil); code != http.StatusOK {
			t.Errorf("after %s, a new token: %d, want 200", path, code)
		}
	}
}

func TestCSRFOriginChecks(t *testing.T) {
	_, h := csrfApp(t)
	b := &csrfClient{t: t, h: h}
	tok := b.token()
	for _, tc := range []struct {
		header map[string]string
		want   int
	}{
		{map[string]string{"Sec-Fetch-Site": "cross-site"}, http.StatusForbidden},
		{map[string]string{"Sec-Fetch-Site": "same-site"}, http.StatusForbidden},
		{map[string]string{"Sec-Fetch-Site": "bogus"}, http.StatusForbidden},
		{map[string]string{"Sec-Fetch-Site": "same-origin"}, http.StatusOK},
		{map[string]string{"Sec-Fetch-Site": "none"}, http.StatusOK},
		// Sec-Fetch-Site decides when present, as in net/http.
		{map[string]string{"Sec-Fetch-Site": "same-origin", "Origin": "https://evil.example"}, http.StatusOK},
		{map[string]string{"Sec-Fetch-Site": "cross-site", "Origin": "http://example.com"}, http.StatusForbidden},
		// Without it, Origin's host must be the request's Host.
		{map[string]string{"Origin": "https://evil.example"}, http.StatusForbidden},
		{map[string]string{"Origin": "http://example.com.evil.example"}, http.StatusForbidden},
		{map[string]string{"Origin": "null"}, http.StatusForbidden},
		{map[string]string{"Origin": "http://example.com"}, http.StatusOK},
		{map[string]string{"Origin": "https://example.com"}, http.StatusOK},
		{nil, http.StatusOK},
	} {
		if code := b.post(tok, tc.header); code != tc.want {
			t.Errorf("valid token with %v: %d, want %d", tc.header, code, tc.want)
		}
	}
}

func TestCheckCSRF(t *testing.T) {
	c, _ := newTestCodec(t, Config{})
	other, _ := newTestCodec(t, Config{})
	var got error
	handler := func(codec *Codec) http.Handler {
		return c.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.Method == http.MethodGet {
				io.WriteString(w, FromContext(r.Context()).CSRFToken())
				return
			}
			got = codec.CheckCSRF(r)
		}))
	}
	b := &csrfClient{t: t, h: handler(c)}
	tok := b.token()
	b.post(tok, nil)
	if got != nil {
		t.Errorf("CheckCSRF of a right token = %v", got)
	}
	b.post("", nil)
	if !errors.Is(got, ErrCSRF) {
		t.Errorf("CheckCSRF without a token = %v, want ErrCSRF", got)
	}
	// Another codec's check does not take this codec's session.
	b.h = handler(other)
	b.post(tok, nil)
	if !errors.Is(got, ErrCSRF) || !strings.Contains(got.Error(), "Middleware") {
		t.Errorf("CheckCSRF of another codec = %v, want ErrCSRF about the Middleware", got)
	}
	// Without any Middleware: refused, no panic.
	req := httptest.NewRequest("POST", "/", strings.NewReader(CSRFField+"="+tok))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if err := c.CheckCSRF(req); !errors.Is(err, ErrCSRF) {
		t.Errorf("CheckCSRF outside the Middleware = %v, want ErrCSRF", err)
	}
	rec := httptest.NewRecorder()
	c.CSRF(http.NotFoundHandler()).ServeHTTP(rec, req)
	if rec.Code != http.StatusForbidden {
		t.Errorf("CSRF outside the Middleware: %d, want 403", rec.Code)
	}
}

// Without the Middleware, CheckCSRFToken checks a token against a session
// that went through a real cookie, as a serverless handler would.
func TestCheckCSRFToken(t *testing.T) {
	c, _ := newTestCodec(t, Config{})
	s := c.New()
	tok := s.CSRFToken()
	if !s.Modified() || !s.Has(CSRFKey) {
		t.Fatal("the first CSRFToken did not store a secret")
	}
	if err := s.CheckCSRFToken(tok); err != nil {
		t.Errorf("same request: %v", err)
	}
	next := mustRoundTrip(t, c, s)
	if err := next.CheckCSRFToken(tok); err != nil {
		t.Errorf("after a round trip: %v", err)
	}
	if next.CSRFToken(); next.Modified() {
		t.Error("a second token changed the session")
	}
	if err := c.New().CheckCSRFToken(tok); !errors.Is(err, ErrCSRF) {
		t.Errorf("a new session accepted the token: %v", err)
	}
	// A secret copied into another session (same value, other ID) is
	// refused: the secret is bound to the ID it was made for.
	stolen := c.New()
	raw, _ := Get[[]byte](next, CSRFKey)
	stolen.Set(CSRFKey, raw)
	if err := mustRoundTrip(t, c, stolen).CheckCSRFToken(tok); !errors.Is(err, ErrCSRF) {
		t.Errorf("a secret moved to another session ID accepted the token: %v", err)
	}
	if err := next.CheckCSRFToken(""); !errors.Is(err, ErrCSRF) {
		t.Errorf("empty token: %v", err)
	}
}
