// Package cookiesession keeps a web session entirely inside a cookie: no
// database, no cache, no server memory for the session itself (an opt-in
// Guard remembers only what a replayed cookie could undo: see Config.Guard).
//
// A Codec seals a Session (its data serialised with msgpack) into a cookie
// value that is encrypted with AES-256-CTR and authenticated with
// HMAC-SHA256, in the exact format of github.com/gorilla/securecookie, and
// opens it again on the next request. The session's expiry travels inside the
// sealed value, so the server decides whether a session is still alive from
// the cookie alone. Keys rotate without logging anyone out: see Keyring.
//
// Most programs wrap their handler with Codec.Middleware and reach the
// session with FromContext or Codec.Session; code without the middleware
// (serverless functions, other frameworks) calls Codec.Load and
// Codec.Commit, which apply the same policy.
package cookiesession

import (
	"context"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/subtle"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"

	"github.com/cookiesession/cookiesession/internal/b64url"
)

// Defaults applied by NewCodec to zero Config fields.
const (
	// DefaultName is the cookie name NewCodec picks when Config.Name is
	// empty and the cookie cannot be a __Host- cookie (Insecure, a Domain,
	// or a Path other than "/"). Earlier versions used it for every
	// Config without a Name.
	DefaultName = "session"
	// DefaultHostName is the cookie name NewCodec picks when Config.Name is
	// empty and the cookie is Secure, with Path "/" and no Domain: a
	// __Host- cookie, which browsers let only this host set, over HTTPS.
	DefaultHostName  = "__Host-" + DefaultName
	DefaultMaxAge    = 14 * 24 * time.Hour // Django's SESSION_COOKIE_AGE
	DefaultMaxLength = 4096                // what every browser keeps for name=value
)

// maxClockSkew is how far in the future a seal time may lie before Decode
// refuses the cookie.
const maxClockSkew = 60

// Errors returned by Decode and Encode. The errors returned wrap one of these
// and, where there is one, the underlying cause, so errors.Is works on them.
var (
	// ErrInvalid means the value is not a cookie this Codec sealed under
	// this name: malformed, tampered with, moved from another cookie name,
	// or carrying a payload that does not decode.
	ErrInvalid = errors.New("cookiesession: invalid session cookie")
	// ErrExpired means the cookie was genuine but its session, by its own
	// sealed deadline or by the Codec's limits, is over.
	ErrExpired = errors.New("cookiesession: session expired")
	// ErrUnknownKey means the cookie names a key the Keyring does not hold
	// (never held, or retired).
	ErrUnknownKey = errors.New("cookiesession: unknown key")
	// ErrTooLarge means the cookie is, or would be, longer than
	// Config.MaxLength (times Config.MaxCookies). No over-long value is ever
	// returned.
	ErrTooLarge = errors.New("cookiesession: session too large")
	// ErrClockSkew means the cookie was sealed more than a minute after
	// this server's clock reads: by a server whose clock runs ahead, or on
	// a server whose clock runs behind. It does not wrap ErrInvalid: the
	// cookie may be genuine, so Middleware neither opens, deletes nor
	// overwrites it (but for a logout), and logs the skew; other callers
	// should not delete it either.
	ErrClockSkew = errors.New("cookiesession: session cookie sealed in the future (clock skew)")
	// ErrRevoked means a genuine, unexpired session was rejected by
	// Config.Verify, Config.NotBefore or Config.Guard's revocations. It
	// wraps ErrExpired: a revoked session is treated as an expired one.
	ErrRevoked = fmt.Errorf("%w: revoked", ErrExpired)
	// ErrUnencodable means a value set in the session (or a flash message)
	// could not be encoded with msgpack, or breaks the limits FORMAT.md §4
	// sets, so the session cannot be sealed. Session.Err reports it at
	// once, Encode when sealing.
	ErrUnencodable = errors.New("cookiesession: value cannot be encoded")
)

// sessionError is what every failure returns: a sentinel kind, a reason for
// humans and logs, and an optional cause.
type sessionError struct {
	kind   error
	reason string
	cause  error
	keyID  string // the (well-formed) key ID the cookie named, for logs
}

func (e *sessionError) Error() string {
	msg := e.kind.Error() + ": " + e.reason
	if e.cause != nil {
		msg += ": " + e.cause.Error()
	}
	return msg
}

func (e *sessionError) Unwrap() []error {
	if e.cause == nil {
		return []error{e.kind}
	}
	return []error{e.kind, e.cause}
}

func invalid(reason string, cause error) error {
	return &sessionError{kind: ErrInvalid, reason: reason, cause: cause}
}

// Config configures a Codec. The zero value of every field but Keys selects a
// sensible, secure default.
type Config struct {
	// Name is the cookie name. It is bound into every seal, so a value
	// moved to another cookie name does not open.
	//
	// Left empty, it is DefaultHostName ("__Host-session") when the cookie
	// is Secure (Insecure unset), with Path "/" (or unset) and no Domain,
	// and DefaultName ("session") otherwise. A __Host- cookie cannot be
	// planted by a sibling subdomain or over plain HTTP, so an attacker
	// who controls one cannot shadow the session with cookies of their own
	// (see SECURITY.md); Insecure, Domain or another Path give that up.
	// With the default __Host-session name, a request that carries no
	// __Host-session cookie but a "session" cookie (the default name of
	// earlier versions) is opened from that cookie, and Middleware (or
	// DecodeCookies with Cookies) reseals it under the new name and deletes
	// the old one, so upgrading logs nobody out. Setting Name explicitly
	// turns that migration off; do so when another Codec in the same app
	// is named "session", or this one would take over that codec's
	// cookies (with the same keys it opens them as its own).
	Name string
	// Keys seals and opens cookies. Required.
	Keys *Keyring
	// MaxAge is the default expiry policy: a session expires after MaxAge
	// without being sealed again. Default two weeks. It is also the longest
	// the server accepts a browser-close session. It does not cap a custom
	// SetExpiry or SetExpiryAt: MaxExpiry does.
	MaxAge time.Duration
	// AbsoluteTimeout, if positive, caps every session's life from its
	// creation, whatever SetExpiry says and however often it is resealed.
	AbsoluteTimeout time.Duration
	// MaxExpiry, if positive, caps every expiry policy: no session opens
	// more than MaxExpiry after it was last sealed, whatever SetExpiry or
	// SetExpiryAt asked, and no cookie's Max-Age exceeds it. It is checked
	// when a cookie is opened, so lowering it also ends sessions already
	// sealed under a longer policy. Zero (the default) leaves custom
	// policies uncapped; MaxAge still bounds the default and browser-close
	// ones.
	MaxExpiry time.Duration
	// MaxLength is the longest cookie, counted over "name=value", that
	// Encode produces or Decode reads. Default 4096.
	MaxLength int
	// Now returns the current time; default time.Now. Tests set it.
	Now func() time.Time

	// Cookie attributes, used by Cookie and Middleware.

	// Path of the cookie; default "/".
	Path string
	// Domain of the cookie; default none (host-only).
	Domain string
	// Insecure drops the Secure attribute so that the cookie travels over
	// plain HTTP. Use it for local development only: a cookie without
	// Secure can be read and replayed by anyone on the network path.
	Insecure bool
	// SameSite is the cookie's SameSite attribute; the zero value and
	// http.SameSiteDefaultMode mean http.SameSiteLaxMode. http.SameSiteNoneMode requires Secure.
	SameSite http.SameSite

	// Verify, if set, is called with every session opened from a cookie,
	// before anyone else sees it; a non-nil error rejects the session as
	// if it had expired (the error wraps ErrRevoked and Verify's error).
	// Use it for per-user "logged out everywhere after T" checks against
	// the session's CreatedAt, SealedAt, ID or data. Verify must not keep
	// or change the session, and must be safe for concurrent use. The
	// text of its error is logged with the rejection, so keep user data
	// out of it. A panic in Verify rejects the session as ErrRevoked and is
	// logged as "Config.Verify panicked" with the panic's type, never its
	// value.
	Verify func(s *Session) error
	// NotBefore, if set, rejects every session created before it (as
	// ErrRevoked): a way to end all sessions at once without rotating
	// keys. Codec.SetNotBefore changes it while serving.
	NotBefore time.Time

	// Server-side guard (opt-in).

	// Guard, if set, is the small server-side memory that makes what a
	// replayed cookie could undo hold: one-time values (SetOnce,
	// TakeOnce), attempt limits (Codec.Attempt, Codec.AttemptFor), and
	// revocation: the ID that Flush or Renew leaves behind stops opening
	// once the response commits, and Codec.RevokeSubject ends a subject's
	// older sessions. With a Guard, opening a session from a cookie costs
	// one RevokedAt call; if that call fails the session still opens and
	// the failure is logged (fail open; see RequireRevocationCheck), while
	// one-time values and attempt limits fail closed with
	// ErrGuardUnavailable. Without a Guard none of this costs anything.
	// See the README's "Guard" section.
	Guard Guard
	// GuardTimeout bounds every call to Guard; default 1 s. A
	// *MemoryGuard, which waits only on its own lock, is not given one.
	GuardTimeout time.Duration
	// Subject, if set (it needs Guard), returns the subject a session
	// belongs to, such as a user ID, or "" for none: Codec.RevokeSubject
	// ends a subject's sessions. It must only read s and be safe for
	// concurrent use. A panic in it rejects the session as ErrRevoked,
	// logged with the panic's type, never its value, as for Verify.
	Subject func(s *Session) string
	// RequireRevocationCheck (it needs Guard) makes the revocation check
	// fail closed: a cookie whose check the Guard could not make (down,
	// or slower than GuardTimeout) does not open. The handler gets an
	// empty session whose OpenError wraps ErrGuardUnavailable, and the
	// cookie is kept, not deleted, as for ErrClockSkew, so the same
	// cookie opens once the Guard answers again. What the handler stores
	// in that empty session is not saved over the kept cookie (reported as
	// an error wrapping ErrGuardUnavailable); only a Flush replaces it.
	// Off, a revoked cookie opens while the Guard is down.
	RequireRevocationCheck bool

	// Size.

	// Compress deflates the session's data and flashes before sealing
	// when that makes the cookie shorter. Off by default: with it, anyone
	// who can set one value in a session and observe the cookie's length
	// can learn, a guess at a time, every other value and flash in the
	// same session (a token under another key included). The session ID,
	// times and expiry policy are sealed outside the compressed stream, so
	// they do not leak this way (see SECURITY.md). Cookies are opened
	// whether or not they were compressed, so turning it on or off logs
	// nobody out.
	Compress bool
	// RejectV1 refuses cookies sealed in wire format v1 (before key IDs
	// were bound into the keys; FORMAT.md §1) as ErrInvalid. Off, a v1
	// cookie still opens, and Middleware reseals it as v2 the next time
	// it serves it, so an upgrade logs nobody out. Turn it on once MaxAge
	// (or the longest custom expiry in use) has passed since the upgrade:
	// until then a v1 cookie sealed by a key with the same secret under
	// another ID, in any keyring, opens here if relabelled.
	RejectV1 bool
	// MaxCookies is how many cookies one session may span: a sealed value
	// longer than one cookie is split over NAME, NAME.1, NAME.2, ... each
	// within MaxLength. Default 1, at most 16.
	MaxCookies int

	// Middleware behaviour.

	// RefreshAfter is the fraction of its idle window after which
	// Middleware reseals a session that was read but not changed, so its
	// deadline slides with activity without minting a cookie on every
	// request. Default 0.25; 1 never reseals unchanged sessions.
	RefreshAfter float64
	// Logger receives security events (rejected cookies, with the reason
	// and never the value) and changes that could not be saved. Default
	// slog.Default().
	Logger *slog.Logger
	// OnError, if set, receives what the middleware would otherwise log:
	// why the request's session cookie did not open (the error wraps
	// ErrInvalid, ErrExpired, ErrUnknownKey, ErrTooLarge, ErrClockSkew or,
	// with RequireRevocationCheck, ErrGuardUnavailable; a clock-skewed or
	// unchecked cookie is not deleted, see Middleware) and why a changed
	// session could not be saved (ErrTooLarge, or ErrUnencodable for a value
	// msgpack cannot encode). It is called once per error, when the response
	// commits: just before its header goes out, outside the session's lock,
	// with the writer under the middleware. If the handler returned without
	// writing, OnError may write the whole response (a 500 page, say);
	// otherwise the status is already chosen and it may only add headers.
	// Codec.CommitResponse calls it too, with its w and r.
	OnError func(w http.ResponseWriter, r *http.Request, err error)
}

// A Codec seals sessions into cookie values and opens them again. It is
// safe for concurrent use by multiple goroutines. NewCodec makes one; the
// zero Codec has no keys and is not usable: its methods return an error
// saying so, and New, Load and Middleware, which have no error to return,
// panic with that message.
type Codec struct {
	name      string
	namePipe  []byte // name + "|": the start of every MAC input
	keys      *Keyring
	maxAge    int64 // seconds
	absolute  int64 // seconds; 0 = none
	maxExpiry int64 // seconds; 0 = none
	maxLength int
	now       func() time.Time
	rand      io.Reader // nil: crypto/rand; tests fix it for FORMAT.md's vectors
	cookie    http.Cookie
	attrs     string // "; Path=/; HttpOnly; Secure; SameSite=Lax" and the like
	refresh   float64
	logger    *slog.Logger
	onError   func(http.ResponseWriter, *http.Request, error)
	verify    func(*Session) error
	notBefore atomic.Int64 // Unix seconds; 0 = none
	compress  bool
	rejectV1  bool
	chunks    int       // Config.MaxCookies
	bufs      sync.Pool // of *[]byte scratch space
	guard     guardConfig
	onTry     func(size int) // tests: sees each value a request's cookies make openSet try
	// oldName opens cookies under DefaultName when the name defaulted to
	// DefaultHostName, so that upgrading logs nobody out; nil otherwise.
	oldName *Codec
}

// NewCodec validates cfg, fills in its defaults and returns a Codec.
func NewCodec(cfg Config) (*Codec, error) {
	c := &Codec{
		name:      cfg.Name,
		keys:      cfg.Keys,
		maxLength: cfg.MaxLength,
		now:       cfg.Now,
	}
	if c.name == "" {
		c.name = defaultName(cfg)
	}
	if !validCookieName(c.name) {
		return nil, fmt.Errorf("cookiesession: cookie name %q is not a valid token (RFC 6265)", c.name)
	}
	c.namePipe = []byte(c.name + "|")
	switch {
	case c.keys == nil:
		return nil, errors.New("cookiesession: Config.Keys is required (see ParseKeys, NewKeyring)")
	case c.keys.PrimaryID() == "":
		return nil, errors.New("cookiesession: Config.Keys holds no key (a zero Keyring; see ParseKeys, NewKeyring)")
	}
	switch {
	case cfg.MaxAge < 0:
		return nil, fmt.Errorf("cookiesession: negative MaxAge %v", cfg.MaxAge)
	case cfg.MaxAge == 0:
		cfg.MaxAge = DefaultMaxAge
	case cfg.MaxAge < time.Second:
		return nil, fmt.Errorf("cookiesession: MaxAge %v is under one second", cfg.MaxAge)
	}
	c.maxAge = int64(cfg.MaxAge / time.Second)
	switch {
	case cfg.AbsoluteTimeout < 0:
		return nil, fmt.Errorf("cookiesession: negative AbsoluteTimeout %v", cfg.AbsoluteTimeout)
	case cfg.AbsoluteTimeout > 0 && cfg.AbsoluteTimeout < time.Second:
		return nil, fmt.Errorf("cookiesession: AbsoluteTimeout %v is under one second", cfg.AbsoluteTimeout)
	}
	c.absolute = int64(cfg.AbsoluteTimeout / time.Second)
	switch {
	case cfg.MaxExpiry < 0:
		return nil, fmt.Errorf("cookiesession: negative MaxExpiry %v", cfg.MaxExpiry)
	case cfg.MaxExpiry > 0 && cfg.MaxExpiry < time.Second:
		return nil, fmt.Errorf("cookiesession: MaxExpiry %v is under one second", cfg.MaxExpiry)
	}
	c.maxExpiry = int64(cfg.MaxExpiry / time.Second)
	switch {
	case c.maxLength < 0:
		return nil, fmt.Errorf("cookiesession: negative MaxLength %d", c.maxLength)
	case c.maxLength == 0:
		c.maxLength = DefaultMaxLength
	}
	if c.now == nil {
		c.now = time.Now
	}
	switch {
	case cfg.RefreshAfter < 0 || cfg.RefreshAfter > 1:
		return nil, fmt.Errorf("cookiesession: RefreshAfter %v is outside [0, 1]", cfg.RefreshAfter)
	case cfg.RefreshAfter == 0:
		cfg.RefreshAfter = 0.25
	}
	c.refresh = cfg.RefreshAfter
	c.logger = cfg.Logger
	c.onError = cfg.OnError
	c.verify = cfg.Verify
	c.SetNotBefore(cfg.NotBefore)
	c.compress = cfg.Compress
	c.rejectV1 = cfg.RejectV1
	switch {
	case cfg.MaxCookies < 0 || cfg.MaxCookies > maxChunks:
		return nil, fmt.Errorf("cookiesession: MaxCookies %d is outside [1, %d]", cfg.MaxCookies, maxChunks)
	case cfg.MaxCookies == 0:
		cfg.MaxCookies = 1
	}
	c.chunks = cfg.MaxCookies
	if err := c.setGuard(cfg); err != nil {
		return nil, err
	}
	if err := c.setCookieTemplate(cfg); err != nil {
		return nil, err
	}
	if cfg.Name == "" && c.name == DefaultHostName {
		old := cfg
		old.Name = DefaultName
		oldName, err := NewCodec(old)
		if err != nil {
			return nil, fmt.Errorf("cookiesession: codec for the old default cookie name: %w", err)
		}
		oldName.guard.name = c.name // one revocation covers both names
		c.oldName = oldName
	}
	return c, nil
}

// defaultName is the cookie name for a Config without one: a __Host-
// name whenever the attributes allow it, since only such a cookie is out of
// reach of sibling subdomains and plain-HTTP injection.
func defaultName(cfg Config) string {
	if !cfg.Insecure && (cfg.Path == "" || cfg.Path == "/") && cfg.Domain == "" {
		return DefaultHostName
	}
	return DefaultName
}

// SetNotBefore rejects, from now on, every session created before t (as
// ErrRevoked); the zero Time lifts the limit. It is safe to call while the
// Codec is in use.
func (c *Codec) SetNotBefore(t time.Time) {
	if c.oldName != nil {
		c.oldName.SetNotBefore(t)
	}
	if t.IsZero() {
		c.notBefore.Store(0)
		return
	}
	c.notBefore.Store(t.Unix())
}

// Name returns the cookie name.
func (c *Codec) Name() string { return c.name }

// New returns a new, empty session. Its ID is drawn when first needed.
func (c *Codec) New() *Session {
	c.mustBeUsable("New")
	return &Session{c: c, state: state{created: c.unixNow()}}
}

func (c *Codec) unixNow() int64 { return c.now().Unix() }

// Encode seals s into a cookie value.
//
// A session with no data encodes to "" and a nil error: no data, no cookie,
// so the caller deletes the cookie (Django's rule too). So does a session
// whose expiry has already passed. A value that would not fit in
// Config.MaxCookies cookies of Config.MaxLength is an ErrTooLarge error that
// gives the sizes of the largest entries, never a key name. A value that
// could not be encoded when it was set is an ErrUnencodable error that names
// its key (see Session.Err). With MaxCookies > 1 the value may be longer
// than one cookie: send it with Codec.Cookies, which splits it.
func (c *Codec) Encode(s *Session) (string, error) {
	if err := c.usable(); err != nil {
		return "", err
	}
	if s == nil {
		return "", errors.New("cookiesession: Encode of a nil *Session")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	out, err := c.encodeLocked(s, c.unixNow(), "")
	return out.value(), err
}

// sealOut is a sealed cookie value, alone or inside the Set-Cookie line
// that seal built around it in the same allocation.
type sealOut struct {
	line       string // the value, or "name=value; Max-Age=N; attributes"
	start, end int    // the value's bounds in line
	maxAge     int64  // the session's remaining life; 0 for browser-close
}

func (o sealOut) value() string { return o.line[o.start:o.end] }

// encodeLocked is Encode with s locked, at now. With a lineName, the value
// comes inside the Set-Cookie line for a cookie of that name, so that a
// response's one session cookie costs one allocation; a value too long for
// one cookie is still whole inside it, for the caller to split. The value
// is "" for a session that encodes to nothing.
func (c *Codec) encodeLocked(s *Session, now int64, lineName string) (sealOut, error) {
	s.load()
	dropExpired(&s.entries, now)
	if len(s.entries) == 0 && len(s.flashes) == 0 {
		return sealOut{}, nil
	}
	deadline := c.deadline(s, now)
	if deadline <= now {
		return sealOut{}, nil
	}
	if err := s.valueErr(); err != nil {
		return sealOut{}, err
	}
	var maxAge int64
	if s.mode != expiryBrowserClose {
		maxAge = deadline - now
	}
	bp := c.getBuf()
	defer c.bufs.Put(bp)
	payload := c.appendPayload((*bp)[:0], s, now, deadline)
	if len(payload) > maxPayload {
		return sealOut{}, &sessionError{kind: ErrTooLarge, reason: fmt.Sprintf("payload is %d bytes, limit %d", len(payload), maxPayload) + largestValues(s)}
	}
	if c.compress {
		payload = deflate(payload)
	}
	out, err := c.sealLine(c.keys.load().primary, payload, now, bp, lineName, maxAge)
	if err != nil {
		if se, ok := err.(*sessionError); ok && se.kind == ErrTooLarge {
			se.reason += largestValues(s)
		}
		return sealOut{}, err
	}
	return out, nil
}

// Decode opens a cookie value sealed by Encode.
//
// Decode("") returns a fresh, empty session and a nil error. Any other value
// either opens into a session or yields a nil session and an error wrapping
// ErrInvalid, ErrExpired (or ErrRevoked, which wraps it), ErrUnknownKey,
// ErrTooLarge, ErrClockSkew or (Config.RequireRevocationCheck)
// ErrGuardUnavailable. Decode never panics, and its memory use is bounded: besides
// scratch space of a few times the value's length, it keeps at most 56
// bytes per byte of payload on a 64-bit machine (a one-byte flash becomes
// an entry), and a compressed payload inflates to at most 64 KiB, so such a
// cookie costs under 4.5 MiB to open. Beyond the 16 entries a small
// session's block holds, entries are allocated as the data map's keys are
// checked, by doubling, never all at once from the count the map claims;
// no flash is allocated before the flashes are checked.
//
// Decoding is strict: a value that differs in any byte from one that Encode
// produced does not open.
func (c *Codec) Decode(value string) (*Session, error) {
	if err := c.usable(); err != nil {
		return nil, err
	}
	if value == "" {
		return c.New(), nil
	}
	s, err := c.openInto(context.Background(), nil, value, false, c.unixNow())
	if err != nil {
		return nil, err
	}
	s.hadCookie = true // Commit deletes it if s ends up empty
	return s, nil
}

// open fills st from value at now. With expiredOK a session past its
// deadline opens too (DecodeExpired): every other check still applies. ctx
// bounds the Guard's revocation check.
func (c *Codec) open(ctx context.Context, st *state, value string, expiredOK bool, now int64) error {
	_, err := c.openInto(ctx, st, value, expiredOK, now)
	return err
}

// openInto is open, except that with a nil st it opens value into a new
// Session, allocated with the storage it keeps (see newStorage), and
// returns it.
func (c *Codec) openInto(ctx context.Context, st *state, value string, expiredOK bool, now int64) (s *Session, err error) {
	var keyID string // once known, every error names it
	defer func() {
		// Defence in depth: the payload was checked before any decoder saw
		// it, but a panic must never escape to the caller.
		if r := recover(); r != nil {
			s, err = nil, decoderPanicked(r)
		}
		if se, ok := err.(*sessionError); ok && keyID != "" {
			se.keyID = keyID
		}
	}()
	if c.cookiesFor(len(value)) == 0 {
		return nil, &sessionError{kind: ErrTooLarge, reason: fmt.Sprintf("cookie is %d bytes, limit %d", len(c.name)+1+len(value), c.capacity())}
	}
	id, sealed, ok := strings.Cut(value, ".")
	if !ok || !validKeyID(id) {
		return nil, invalid("no key ID", nil)
	}
	keyID = id
	k := c.keys.load().lookup(id)
	if k == nil {
		return nil, &sessionError{kind: ErrUnknownKey, reason: fmt.Sprintf("key %q is not in the keyring", id)}
	}
	bp := c.getBuf()
	defer c.bufs.Put(bp)
	v1 := k.v1
	if c.rejectV1 {
		v1 = nil
	}
	plain, legacy, err := unseal(k, c.namePipe, sealed, bp, v1)
	if err != nil {
		return nil, err
	}
	if plain, err = inflate(plain, legacy); err != nil {
		return nil, err
	}
	// The session keeps the plaintext (its keys and values point into
	// it), so it moves from scratch space to the session's storage.
	store := newStorage(st == nil, dataEntries(plain)+roomEntries, len(plain)+roomBytes)
	if st == nil {
		s = store.s
		s.c = c
		st = &s.state
	}
	plain = append(store.plain, plain...)
	st.entries = store.entries
	if err := c.parse(st, plain, now, legacy, expiredOK); err != nil {
		return nil, err
	}
	st.keyID = id
	st.legacy = legacy
	st.arena = plain[len(plain):]
	if err := c.revoked(ctx, st); err != nil {
		return nil, err
	}
	return s, nil
}

// decoderPanicked is the error for a panic recovered while opening a
// cookie. The panic's value may quote the session's data, so only its type
// is reported.
func decoderPanicked(r any) error {
	return invalid("payload does not decode", fmt.Errorf("decoder panicked (%T)", r))
}

// revoked applies Config.NotBefore, Config.Guard's revocations and
// Config.Verify to a session that opened.
func (c *Codec) revoked(ctx context.Context, st *state) error {
	if nb := c.notBefore.Load(); nb != 0 && st.created < nb {
		return &sessionError{kind: ErrRevoked, reason: "created before NotBefore"}
	}
	if err := c.guardRevoked(ctx, st); err != nil {
		return err
	}
	if c.verify == nil {
		return nil
	}
	view := &Session{c: c, state: *st}
	if err := c.callVerify(view); err != nil {
		return err
	}
	*st = view.state // view shares st's entries: keep what its reads changed
	return nil
}

// callVerify runs Config.Verify on view. A panic in Verify rejects the
// session as revoked (it fails closed) and is reported by its type alone:
// the panic value is the application's and may hold the user's data, which
// must not reach the log.
func (c *Codec) callVerify(view *Session) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = &sessionError{kind: ErrRevoked, reason: fmt.Sprintf("Config.Verify panicked (%T)", r)}
		}
	}()
	if err := c.verify(view); err != nil {
		return &sessionError{kind: ErrRevoked, reason: "rejected by Config.Verify", cause: err}
	}
	return nil
}

// seal returns ID "." securecookie(payload), built in one allocation. The
// value is byte for byte what securecookie.New(hashKey, blockKey) with
// securecookie.NopEncoder{} returns from Encode(name, payload) when its clock
// reads now and its IV source yields the same 16 bytes.
func (c *Codec) seal(k *sealKey, payload []byte, now int64, bp *[]byte) (string, error) {
	out, err := c.sealLine(k, payload, now, bp, "", 0)
	return out.value(), err
}

// sealLine is seal, with the value inside the Set-Cookie line for a cookie
// named lineName (none for "") that lives maxAge seconds (see
// setCookieHeader): one allocation for both.
func (c *Codec) sealLine(k *sealKey, payload []byte, now int64, bp *[]byte, lineName string, maxAge int64) (sealOut, error) {
	var ts [20]byte
	tsb := strconv.AppendInt(ts[:0], now, 10)
	innerLen := b64url.EncodedLen(aesBlock + len(payload))
	midLen := len(tsb) + 1 + innerLen + 1 + macLen
	total := len(k.id) + 1 + b64url.EncodedLen(midLen)
	if c.cookiesFor(total) == 0 {
		return sealOut{}, &sessionError{kind: ErrTooLarge, reason: fmt.Sprintf("cookie would be %d bytes, limit %d", len(c.name)+1+total, c.capacity())}
	}

	// Scratch layout after the payload: iv||ciphertext, then ts|inner|mac.
	start := len(payload)
	buf := grow(payload, aesBlock+len(payload)+midLen+ctrScratch)
	*bp = buf
	payload = buf[:start]
	ivct := buf[start : start+aesBlock+len(payload)]
	iv := ivct[:aesBlock]
	if err := c.readIV(iv); err != nil {
		return sealOut{}, fmt.Errorf("cookiesession: reading IV: %w", err)
	}
	xorCTR(k.block, iv, ivct[aesBlock:], payload, buf[len(buf)-ctrScratch:])

	mid := buf[start+len(ivct) : start+len(ivct)+midLen]
	n := copy(mid, tsb)
	mid[n] = '|'
	n++
	b64url.Encode(mid[n:], ivct)
	n += innerLen
	h := k.mac()
	h.Write(c.namePipe)
	h.Write(mid[:n])
	mid[n] = '|'
	h.Sum(mid[:n+1])
	k.putMAC(h)

	var tail cookieTail
	size := total
	if lineName != "" {
		tail = c.tail(maxAge)
		size += len(lineName) + 1 + tail.len()
	}
	out := make([]byte, 0, size)
	if lineName != "" {
		out = append(append(out, lineName...), '=')
	}
	at := len(out)
	out = append(append(out, k.id...), '.')
	out = out[:at+total]
	b64url.Encode(out[at+len(k.id)+1:], mid)
	if lineName != "" {
		out = tail.appendTo(out)
	}
	return sealOut{line: bytesString(out), start: at, end: at + total, maxAge: maxAge}, nil
}

// bytesString returns b as a string without copying it. b must never be
// written again, as with strings.Builder.
func bytesString(b []byte) string { return unsafe.String(unsafe.SliceData(b), len(b)) }

// unseal verifies and decrypts the securecookie part of a value with k's
// keys or, if their MAC fails and v1 is not nil, with v1's (then legacy is
// true). The plaintext it returns lies in *bp, scratch space: whatever is
// kept must be copied out.
func unseal(k *sealKey, namePipe []byte, value string, bp *[]byte, v1 *sealKey) (plain []byte, legacy bool, err error) {
	// Scratch: the value's decoding (mid), and the decoding of mid's inner
	// part, shorter than mid. The value itself is only read, in place.
	n := len(value)
	buf := grow((*bp)[:0], 2*b64url.DecodedLen(n)+ctrScratch)
	*bp = buf
	src := unsafe.Slice(unsafe.StringData(value), n) // read-only: base64 never writes its source
	mid, err := decodeStrict(buf[:0], src)
	if err != nil {
		return nil, false, invalid("value is not canonical base64", err)
	}
	// mid is "timestamp|base64(iv||ciphertext)|mac"; the MAC may hold any
	// byte, so it is found by its length, not by a separator.
	if len(mid) < macLen+4 {
		return nil, false, invalid("value too short", nil)
	}
	mac := mid[len(mid)-macLen:]
	signed := mid[:len(mid)-macLen-1]
	if mid[len(mid)-macLen-1] != '|' {
		return nil, false, invalid("malformed value", nil)
	}
	bar := indexByte(signed, '|')
	if bar < 0 {
		return nil, false, invalid("malformed value", nil)
	}
	// The MAC is summed into the CTR scratch at the end of buf, unused
	// until decryption: a local array would escape through hash.Hash.
	scratch := buf[len(buf)-ctrScratch:]
	if !verifyMAC(k, namePipe, signed, mac, scratch) {
		if v1 == nil || !verifyMAC(v1, namePipe, signed, mac, scratch) {
			return nil, false, invalid("MAC does not verify (tampered, another cookie name, or another key)", nil)
		}
		k, legacy = v1, true
	}
	if !canonicalTimestamp(signed[:bar]) {
		return nil, false, invalid("malformed timestamp", nil)
	}
	inner := signed[bar+1:]
	ivct, err := decodeStrict(mid[len(mid):len(mid)], inner)
	if err != nil {
		return nil, false, invalid("ciphertext is not canonical base64", err)
	}
	if len(ivct) <= aesBlock {
		return nil, false, invalid("ciphertext too short", nil)
	}
	plain = ivct[aesBlock:]
	xorCTR(k.block, ivct[:aesBlock], plain, plain, scratch) // in place
	return plain, legacy, nil
}

// verifyMAC reports, in constant time, whether mac is k's HMAC of
// namePipe || signed. scratch receives the computed MAC.
func verifyMAC(k *sealKey, namePipe, signed, mac, scratch []byte) bool {
	h := k.mac()
	h.Write(namePipe)
	h.Write(signed)
	ok := hmac.Equal(h.Sum(scratch[:0]), mac)
	k.putMAC(h)
	return ok
}

const (
	aesBlock = 16
	macLen   = 32
)

// ctrScratch is the longest input xorCTR encrypts block by block.
const ctrScratch = 256

// xorCTR sets dst to src XOR the AES-CTR keystream of block from iv,
// exactly as cipher.NewCTR(block, iv).XORKeyStream(dst, src) does (the
// counter is the whole 16-byte IV, big-endian). For inputs of up to
// ctrScratch bytes it builds the keystream itself in scratch: the standard
// library's CTR copies the cipher's whole key schedule into a new 512-byte
// object on every call, which costs more than the few blocks a cookie
// holds. TestXORCTR checks it against cipher.NewCTR.
func xorCTR(block cipher.Block, iv, dst, src, scratch []byte) {
	if len(src) > ctrScratch || len(scratch) < ctrScratch {
		cipher.NewCTR(block, iv).XORKeyStream(dst, src)
		return
	}
	ks := scratch[:(len(src)+aesBlock-1)/aesBlock*aesBlock]
	hi := binary.BigEndian.Uint64(iv[:8])
	lo := binary.BigEndian.Uint64(iv[8:aesBlock])
	for i := 0; i < len(ks); i += aesBlock {
		binary.BigEndian.PutUint64(ks[i:], hi)
		binary.BigEndian.PutUint64(ks[i+8:], lo)
		block.Encrypt(ks[i:i+aesBlock], ks[i:i+aesBlock])
		if lo++; lo == 0 {
			hi++
		}
	}
	subtle.XORBytes(dst, src, ks)
}

// errNotCanonical is decodeStrict's refusal of anything else than the one
// encoding of some bytes.
var errNotCanonical = errors.New("not canonical padded base64url")

// decodeStrict decodes canonical padded base64url into dst (appending; dst
// may be nil to allocate). Unlike the base64 package alone, it rejects
// line breaks (which that package skips) and non-zero padding bits, so each
// byte string has exactly one encoding.
func decodeStrict(dst, src []byte) ([]byte, error) {
	if len(src)%4 != 0 {
		return nil, errors.New("length is not a multiple of 4")
	}
	start := len(dst)
	dst = grow(dst, b64url.DecodedLen(len(src)))
	n, ok := b64url.Decode(dst[start:], src)
	if !ok {
		return nil, errNotCanonical
	}
	return dst[start : start+n], nil
}

// canonicalTimestamp reports whether p is a positive decimal integer with no
// sign and no leading zero, as securecookie writes it.
func canonicalTimestamp(p []byte) bool {
	if len(p) == 0 || len(p) > 19 || p[0] == '0' {
		return false
	}
	for _, c := range p {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

func indexByte(p []byte, c byte) int {
	for i, x := range p {
		if x == c {
			return i
		}
	}
	return -1
}

// grow returns b extended to length len(b)+n, reallocating if needed.
func grow(b []byte, n int) []byte {
	if cap(b)-len(b) >= n {
		return b[:len(b)+n]
	}
	nb := make([]byte, len(b)+n, (len(b)+n)*5/4)
	copy(nb, b)
	return nb
}

func (c *Codec) getBuf() *[]byte {
	if bp, ok := c.bufs.Get().(*[]byte); ok {
		return bp
	}
	b := make([]byte, 0, 2048)
	return &b
}

func (c *Codec) readIV(iv []byte) error {
	if c.rand != nil {
		_, err := io.ReadFull(c.rand, iv)
		return err
	}
	rand.Read(iv) // never fails since Go 1.24
	return nil
}

// largestValues gives the sizes of the three biggest entries, to say how
// the session grew. It names no key: key names can be user data, and the
// middleware logs the error.
func largestValues(s *Session) string {
	sizes := make([]int, 0, len(s.entries))
	for i := range s.entries {
		e := &s.entries[i]
		sizes = append(sizes, len(e.key)+len(e.raw))
	}
	if len(sizes) == 0 {
		return ""
	}
	sort.Sort(sort.Reverse(sort.IntSlice(sizes)))
	var b strings.Builder
	fmt.Fprintf(&b, "; largest entries (key and value, of %d):", len(sizes))
	for i, n := range sizes[:min(3, len(sizes))] {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, " %d", n)
	}
	b.WriteString(" B of msgpack")
	return b.String()
}

// errZeroCodec is what a Codec that NewCodec did not make answers with.
var errZeroCodec = errors.New("cookiesession: zero or nil Codec: make one with NewCodec")

// usable reports errZeroCodec for a nil or zero Codec, which has no keys.
func (c *Codec) usable() error {
	if c == nil || c.keys == nil {
		return errZeroCodec
	}
	return nil
}

// mustBeUsable panics with a clear message where a zero Codec is a wiring
// mistake that no error return can carry (New, Load, Middleware).
func (c *Codec) mustBeUsable(method string) {
	if c.usable() != nil {
		panic("cookiesession: Codec." + method + " of a zero or nil Codec: make one with NewCodec")
	}
}
