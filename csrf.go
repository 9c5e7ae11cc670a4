package cookiesession

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"log/slog"
	"net/http"
	"net/url"
)

// Cross-site request forgery protection, bound to the session.
//
// A session holds one random CSRF seed, created the first time a token is
// asked for and stored under CSRFKey; the secret that tokens mask is
// HMAC-SHA256(seed, session ID), so after Renew (login) or Flush (logout)
// every token made before is refused, and a seed copied into another
// session is worthless there. The ID itself is not stored next to the
// seed: with Config.Compress the data is compressed and the ID is kept out
// of that stream (see SECURITY.md, "Compression"). Pages never carry the secret itself, only
// tokens: a fresh one-time pad and the secret XORed with it (as Django and
// Rails do). Every token differs, so compressing a page together with text
// an attacker controls (BREACH) cannot reveal one byte by byte, and every
// one validates for as long as the secret lives.

// Where CheckCSRF looks for the token, and where the secret is kept.
const (
	// CSRFHeader is the request header CheckCSRF reads the token from,
	// for scripts.
	CSRFHeader = "X-CSRF-Token"
	// CSRFField is the form field CheckCSRF reads the token from when the
	// header is absent: put CSRFToken in <input type="hidden" name="csrf_token">.
	CSRFField = "csrf_token"
	// CSRFKey is the session key that holds the CSRF secret's seed. It is reserved:
	// setting or deleting it invalidates every token handed out.
	CSRFKey = "_csrf"
)

// ErrCSRF means a request with an unsafe method failed the CSRF check: no
// token, a token that is malformed or not from this session, or a browser
// that says the request comes from another site. Codec.CSRF answers it with
// 403 Forbidden.
var ErrCSRF = errors.New("cookiesession: CSRF check failed")

const csrfSecretLen = 32

func csrfError(reason string) error { return &sessionError{kind: ErrCSRF, reason: reason} }

// CSRFToken returns a token that CheckCSRF accepts for this session: put it
// in every form that posts (field CSRFField) or send it in the CSRFHeader
// header. Each call returns a different token (the secret masked with a new
// one-time pad); all of them stay valid until the session's ID changes
// (Renew, Flush) or its data is cleared. The first call in a session
// creates the secret, which changes the session, so the response carries a
// cookie.
func (s *Session) CSRFToken() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	secret := s.csrfSecret()
	if secret == nil {
		s.newID()
		seed := make([]byte, csrfSecretLen)
		rand.Read(seed) // never fails since Go 1.24
		s.set(CSRFKey, seed, 0)
		secret = s.csrfSecret()
	}
	var token [2 * csrfSecretLen]byte
	pad, masked := token[:csrfSecretLen], token[csrfSecretLen:]
	rand.Read(pad)
	subtle.XORBytes(masked, pad, secret)
	return base64.RawURLEncoding.EncodeToString(token[:])
}

// CheckCSRFToken reports whether token is one CSRFToken returned for this
// session: nil if it is, an error wrapping ErrCSRF if not. The comparison
// takes the same time whatever the token holds. Use it where
// Codec.CheckCSRF does not fit (a handler without the Middleware); it
// checks the token only, not the request's method or origin.
func (s *Session) CheckCSRFToken(token string) error {
	if token == "" {
		return csrfError("no CSRF token")
	}
	var buf [2 * csrfSecretLen]byte
	if len(token) != base64.RawURLEncoding.EncodedLen(len(buf)) {
		return csrfError("malformed CSRF token")
	}
	if n, err := base64.RawURLEncoding.Strict().Decode(buf[:], []byte(token)); err != nil || n != len(buf) {
		return csrfError("malformed CSRF token")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	secret := s.csrfSecret()
	if secret == nil {
		return csrfError("the session has no CSRF secret (new, expired or renewed session)")
	}
	subtle.XORBytes(buf[csrfSecretLen:], buf[csrfSecretLen:], buf[:csrfSecretLen])
	if subtle.ConstantTimeCompare(buf[csrfSecretLen:], secret) != 1 {
		return csrfError("CSRF token does not match the session")
	}
	return nil
}

// csrfSecret returns the session's CSRF secret for its current ID, or nil
// if it has no seed.
func (s *Session) csrfSecret() []byte {
	s.load()
	e := s.find(CSRFKey)
	if e == nil || !s.hasID {
		return nil
	}
	seed, ok := entryAs[[]byte](e)
	if !ok || len(seed) != csrfSecretLen {
		return nil
	}
	mac := hmac.New(sha256.New, seed)
	mac.Write([]byte("cookiesession csrf\x00"))
	mac.Write(s.id[:])
	return mac.Sum(nil)
}

// CheckCSRF checks a request against cross-site request forgery. Requests
// with a safe method (GET, HEAD, OPTIONS, TRACE) pass: they must not change
// anything. Any other request must carry a token from CSRFToken for its
// session, in the CSRFHeader header or else the CSRFField form field of its
// body (never the URL, which leaks through logs and Referer). It returns
// nil or an error wrapping ErrCSRF.
//
// As defence in depth, it also refuses what the browser itself marks as
// cross-origin, valid token or not: a Sec-Fetch-Site header other than
// same-origin or none (so also same-site, a sibling subdomain), or, from
// browsers that send no Sec-Fetch-Site, an Origin header whose host is not
// the request's Host. Requests with neither header (non-browser clients)
// are judged by the token alone.
//
// The request must have gone through c's Middleware; without a session of
// c in its context, every unsafe request is refused. Reading the form field
// parses the request body (http.Request.ParseMultipartForm), which the
// handler can still read as r.PostForm.
func (c *Codec) CheckCSRF(r *http.Request) error {
	switch r.Method {
	case http.MethodGet, http.MethodHead, http.MethodOptions, http.MethodTrace:
		return nil
	}
	if err := checkOrigin(r); err != nil {
		return err
	}
	s := c.contextSession(r)
	if s == nil {
		return csrfError("no session of this codec in the request context (wrap the handler with Codec.Middleware)")
	}
	token := r.Header.Get(CSRFHeader)
	if token == "" {
		token = r.PostFormValue(CSRFField)
	}
	if token == "" {
		return csrfError("no CSRF token in the " + CSRFHeader + " header or the " + CSRFField + " form field")
	}
	return s.CheckCSRFToken(token)
}

// contextSession returns the session c's Middleware put in r's context,
// even under other codecs' middleware, or nil.
func (c *Codec) contextSession(r *http.Request) *Session {
	s, _ := r.Context().Value(codecKey{c}).(*Session)
	return s
}

// checkOrigin refuses a request that the browser says comes from another
// origin, the way Go 1.25's http.CrossOriginProtection does.
func checkOrigin(r *http.Request) error {
	switch site := r.Header.Get("Sec-Fetch-Site"); site {
	case "same-origin", "none":
		return nil
	case "":
	default:
		return csrfError("cross-origin request (Sec-Fetch-Site: " + site + ")")
	}
	origin := r.Header.Get("Origin")
	if origin == "" {
		return nil
	}
	if u, err := url.Parse(origin); err != nil || u.Host == "" || u.Host != r.Host {
		return csrfError("cross-origin request (Origin is not this host)")
	}
	return nil
}

// CSRF returns a handler that answers 403 Forbidden to every request that
// fails CheckCSRF, logging the reason (never the token), and passes the
// others to next. It must run inside c's Middleware:
//
//	handler := codec.Middleware(codec.CSRF(mux))
func (c *Codec) CSRF(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := c.CheckCSRF(r); err != nil {
			c.log().LogAttrs(r.Context(), slog.LevelWarn, "cookiesession: request refused by the CSRF check",
				slog.String("cookie", c.name), slog.String("method", r.Method), slog.String("path", r.URL.Path),
				slog.String("reason", err.Error()))
			http.Error(w, "403 Forbidden: "+err.Error(), http.StatusForbidden)
			return
		}
		next.ServeHTTP(w, r)
	})
}
