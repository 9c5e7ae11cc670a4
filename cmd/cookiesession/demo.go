package main

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"embed"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"html/template"
	"log/slog"
	"math/big"
	"net"
	"net/http"
	"os/signal"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/cookiesession/cookiesession"
)

//go:embed templates
var templateFS embed.FS

// Demo limits.
const (
	smsCodeTTL   = 5 * time.Minute
	smsMaxTries  = 5
	demoMaxKeys  = 3                // keys kept in the ring after rotations
	maxFormBytes = 16 << 10         // request bodies
	maxExpiry    = 10 * 365 * 86400 // seconds accepted by the expiry form
)

// Session keys the demo uses.
const (
	keyUser     = "user"
	keySMSCode  = "sms_code"
	keySMSPhone = "sms_phone"
)

// demo runs the demo web app until SIGINT or SIGTERM.
func demo(args []string, e env) error {
	fs := flag.NewFlagSet("demo", flag.ContinueOnError)
	addr := fs.String("addr", "127.0.0.1:8080", "address to listen on")
	redisAddr := fs.String("redis", "", "keep the guard in the Redis at this host:port instead of in memory")
	rest, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(rest) > 0 {
		return usagef("demo: unexpected argument %q", rest[0])
	}

	// A throwaway key: generated here, never printed or stored, so a
	// restart logs everyone out. Real applications read theirs from the
	// environment (cookiesession keygen).
	key, err := cookiesession.GenerateKey(newKeyID())
	if err != nil {
		return err
	}
	keys, err := cookiesession.NewKeyring(key)
	if err != nil {
		return err
	}
	logger := slog.New(slog.NewTextHandler(e.stderr, nil))
	// The guard remembers what a replayed cookie must not undo: spent
	// codes, attempt counts, revoked session IDs.
	guard, guardName, closeGuard, err := demoGuard(*redisAddr)
	if err != nil {
		return err
	}
	defer closeGuard()
	codec, err := cookiesession.NewCodec(cookiesession.Config{
		Keys: keys,
		// The demo serves plain HTTP on localhost, where a Secure cookie
		// would never be sent back (browsers only relax that for
		// "localhost", not for 127.0.0.1). Never set Insecure behind a
		// real domain: without Secure the cookie travels in clear text.
		Insecure: true,
		// SameSite=Lax (the library's default, said out loud): browsers
		// do not send the cookie on cross-site POSTs. The CSRF tokens in
		// every form (codec.CSRF) also cover same-site neighbours and
		// browsers that ignore SameSite.
		SameSite: http.SameSiteLaxMode,
		Logger:   logger,
		Guard:    guard,
	})
	if err != nil {
		return err
	}

	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return fmt.Errorf("cookiesession: demo: %w", err)
	}
	srv := &http.Server{
		Handler:           newDemo(codec, keys, time.Now),
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       10 * time.Second,
		WriteTimeout:      10 * time.Second,
		IdleTimeout:       time.Minute,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelError),
	}
	fmt.Fprintf(e.stdout, "cookiesession demo: generated a throwaway key %q at start-up (not saved: restarting logs everyone out)\n", key.ID)
	fmt.Fprintf(e.stdout, "cookiesession demo: one-time codes, attempt limits and logouts held by the %s\n", guardName)
	fmt.Fprintf(e.stdout, "cookiesession demo: listening on http://%s/ (plain HTTP, cookies without Secure; Ctrl-C stops)\n", ln.Addr())
	if host, _, _ := net.SplitHostPort(ln.Addr().String()); !net.ParseIP(host).IsLoopback() {
		fmt.Fprintf(e.stderr, "cookiesession demo: warning: %s is not a loopback address; session cookies cross the network unencrypted\n", host)
	}

	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	select {
	case err := <-served:
		return fmt.Errorf("cookiesession: demo: %w", err)
	case <-ctx.Done():
	}
	fmt.Fprintln(e.stdout, "cookiesession demo: shutting down")
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		return fmt.Errorf("cookiesession: demo: shutdown: %w", err)
	}
	return nil
}

// newKeyID returns a fresh key ID such as "demo-3fa2c1".
func newKeyID() string {
	var b [3]byte
	rand.Read(b[:]) // never fails since Go 1.24
	return "demo-" + hex.EncodeToString(b[:])
}

// demoApp is the demo's handler state. Everything about a visitor lives in
// their cookie; the app holds only the codec (with its Guard: the spent
// codes, attempt counts and revoked IDs), the keyring and the templates.
type demoApp struct {
	codec    *cookiesession.Codec
	keys     *cookiesession.Keyring
	now      func() time.Time
	index    *template.Template
	session  *template.Template
	css      template.CSS
	csp      string
	rotateMu sync.Mutex
}

// newDemo returns the demo's handler, wrapped in codec's Middleware. now
// must be the clock codec uses (Config.Now); keys must be codec's keyring:
// the rotate form rotates it.
func newDemo(codec *cookiesession.Codec, keys *cookiesession.Keyring, now func() time.Time) http.Handler {
	css, err := templateFS.ReadFile("templates/style.css")
	if err != nil {
		panic(err)
	}
	sum := sha256.Sum256(css)
	a := &demoApp{
		codec:   codec,
		keys:    keys,
		now:     now,
		index:   template.Must(template.ParseFS(templateFS, "templates/layout.html", "templates/index.html")),
		session: template.Must(template.ParseFS(templateFS, "templates/layout.html", "templates/session.html")),
		css:     template.CSS(css),
		// No script at all; the one style block is allowed by its hash.
		csp: "default-src 'none'; style-src 'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) +
			"'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", a.handleIndex)
	mux.HandleFunc("POST /sms/send", a.handleSend)
	mux.HandleFunc("POST /sms/check", a.handleCheck)
	mux.HandleFunc("GET /session", a.handleSession)
	mux.HandleFunc("POST /session/set", a.handleSet)
	mux.HandleFunc("POST /session/delete", a.handleDelete)
	mux.HandleFunc("POST /session/clear", a.handleClear)
	mux.HandleFunc("POST /session/flush", a.handleFlush)
	mux.HandleFunc("POST /session/expiry", a.handleExpiry)
	mux.HandleFunc("POST /session/rotate", a.handleRotate)
	return a.headers(codec.Middleware(codec.CSRF(mux)))
}

// headers sets the demo's security headers and bounds request bodies.
func (a *demoApp) headers(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", a.csp)
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")
		r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
		next.ServeHTTP(w, r)
	})
}

// page is what the templates render.
type page struct {
	Title   string
	CSS     template.CSS
	User    string
	Flashes []string
	CSRF    string // the token every form posts back

	// index
	Phone       string
	Code        string
	CodeExpires string

	// session
	Rows         []row
	ID           string
	KeyID        string
	Created      string
	Policy       string
	ExpiryDate   string
	Deadline     string
	BrowserClose bool
	CookieSize   int
	CookieLimit  int
	CookieRoom   int
	Primary      string
	KeyIDs       []string
}

type row struct{ Key, Value, Deadline string }

// newPage fills what every page shows. It takes the flash messages, which
// removes them from the session, and a CSRF token for the page's forms,
// which gives a session without one its CSRF secret.
func (a *demoApp) newPage(s *cookiesession.Session, title string) *page {
	p := &page{Title: title, CSS: a.css, User: cookiesession.GetOr(s, keyUser, ""), CSRF: s.CSRFToken()}
	for _, f := range s.Flashes() {
		p.Flashes = append(p.Flashes, fmt.Sprint(f))
	}
	return p
}

func (a *demoApp) render(w http.ResponseWriter, t *template.Template, p *page) {
	var b strings.Builder
	if err := t.ExecuteTemplate(&b, "layout", p); err != nil {
		http.Error(w, "template: "+err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	_, _ = w.Write([]byte(b.String()))
}

// redirect ends a POST: Post/Redirect/Get. The session is saved as the
// redirect's headers go out, so every change must come before it.
func redirect(w http.ResponseWriter, r *http.Request, to string) {
	http.Redirect(w, r, to, http.StatusSeeOther)
}

func (a *demoApp) formatTime(t time.Time) string {
	d := t.Sub(a.now()).Round(time.Second)
	when := "in " + d.String()
	if d < 0 {
		when = (-d).String() + " ago"
	}
	return t.UTC().Format(time.RFC3339) + " (" + when + ")"
}

func (a *demoApp) handleIndex(w http.ResponseWriter, r *http.Request) {
	s := cookiesession.FromContext(r.Context())
	p := a.newPage(s, "SMS login")
	if code, ok := cookiesession.Get[string](s, keySMSCode); ok {
		p.Code = code
		p.Phone = cookiesession.GetOr(s, keySMSPhone, "")
		if t, ok := s.KeyExpiry(keySMSCode); ok {
			p.CodeExpires = a.formatTime(t)
		}
	}
	a.render(w, a.index, p)
}

var phonePattern = regexp.MustCompile(`^\+?[0-9][0-9 ()-]{2,19}$`)

// handleSend "texts" a one-time code: it keeps the code (a one-time value:
// it logs in once, whichever copy of the cookie sends it) and the phone in
// the session for smsCodeTTL, and the index page shows the code in place of
// an SMS gateway.
func (a *demoApp) handleSend(w http.ResponseWriter, r *http.Request) {
	s := cookiesession.FromContext(r.Context())
	phone := strings.TrimSpace(r.PostFormValue("phone"))
	if !phonePattern.MatchString(phone) {
		s.AddFlash("Enter a phone number: digits, spaces, ( ) - and an optional leading +")
		redirect(w, r, "/")
		return
	}
	n, err := rand.Int(rand.Reader, big.NewInt(1_000_000))
	if err != nil {
		http.Error(w, "no randomness", http.StatusInternalServerError)
		return
	}
	s.SetOnce(keySMSCode, fmt.Sprintf("%06d", n.Int64()), smsCodeTTL)
	s.SetWithTTL(keySMSPhone, phone, smsCodeTTL)
	s.AddFlash("Code sent to " + phone)
	redirect(w, r, "/")
}

// handleCheck logs in with the right code, once.
//
// Nothing here trusts state the client could roll back by replaying an
// older cookie: the tries are counted, and the code is spent, in the codec's
// Guard. Every try counts, right or wrong, before the code is compared, so
// the try past the limit is refused unchecked. The count is per session ID
// and lasts smsCodeTTL from the first try, longer than the code lives.
func (a *demoApp) handleCheck(w http.ResponseWriter, r *http.Request) {
	s := cookiesession.FromContext(r.Context())
	entered := strings.TrimSpace(r.PostFormValue("code"))
	code, ok := cookiesession.Get[string](s, keySMSCode)
	if !ok {
		s.AddFlash("No code or code expired")
		redirect(w, r, "/")
		return
	}
	err := a.codec.Attempt(r.Context(), s, "sms", smsMaxTries, smsCodeTTL)
	switch {
	case errors.Is(err, cookiesession.ErrTooManyAttempts):
		s.SetOnce(keySMSCode, nil, 0) // removes the code and its nonce
		s.Delete(keySMSPhone)
		s.AddFlash("Too many wrong codes: wait a few minutes, then ask for a new one")
		redirect(w, r, "/")
		return
	case err != nil: // the guard is down: fail closed, keep the code
		s.AddFlash("Codes cannot be checked right now: try again shortly")
		redirect(w, r, "/")
		return
	}
	if subtle.ConstantTimeCompare([]byte(entered), []byte(code)) != 1 {
		s.AddFlash("Wrong code")
		redirect(w, r, "/")
		return
	}
	phone := cookiesession.GetOr(s, keySMSPhone, "")
	if _, err := cookiesession.TakeOnce[string](r.Context(), s, keySMSCode); err != nil {
		if errors.Is(err, cookiesession.ErrAlreadyUsed) {
			s.AddFlash("Code already used")
		} else {
			s.AddFlash("Codes cannot be checked right now: try again shortly")
		}
		redirect(w, r, "/")
		return
	}
	s.Delete(keySMSPhone)
	// A new session ID at login: any ID seen before is worthless, and the
	// guard revokes the old one, so the cookie from before login (with its
	// code) no longer opens.
	s.Renew()
	s.Set(keyUser, phone)
	s.AddFlash("Logged in")
	redirect(w, r, "/session")
}

// handleSession shows the session as the server sees it.
func (a *demoApp) handleSession(w http.ResponseWriter, r *http.Request) {
	s := cookiesession.FromContext(r.Context())
	p := a.newPage(s, "Session") // flashes first: the cookie measured below no longer carries them
	for _, k := range s.Keys() {
		if k == cookiesession.CSRFKey {
			continue // a page must show only masked tokens, never the secret
		}
		v, _ := s.Get(k)
		rw := row{Key: k, Value: displayValue(v)}
		if t, ok := s.KeyExpiry(k); ok {
			rw.Deadline = a.formatTime(t)
		}
		p.Rows = append(p.Rows, rw)
	}
	p.ID = s.ID()
	p.KeyID = s.KeyID()
	p.Created = a.formatTime(s.CreatedAt())
	p.Policy = s.ExpiryPolicy()
	p.ExpiryDate = a.formatTime(s.ExpiryDate())
	if d := s.Deadline(); !d.IsZero() {
		p.Deadline = a.formatTime(d)
	}
	p.BrowserClose = s.ExpiresAtBrowserClose()
	// What this response's cookie takes (the flashes above are gone from
	// it), measured without sealing. The codec's MaxLength is not
	// observable; the demo uses the default.
	p.CookieSize = s.Size()
	p.CookieLimit = cookiesession.DefaultMaxLength
	p.CookieRoom = s.Room()
	p.KeyIDs = a.keys.IDs()
	p.Primary = a.keys.PrimaryID()
	a.render(w, a.session, p)
}

// displayValue shows a value: strings as they are, anything else as JSON
// (with its Go type, which is what msgpack gave back).
func displayValue(v any) string {
	if s, ok := v.(string); ok {
		return s
	}
	b, err := json.Marshal(jsonable(v))
	if err != nil {
		return fmt.Sprintf("%v", v)
	}
	return fmt.Sprintf("%s (%T)", b, v)
}

func (a *demoApp) handleSet(w http.ResponseWriter, r *http.Request) {
	s := cookiesession.FromContext(r.Context())
	key := strings.TrimSpace(r.PostFormValue("key"))
	value := r.PostFormValue("value")
	if key == "" || key == cookiesession.CSRFKey {
		s.AddFlash("Key must not be empty or " + cookiesession.CSRFKey)
		redirect(w, r, "/session")
		return
	}
	prev, had := s.Get(key)
	prevDeadline, hadTTL := s.KeyExpiry(key)
	s.Set(key, value)
	// The flash rides in the same cookie, so it must fit too.
	s.AddFlash(fmt.Sprintf("Set %q", key))
	room := s.Room()
	if room >= 0 {
		redirect(w, r, "/session")
		return
	}
	// Too large: take back the flash and the value, so that what the
	// cookie held survives.
	flashes := s.Flashes()
	for _, f := range flashes[:len(flashes)-1] {
		s.AddFlash(f)
	}
	switch {
	case !had:
		s.Delete(key)
	case hadTTL:
		s.SetWithTTL(key, prev, prevDeadline.Sub(a.now()))
	default:
		s.Set(key, prev)
	}
	s.AddFlash(fmt.Sprintf("Not set: %v: %d bytes over the cookie limit", cookiesession.ErrTooLarge, -room))
	redirect(w, r, "/session")
}

func (a *demoApp) handleDelete(w http.ResponseWriter, r *http.Request) {
	s := cookiesession.FromContext(r.Context())
	key := strings.TrimSpace(r.PostFormValue("key"))
	if !s.Has(key) {
		s.AddFlash(fmt.Sprintf("No key %q", key))
	} else {
		s.Delete(key)
		s.AddFlash(fmt.Sprintf("Deleted %q", key))
	}
	redirect(w, r, "/session")
}

func (a *demoApp) handleClear(w http.ResponseWriter, r *http.Request) {
	s := cookiesession.FromContext(r.Context())
	s.Clear()
	s.AddFlash("Cleared: data gone, same session ID and expiry policy")
	redirect(w, r, "/session")
}

func (a *demoApp) handleFlush(w http.ResponseWriter, r *http.Request) {
	s := cookiesession.FromContext(r.Context())
	s.Flush()
	// The flash rides in a new, otherwise empty session; once shown, the
	// session is empty and its cookie is deleted.
	s.AddFlash("Logged out: session flushed")
	redirect(w, r, "/")
}

func (a *demoApp) handleExpiry(w http.ResponseWriter, r *http.Request) {
	s := cookiesession.FromContext(r.Context())
	text := strings.TrimSpace(r.PostFormValue("seconds"))
	if text == "" {
		s.ResetExpiry()
		s.AddFlash("Expiry: default")
		redirect(w, r, "/session")
		return
	}
	n, err := strconv.ParseInt(text, 10, 64)
	switch {
	case err != nil || n < 0 || n > maxExpiry:
		s.AddFlash(fmt.Sprintf("Seconds must be a whole number from 0 to %d, or empty for the default", maxExpiry))
	case n == 0:
		s.SetExpiry(0)
		s.AddFlash("Expiry: when the browser closes")
	default:
		s.SetExpiry(time.Duration(n) * time.Second)
		s.AddFlash(fmt.Sprintf("Expiry: after %v without activity", time.Duration(n)*time.Second))
	}
	redirect(w, r, "/session")
}

// handleRotate makes a new key the keyring's primary. This response already
// reseals the visitor's session with it (the Middleware reseals a session
// opened with a key that is no longer the primary); other visitors move
// over on their next request. The ring keeps demoMaxKeys keys: older ones
// are retired, and cookies they sealed stop opening.
func (a *demoApp) handleRotate(w http.ResponseWriter, r *http.Request) {
	s := cookiesession.FromContext(r.Context())
	a.rotateMu.Lock()
	err := a.rotate()
	a.rotateMu.Unlock()
	if err != nil {
		s.AddFlash("Rotation failed: " + err.Error())
	} else {
		s.AddFlash("Rotated: new cookies are sealed with " + a.keys.PrimaryID())
	}
	redirect(w, r, "/session")
}

func (a *demoApp) rotate() error {
	k, err := cookiesession.GenerateKey(newKeyID())
	if err != nil {
		return err
	}
	if err := a.keys.Rotate(k); err != nil {
		return err
	}
	for ids := a.keys.IDs(); len(ids) > demoMaxKeys; ids = ids[:len(ids)-1] {
		if err := a.keys.Retire(ids[len(ids)-1]); err != nil {
			return err
		}
	}
	return nil
}
