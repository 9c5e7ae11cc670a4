// Package gorillamigrate moves users from gorilla/sessions' CookieStore to
// cookiesession without logging them out.
//
// A Migrator's middleware, placed inside Codec.Middleware, opens a request's
// legacy gorilla/sessions cookie with the application's old keys (the
// securecookie hash and block keys given to sessions.NewCookieStore) and, if
// the request has no cookiesession session yet, copies the legacy values and
// flash messages into the new session. The response then carries the new
// session's cookie and deletes the legacy one, so from the next request on
// the user holds only the new cookie. Once every active user has been seen,
// or the legacy cookies' Max-Age has passed, remove the Migrator and the old
// keys.
//
// The legacy values are gob-decoded, so the types the application
// registered with gob.Register must still be registered in the process that
// migrates.
package gorillamigrate

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"

	"github.com/cookiesession/cookiesession"
	"github.com/gorilla/sessions"
)

// A Migrator copies legacy gorilla/sessions CookieStore sessions into
// cookiesession sessions. It is safe for concurrent use by multiple
// goroutines once made: nothing in it changes.
type Migrator struct {
	codec    *cookiesession.Codec
	store    *sessions.CookieStore
	name     string
	deletion string // the Set-Cookie line that deletes the legacy cookie
	logger   *slog.Logger
	// flashKeys are the legacy keys that hold named flash categories
	// (WithFlashCategories); never changed once the Migrator is made.
	flashKeys map[string]bool
}

// New returns a Migrator for legacy cookies named legacyName that a
// sessions.NewCookieStore(keyPairs...) made with gorilla's default options
// (Path "/", Max-Age 30 days, Secure). An application that changed its
// store's Options or Codecs uses NewFromStore with that store instead.
func New(codec *cookiesession.Codec, legacyName string, keyPairs ...[]byte) (*Migrator, error) {
	if len(keyPairs) == 0 {
		return nil, errors.New("gorillamigrate: no keys: pass the hash (and block) keys the legacy store used")
	}
	return NewFromStore(codec, sessions.NewCookieStore(keyPairs...), legacyName)
}

// NewFromStore returns a Migrator that reads legacy cookies named
// legacyName exactly as store does (its Codecs, with their keys, Max-Age
// and serializer) and deletes them with store's Path, Domain and Secure
// options. The Migrator keeps store: do not change it afterwards.
func NewFromStore(codec *cookiesession.Codec, store *sessions.CookieStore, legacyName string) (*Migrator, error) {
	switch {
	case codec == nil:
		return nil, errors.New("gorillamigrate: nil *cookiesession.Codec")
	case store == nil || len(store.Codecs) == 0:
		return nil, errors.New("gorillamigrate: the legacy store has no codecs: pass the keys it used")
	case legacyName == "":
		return nil, errors.New("gorillamigrate: empty legacy cookie name")
	}
	// securecookie reports bad keys only when it is used: find out now,
	// not on every request.
	for i, c := range store.Codecs {
		if _, err := c.Encode(legacyName, map[any]any{}); err != nil {
			return nil, fmt.Errorf("gorillamigrate: legacy key pair %d: %w", i+1, err)
		}
	}
	opts := sessions.Options{Path: "/"}
	if store.Options != nil {
		opts = *store.Options
	}
	deletion := &http.Cookie{Name: legacyName, Path: opts.Path, Domain: opts.Domain, MaxAge: -1, Secure: opts.Secure, HttpOnly: true}
	return &Migrator{
		codec:    codec,
		store:    store,
		name:     legacyName,
		deletion: deletion.String(),
		logger:   slog.Default(),
	}, nil
}

// WithLogger returns a copy of m that logs to l instead of slog.Default().
// The log says what was migrated or why a legacy cookie did not open, by
// cookie name and counts, never with values.
func (m *Migrator) WithLogger(l *slog.Logger) *Migrator {
	c := *m
	c.logger = l
	return &c
}

// WithFlashCategories returns a copy of m that also moves the legacy flash
// messages of the named categories: gorilla/sessions keeps those added
// with AddFlash(value, category) under the key category, as a []any, and
// each becomes a flash of the same category in the new session
// (Session.FlashesFrom(category)). Without it, such a key is copied as an
// ordinary value, since nothing tells it from a []any the application
// stored itself. The default category (gorilla's "_flash") always moves
// into the new session's default one (Session.Flashes).
func (m *Migrator) WithFlashCategories(categories ...string) *Migrator {
	c := *m
	c.flashKeys = make(map[string]bool, len(m.flashKeys)+len(categories))
	for k := range m.flashKeys {
		c.flashKeys[k] = true
	}
	for _, k := range categories {
		c.flashKeys[k] = true
	}
	return &c
}

// Middleware returns a handler that migrates the request's legacy session,
// if any, before next runs. It must be placed inside m's Codec.Middleware
// (codec.Middleware(m.Middleware(next))): it reaches the new session with
// cookiesession.FromContext, which panics otherwise.
//
// On a request carrying the legacy cookie:
//   - if the new session already holds data, the legacy cookie is deleted
//     unread: the new session wins;
//   - otherwise, if the legacy cookie opens, its string-keyed values are
//     copied into the new session (values msgpack cannot encode, and
//     non-string keys, are left out and counted in the log), its flash
//     messages (gorilla's "_flash" key, and the categories named with
//     WithFlashCategories) become the new session's, and the legacy
//     cookie is deleted;
//   - if it does not open (tampered, expired, keys rotated out, or a gob type
//     no longer registered), it is left alone and the reason logged: a
//     configuration mistake must not wipe every user's legacy session.
//
// The legacy cookie is deleted on the same response that saves the new
// session, and like cookiesession's own changes only if its status is
// below 500: a failed request leaves both as they were. A legacy session
// too large for the new cookie is not migrated, and its cookie is kept.
// A legacy cookie may have the new cookie's name: the new cookie then
// replaces it, and the codec logs it once as a cookie it could not open.
func (m *Migrator) Middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s := cookiesession.FromContext(r.Context()) // a wiring mistake shows on the first request
		if _, err := r.Cookie(m.name); err != nil {
			next.ServeHTTP(w, r)
			return
		}
		if !m.migrate(r, s) {
			next.ServeHTTP(w, r)
			return
		}
		lw := &legacyWriter{ResponseWriter: w, deletion: m.deletion}
		// A legacy cookie with the new cookie's name is replaced by the
		// new cookie itself: a deletion line would race it.
		lw.done = m.name == m.codec.Name()
		next.ServeHTTP(lw, r)
		lw.commit(http.StatusOK)
	})
}

// migrate copies the request's legacy session into s if s is empty, and
// reports whether the legacy cookie should be deleted.
func (m *Migrator) migrate(r *http.Request, s *cookiesession.Session) bool {
	if s.Len() > 0 {
		return true
	}
	legacy, err := m.store.New(r, m.name)
	if err != nil {
		m.logger.LogAttrs(r.Context(), slog.LevelWarn, "gorillamigrate: legacy session cookie does not open; kept",
			slog.String("cookie", m.name), slog.String("error", err.Error()))
		return false
	}
	c := convert(legacy.Values, m.flashKeys)
	// Try the values on a scratch session first: one that would not fit
	// in the new cookie must not replace the legacy one.
	scratch := m.codec.New()
	c.apply(scratch)
	if _, err := m.codec.Encode(scratch); err != nil {
		m.logger.LogAttrs(r.Context(), slog.LevelError, "gorillamigrate: legacy session does not fit the new cookie; kept",
			slog.String("cookie", m.name), slog.String("error", err.Error()))
		return false
	}
	c.apply(s)
	attrs := []slog.Attr{slog.String("cookie", m.name), slog.Int("values", len(c.values)), slog.Int("flashes", len(c.flashes))}
	if c.nonStringKeys > 0 {
		attrs = append(attrs, slog.Int("skipped_non_string_keys", c.nonStringKeys))
	}
	if len(c.unencodable) > 0 {
		attrs = append(attrs, slog.Any("skipped_unencodable_keys", c.unencodable))
	}
	m.logger.LogAttrs(r.Context(), slog.LevelInfo, "gorillamigrate: legacy session migrated", attrs...)
	return true
}
