package gorillamigrate_test

import (
	"bytes"
	"crypto/rand"
	"encoding/gob"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/cookiesession/cookiesession"
	"github.com/cookiesession/cookiesession/gorillamigrate"
	"github.com/gorilla/sessions"
)

// Types the legacy application registered with gob, as gorilla/sessions
// requires for values stored in an interface.
type Profile struct {
	Name  string
	Age   int
	Tags  []string
	Since time.Time
}

type Flash struct {
	Level string
	Text  string
}

func init() {
	gob.Register(Profile{})
	gob.Register(Flash{})
	gob.Register(time.Time{})
	gob.Register(map[string]any{})
	gob.Register(map[any]any{})
	gob.Register([]any{})
}

const legacyName = "legacy-session"

// legacyKeys are the hash and block keys of the legacy CookieStore.
type legacyKeys struct{ hash, block []byte }

func newLegacyKeys(t *testing.T) legacyKeys {
	t.Helper()
	k := legacyKeys{make([]byte, 32), make([]byte, 32)}
	rand.Read(k.hash)
	rand.Read(k.block)
	return k
}

// legacyCookie returns the cookie the real gorilla/sessions CookieStore
// sets for a session filled by fill, through a real handler.
func legacyCookie(t *testing.T, store *sessions.CookieStore, name string, fill func(*sessions.Session)) *http.Cookie {
	t.Helper()
	rec := httptest.NewRecorder()
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s, err := store.Get(r, name)
		if err != nil {
			t.Errorf("store.Get: %v", err)
		}
		fill(s)
		if err := s.Save(r, w); err != nil {
			t.Errorf("Save: %v", err)
		}
	})
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
	for _, ck := range rec.Result().Cookies() {
		if ck.Name == name && ck.Value != "" {
			return &http.Cookie{Name: ck.Name, Value: ck.Value}
		}
	}
	t.Fatalf("gorilla/sessions set no %s cookie: %v", name, rec.Header())
	return nil
}

var since = time.Date(2020, 5, 6, 7, 8, 9, 0, time.UTC)

// fillLegacy stores what a typical gorilla/sessions application keeps.
func fillLegacy(s *sessions.Session) {
	s.Values["user"] = "ada"
	s.Values["user_id"] = 42
	s.Values["admin"] = true
	s.Values["profile"] = Profile{Name: "Ada", Age: 36, Tags: []string{"math", "engines"}, Since: since}
	s.Values["prefs"] = map[any]any{"theme": "dark", "size": 3}
	s.Values["seen"] = since
	s.Values[7] = "a non-string key"
	s.AddFlash("welcome back")
	s.AddFlash(Flash{Level: "info", Text: "saved"})
}

// newCodec returns a cookiesession codec with a fresh key.
func newCodec(t *testing.T, cfg cookiesession.Config) *cookiesession.Codec {
	t.Helper()
	k, err := cookiesession.GenerateKey("k1")
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Keys, err = cookiesession.NewKeyring(k); err != nil {
		t.Fatal(err)
	}
	c, err := cookiesession.NewCodec(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// logBuf collects a Migrator's log.
type logBuf struct{ bytes.Buffer }

func (l *logBuf) logger() *slog.Logger { return slog.New(slog.NewJSONHandler(&l.Buffer, nil)) }

// serve sends one request with cookies through codec.Middleware(m.Middleware(app)).
func serve(t *testing.T, codec *cookiesession.Codec, m *gorillamigrate.Migrator, app http.HandlerFunc, cookies ...*http.Cookie) *http.Response {
	t.Helper()
	req := httptest.NewRequest("GET", "/", nil)
	for _, ck := range cookies {
		req.AddCookie(ck)
	}
	rec := httptest.NewRecorder()
	codec.Middleware(m.Middleware(app)).ServeHTTP(rec, req)
	return rec.Result()
}

// setCookie returns the response's Set-Cookie for name, or nil.
func setCookie(resp *http.Response, name string) *http.Cookie {
	for _, ck := range resp.Cookies() {
		if ck.Name == name {
			return ck
		}
	}
	return nil
}

func wantLegacyDeleted(t *testing.T, resp *http.Response) {
	t.Helper()
	ck := setCookie(resp, legacyName)
	if ck == nil || ck.Value != "" || ck.MaxAge >= 0 || ck.Path != "/" {
		t.Errorf("legacy cookie not deleted: %v", resp.Header["Set-Cookie"])
	}
}

func wantLegacyKept(t *testing.T, resp *http.Response) {
	t.Helper()
	if ck := setCookie(resp, legacyName); ck != nil {
		t.Errorf("legacy cookie touched: %v", resp.Header["Set-Cookie"])
	}
}

// newSession returns the new session cookie the response set.
func newSession(t *testing.T, codec *cookiesession.Codec, resp *http.Response) *http.Cookie {
	t.Helper()
	ck := setCookie(resp, codec.Name())
	if ck == nil || ck.Value == "" {
		t.Fatalf("no new session cookie set: %v", resp.Header["Set-Cookie"])
	}
	return &http.Cookie{Name: ck.Name, Value: ck.Value}
}

// checkMigrated checks s holds fillLegacy's string-keyed values.
func checkMigrated(t *testing.T, s *cookiesession.Session) {
	t.Helper()
	if v, _ := cookiesession.Get[string](s, "user"); v != "ada" {
		t.Errorf("user = %q", v)
	}
	if v, _ := cookiesession.Get[int](s, "user_id"); v != 42 {
		t.Errorf("user_id = %d", v)
	}
	if v, _ := cookiesession.Get[bool](s, "admin"); !v {
		t.Error("admin lost")
	}
	want := Profile{Name: "Ada", Age: 36, Tags: []string{"math", "engines"}, Since: since}
	if v, ok := cookiesession.Get[Profile](s, "profile"); !ok || !reflect.DeepEqual(v.Tags, want.Tags) || v.Name != want.Name || v.Age != want.Age || !v.Since.Equal(since) {
		t.Errorf("profile = %+v, %v; want %+v", v, ok, want)
	}
	if v, _ := cookiesession.Get[map[string]any](s, "prefs"); v["theme"] != "dark" {
		t.Errorf("prefs = %#v", v)
	}
	if v, ok := cookiesession.Get[time.Time](s, "seen"); !ok || !v.Equal(since) {
		t.Errorf("seen = %v, %v", v, ok)
	}
	if got := strings.Join(s.Keys(), ","); got != "admin,prefs,profile,seen,user,user_id" {
		t.Errorf("keys %s", got)
	}
}

func TestMigrate(t *testing.T) {
	keys := newLegacyKeys(t)
	legacy := legacyCookie(t, sessions.NewCookieStore(keys.hash, keys.block), legacyName, fillLegacy)
	codec := newCodec(t, cookiesession.Config{})
	var log logBuf
	m, err := gorillamigrate.New(codec, legacyName, keys.hash, keys.block)
	if err != nil {
		t.Fatal(err)
	}
	m = m.WithLogger(log.logger())

	var flashes []any
	resp := serve(t, codec, m, func(w http.ResponseWriter, r *http.Request) {
		s := cookiesession.FromContext(r.Context())
		checkMigrated(t, s)
		flashes = s.Flashes()
		s.AddFlash("still here") // the next request's flash
	}, legacy)
	if len(flashes) != 2 || flashes[0] != "welcome back" {
		t.Errorf("flashes in the migrating request = %#v", flashes)
	}
	if b, _ := json.Marshal(flashes[1]); !strings.Contains(string(b), `"Text":"saved"`) {
		t.Errorf("second flash = %s, want the Flash struct's fields", b)
	}
	wantLegacyDeleted(t, resp)
	fresh := newSession(t, codec, resp)

	// The log counts what was left out, never shows a value.
	for _, want := range []string{`"values":6`, `"flashes":2`, `"skipped_non_string_keys":1`, legacyName} {
		if !strings.Contains(log.String(), want) {
			t.Errorf("log %s lacks %s", log.String(), want)
		}
	}
	for _, secret := range []string{"ada", "Ada", "welcome", "non-string key"} {
		if strings.Contains(log.String(), secret) {
			t.Errorf("log shows a value (%q): %s", secret, log.String())
		}
	}

	// The new cookie opens on its own, with the values resealed.
	s, err := codec.DecodeCookies([]*http.Cookie{fresh})
	if err != nil {
		t.Fatal(err)
	}
	checkMigrated(t, s)
	if f := s.Flashes(); len(f) != 1 || f[0] != "still here" {
		t.Errorf("flashes after the round trip = %#v", f)
	}

	t.Run("old keys rotated out", func(t *testing.T) {
		// The application drops the old keys (here: a Migrator with
		// other keys). The legacy cookie no longer opens, and is left
		// alone; the new one still opens.
		var log logBuf
		rotated, err := gorillamigrate.New(codec, legacyName, newLegacyKeys(t).hash, newLegacyKeys(t).block)
		if err != nil {
			t.Fatal(err)
		}
		rotated = rotated.WithLogger(log.logger())
		resp := serve(t, codec, rotated, func(w http.ResponseWriter, r *http.Request) {
			if n := cookiesession.FromContext(r.Context()).Len(); n != 0 {
				t.Errorf("legacy cookie opened with rotated keys: %d values", n)
			}
		}, legacy)
		wantLegacyKept(t, resp)
		if !strings.Contains(log.String(), "does not open") {
			t.Errorf("log %s does not say the legacy cookie did not open", log.String())
		}
		resp = serve(t, codec, rotated, func(w http.ResponseWriter, r *http.Request) {
			checkMigrated(t, cookiesession.FromContext(r.Context()))
		}, fresh)
		wantLegacyKept(t, resp)
	})

	t.Run("both cookies: the new session wins", func(t *testing.T) {
		resp := serve(t, codec, m, func(w http.ResponseWriter, r *http.Request) {
			s := cookiesession.FromContext(r.Context())
			if f := s.Flashes(); len(f) != 1 || f[0] != "still here" {
				t.Errorf("flashes %#v: the legacy ones were merged in again", f)
			}
		}, fresh, legacy)
		wantLegacyDeleted(t, resp)
	})
}

// TestMigrateFromStore reads cookies of a store with its own options: a
// cookie path, no encryption (hash key only) and a short Max-Age.
func TestMigrateFromStore(t *testing.T) {
	keys := newLegacyKeys(t)
	store := sessions.NewCookieStore(keys.hash)
	store.Options.Path = "/app"
	store.MaxAge(3600)
	legacy := legacyCookie(t, store, legacyName, func(s *sessions.Session) { s.Values["user"] = "ada" })
	codec := newCodec(t, cookiesession.Config{})
	m, err := gorillamigrate.NewFromStore(codec, store, legacyName)
	if err != nil {
		t.Fatal(err)
	}
	m = m.WithLogger(slog.New(slog.NewTextHandler(io.Discard, nil)))
	resp := serve(t, codec, m, func(w http.ResponseWriter, r *http.Request) {
		if v, _ := cookiesession.Get[string](cookiesession.FromContext(r.Context()), "user"); v != "ada" {
			t.Errorf("user = %q", v)
		}
	}, legacy)
	if ck := setCookie(resp, legacyName); ck == nil || ck.Path != "/app" || ck.MaxAge >= 0 {
		t.Errorf("legacy cookie not deleted at its path: %v", resp.Header["Set-Cookie"])
	}
	newSession(t, codec, resp)
}

// TestMigrateSameName: a legacy cookie with the new cookie's name is
// replaced by the new cookie, with no deletion line to race it.
func TestMigrateSameName(t *testing.T) {
	keys := newLegacyKeys(t)
	// The codec sees the legacy cookie too, and logs it as not its own.
	codec := newCodec(t, cookiesession.Config{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	legacy := legacyCookie(t, sessions.NewCookieStore(keys.hash, keys.block), codec.Name(), fillLegacy)
	m, err := gorillamigrate.New(codec, codec.Name(), keys.hash, keys.block)
	if err != nil {
		t.Fatal(err)
	}
	m = m.WithLogger(slog.New(slog.NewTextHandler(io.Discard, nil)))
	resp := serve(t, codec, m, func(w http.ResponseWriter, r *http.Request) {
		checkMigrated(t, cookiesession.FromContext(r.Context()))
	}, legacy)
	if n := strings.Count(strings.Join(resp.Header["Set-Cookie"], "\n"), codec.Name()+"="); n != 1 {
		t.Errorf("%d Set-Cookie lines for %s, want 1: %v", n, codec.Name(), resp.Header["Set-Cookie"])
	}
	fresh := newSession(t, codec, resp)
	resp = serve(t, codec, m, func(w http.ResponseWriter, r *http.Request) {
		checkMigrated(t, cookiesession.FromContext(r.Context()))
	}, fresh)
	if ck := setCookie(resp, codec.Name()); ck != nil {
		t.Errorf("the migrated session was touched again: %v", resp.Header["Set-Cookie"])
	}
}

// TestMigrateResponses: the legacy cookie goes exactly when the new session
// is saved.
func TestMigrateResponses(t *testing.T) {
	keys := newLegacyKeys(t)
	legacy := legacyCookie(t, sessions.NewCookieStore(keys.hash, keys.block), legacyName, fillLegacy)
	codec := newCodec(t, cookiesession.Config{})
	m, err := gorillamigrate.New(codec, legacyName, keys.hash, keys.block)
	if err != nil {
		t.Fatal(err)
	}
	m = m.WithLogger(slog.New(slog.NewTextHandler(io.Discard, nil)))

	t.Run("5xx saves nothing, deletes nothing", func(t *testing.T) {
		resp := serve(t, codec, m, func(w http.ResponseWriter, r *http.Request) {
			http.Error(w, "boom", http.StatusInternalServerError)
		}, legacy)
		wantLegacyKept(t, resp)
		if ck := setCookie(resp, codec.Name()); ck != nil && ck.Value != "" {
			t.Errorf("a 5xx saved the new session: %v", resp.Header["Set-Cookie"])
		}
		// So the next request migrates again.
		resp = serve(t, codec, m, func(w http.ResponseWriter, r *http.Request) {
			checkMigrated(t, cookiesession.FromContext(r.Context()))
		}, legacy)
		wantLegacyDeleted(t, resp)
		newSession(t, codec, resp)
	})
	t.Run("logout in the migrating request", func(t *testing.T) {
		// The legacy cookie must go too, or the next request would log
		// the user back in.
		resp := serve(t, codec, m, func(w http.ResponseWriter, r *http.Request) {
			cookiesession.FromContext(r.Context()).Flush()
		}, legacy)
		wantLegacyDeleted(t, resp)
		if ck := setCookie(resp, codec.Name()); ck != nil && ck.Value != "" {
			t.Errorf("a flushed session was saved: %v", resp.Header["Set-Cookie"])
		}
	})
	t.Run("body written first", func(t *testing.T) {
		resp := serve(t, codec, m, func(w http.ResponseWriter, r *http.Request) {
			io.WriteString(w, "hello")
		}, legacy)
		wantLegacyDeleted(t, resp)
		newSession(t, codec, resp)
	})
	t.Run("flushed first", func(t *testing.T) {
		resp := serve(t, codec, m, func(w http.ResponseWriter, r *http.Request) {
			if err := http.NewResponseController(w).Flush(); err != nil {
				t.Errorf("Flush: %v", err)
			}
			io.WriteString(w, "hello")
		}, legacy)
		wantLegacyDeleted(t, resp)
		newSession(t, codec, resp)
	})
	t.Run("redirect", func(t *testing.T) {
		resp := serve(t, codec, m, func(w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, "/home", http.StatusSeeOther)
		}, legacy)
		wantLegacyDeleted(t, resp)
		newSession(t, codec, resp)
	})
	t.Run("no legacy cookie", func(t *testing.T) {
		resp := serve(t, codec, m, func(w http.ResponseWriter, r *http.Request) {}, &http.Cookie{Name: "other", Value: "x"})
		if len(resp.Header["Set-Cookie"]) != 0 {
			t.Errorf("Set-Cookie %v for a request without a session", resp.Header["Set-Cookie"])
		}
	})
}

// TestMigrateRefused: legacy cookies that must not be migrated are left
// alone and give an empty session.
func TestMigrateRefused(t *testing.T) {
	keys := newLegacyKeys(t)
	store := sessions.NewCookieStore(keys.hash, keys.block)
	legacy := legacyCookie(t, store, legacyName, fillLegacy)

	tampered := *legacy
	b := []byte(tampered.Value)
	b[len(b)/2] ^= 1
	tampered.Value = string(b)

	// Values too large for the new cookie (here limited to 1 KB), though
	// gorilla took them.
	big := make([]byte, 1000)
	rand.Read(big)
	tooLarge := legacyCookie(t, store, legacyName, func(s *sessions.Session) { s.Values["blob"] = big })
	small := newCodec(t, cookiesession.Config{MaxLength: 1024})

	expiredStore := sessions.NewCookieStore(keys.hash, keys.block)
	expiredStore.MaxAge(1)
	expired := legacyCookie(t, expiredStore, legacyName, func(s *sessions.Session) { s.Values["user"] = "ada" })

	codec := newCodec(t, cookiesession.Config{})
	tests := []struct {
		name   string
		cookie *http.Cookie
		store  *sessions.CookieStore
		codec  *cookiesession.Codec
		log    string
	}{
		{"tampered", &tampered, store, codec, "does not open"},
		{"too large for the new cookie", tooLarge, store, small, "does not fit"},
		{"older than the store's Max-Age", expired, expiredStore, codec, "does not open"},
		{"other name", &http.Cookie{Name: legacyName, Value: legacyCookie(t, store, "elsewhere", fillLegacy).Value}, store, codec, "does not open"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.store == expiredStore {
				time.Sleep(2100 * time.Millisecond) // securecookie's clock has one-second resolution
			}
			var log logBuf
			m, err := gorillamigrate.NewFromStore(tt.codec, tt.store, legacyName)
			if err != nil {
				t.Fatal(err)
			}
			m = m.WithLogger(log.logger())
			resp := serve(t, tt.codec, m, func(w http.ResponseWriter, r *http.Request) {
				if n := cookiesession.FromContext(r.Context()).Len(); n != 0 {
					t.Errorf("session holds %d values", n)
				}
			}, tt.cookie)
			wantLegacyKept(t, resp)
			if !strings.Contains(log.String(), tt.log) {
				t.Errorf("log %s does not say %q", log.String(), tt.log)
			}
		})
	}
}

// TestMigrateUnencodable: a value msgpack cannot encode is left out by
// name; the rest migrates.
func TestMigrateUnencodable(t *testing.T) {
	keys := newLegacyKeys(t)
	legacy := legacyCookie(t, sessions.NewCookieStore(keys.hash, keys.block), legacyName, func(s *sessions.Session) {
		s.Values["user"] = "ada"
		s.Values["phase"] = complex(1, 2) // gob encodes complex numbers, msgpack does not
	})
	codec := newCodec(t, cookiesession.Config{})
	var log logBuf
	m, err := gorillamigrate.New(codec, legacyName, keys.hash, keys.block)
	if err != nil {
		t.Fatal(err)
	}
	m = m.WithLogger(log.logger())
	resp := serve(t, codec, m, func(w http.ResponseWriter, r *http.Request) {
		if got := strings.Join(cookiesession.FromContext(r.Context()).Keys(), ","); got != "user" {
			t.Errorf("keys %s, want user", got)
		}
	}, legacy)
	wantLegacyDeleted(t, resp)
	newSession(t, codec, resp)
	if !strings.Contains(log.String(), `"skipped_unencodable_keys":["phase"]`) {
		t.Errorf("log %s does not name the skipped key", log.String())
	}
}

func TestNewErrors(t *testing.T) {
	codec := newCodec(t, cookiesession.Config{})
	hash := make([]byte, 32)
	if _, err := gorillamigrate.New(codec, legacyName); err == nil {
		t.Error("New without keys succeeded")
	}
	if _, err := gorillamigrate.New(codec, legacyName, hash, make([]byte, 7)); err == nil || !strings.Contains(err.Error(), "key pair 1") {
		t.Errorf("bad block key: %v", err)
	}
	if _, err := gorillamigrate.New(codec, "", hash); err == nil {
		t.Error("empty legacy name accepted")
	}
	if _, err := gorillamigrate.New(nil, legacyName, hash); err == nil {
		t.Error("nil codec accepted")
	}
	if _, err := gorillamigrate.NewFromStore(codec, nil, legacyName); err == nil {
		t.Error("nil store accepted")
	}
}

// TestMiddlewareOutsideCodec: the wiring mistake shows on every request,
// not only on those with a legacy cookie.
func TestMiddlewareOutsideCodec(t *testing.T) {
	codec := newCodec(t, cookiesession.Config{})
	m, err := gorillamigrate.New(codec, legacyName, make([]byte, 32))
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		if r := recover(); r == nil || !strings.Contains(r.(string), "Middleware") {
			t.Errorf("recovered %v, want FromContext's panic", r)
		}
	}()
	m.Middleware(http.NotFoundHandler()).ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/", nil))
}

// fillCategories stores flashes in gorilla's default category and in two
// named ones, next to a []any value the application stored itself.
func fillCategories(s *sessions.Session) {
	s.Values["user"] = "ada"
	s.Values["tags"] = []any{"a", "b"}
	s.AddFlash("welcome back")
	s.AddFlash("bad code", "errors")
	s.AddFlash(Flash{Level: "error", Text: "locked"}, "errors")
	s.AddFlash("saved", "info")
}

// TestMigrateFlashCategories: gorilla's named flash categories move into
// cookiesession's categories of the same name when the Migrator is told
// which keys hold them, and stay ordinary values otherwise.
func TestMigrateFlashCategories(t *testing.T) {
	keys := newLegacyKeys(t)
	legacy := legacyCookie(t, sessions.NewCookieStore(keys.hash, keys.block), legacyName, fillCategories)
	codec := newCodec(t, cookiesession.Config{})
	plain, err := gorillamigrate.New(codec, legacyName, keys.hash, keys.block)
	if err != nil {
		t.Fatal(err)
	}
	var log logBuf
	plain = plain.WithLogger(log.logger())
	m := plain.WithFlashCategories("errors").WithFlashCategories("info")

	resp := serve(t, codec, m, func(w http.ResponseWriter, r *http.Request) {
		s := cookiesession.FromContext(r.Context())
		if got := strings.Join(s.Keys(), ","); got != "tags,user" {
			t.Errorf("keys %s: a flash category was copied as a value, or a value lost", got)
		}
		if v, _ := cookiesession.Get[[]string](s, "tags"); !reflect.DeepEqual(v, []string{"a", "b"}) {
			t.Errorf("tags = %#v", v)
		}
	}, legacy)
	wantLegacyDeleted(t, resp)
	for _, want := range []string{`"values":2`, `"flashes":4`} {
		if !strings.Contains(log.String(), want) {
			t.Errorf("log %s lacks %s", log.String(), want)
		}
	}

	// The categories survive the new cookie's round trip, each read once.
	s, err := codec.DecodeCookies([]*http.Cookie{newSession(t, codec, resp)})
	if err != nil {
		t.Fatal(err)
	}
	if f := s.FlashesFrom("info"); !reflect.DeepEqual(f, []any{"saved"}) {
		t.Errorf("info flashes = %#v", f)
	}
	errs := cookiesession.FlashesFrom[Flash](s, "errors") // the struct only; the string stays
	if !reflect.DeepEqual(errs, []Flash{{Level: "error", Text: "locked"}}) {
		t.Errorf("typed errors flashes = %#v", errs)
	}
	if f := s.FlashesFrom("errors"); !reflect.DeepEqual(f, []any{"bad code"}) {
		t.Errorf("errors flashes = %#v", f)
	}
	if f := s.Flashes(); !reflect.DeepEqual(f, []any{"welcome back"}) {
		t.Errorf("default flashes = %#v", f)
	}
	if f := s.FlashesFrom("errors"); f != nil {
		t.Errorf("errors flashes read twice: %#v", f)
	}

	t.Run("undeclared categories stay values", func(t *testing.T) {
		plain = plain.WithFlashCategories("info") // not "errors"
		resp := serve(t, codec, plain, func(w http.ResponseWriter, r *http.Request) {
			s := cookiesession.FromContext(r.Context())
			if got := strings.Join(s.Keys(), ","); got != "errors,tags,user" {
				t.Errorf("keys %s, want errors copied as a value", got)
			}
			if v, _ := cookiesession.Get[[]any](s, "errors"); len(v) != 2 || v[0] != "bad code" {
				t.Errorf("errors value = %#v", v)
			}
			if f := s.FlashesFrom("errors"); f != nil {
				t.Errorf("errors flashes %#v from an undeclared category", f)
			}
			if f := s.FlashesFrom("info"); !reflect.DeepEqual(f, []any{"saved"}) {
				t.Errorf("info flashes = %#v", f)
			}
			if f := s.Flashes(); !reflect.DeepEqual(f, []any{"welcome back"}) {
				t.Errorf("default flashes = %#v", f)
			}
		}, legacy)
		wantLegacyDeleted(t, resp)
	})
}
