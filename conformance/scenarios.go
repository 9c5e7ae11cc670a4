package conformance

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/cookiesession/cookiesession"
)

// Run runs every scenario through the stack, each as a subtest with a
// server of its own. None is skipped: a stack that cannot keep a rule
// fails it.
func Run(t *testing.T, stack Stack) {
	t.Helper()
	for _, sc := range scenarios {
		t.Run(sc.name, func(t *testing.T) { sc.run(t, stack) })
	}
}

var scenarios = []struct {
	name string
	run  func(*testing.T, Stack)
}{
	{"LazyOpen", lazyOpen},
	{"LoginSetsCookie", loginSetsCookie},
	{"ReadRefreshesOnlyWhenStale", readRefreshesOnlyWhenStale},
	{"ChangeReseals", changeReseals},
	{"CookieBeforeFirstByte", cookieBeforeFirstByte},
	{"StatusPassesThrough", statusPassesThrough},
	{"ServerErrorSavesNothing", serverErrorSavesNothing},
	{"PanicSavesNothing", panicSavesNothing},
	{"LogoutSurvivesServerError", logoutSurvivesServerError},
	{"RotationReseal", rotationReseal},
	{"SlidingRefresh", slidingRefresh},
	{"ChunkCleanup", chunkCleanup},
	{"VaryAndNoStore", varyAndNoStore},
	{"BadCookie", badCookie},
	{"ErrorsAreReported", errorsAreReported},
	{"FlashShownOnce", flashShownOnce},
	{"JarSequence", jarSequence},
}

// whoami writes the session's user and whether the request's cookie was
// rejected.
func whoami(s *cookiesession.Session, w Response) error {
	w.WriteString(fmt.Sprintf("user=%s rejected=%t", cookiesession.GetOr(s, "user", ""), s.OpenError() != nil))
	return nil
}

// login stores a user, with a new session ID.
func login(s *cookiesession.Session, w Response) error {
	s.Renew()
	s.Set("user", "ada")
	w.WriteString("welcome")
	return nil
}

// setUser returns a route that sets the user to eve and then fails with
// fail.
func setUser(fail func(w Response) error) Handler {
	return func(s *cookiesession.Session, w Response) error {
		s.Set("user", "eve")
		return fail(w)
	}
}

// noCookies fails the test if the response carries any Set-Cookie.
func noCookies(t *testing.T, what string, r *result) {
	t.Helper()
	if len(r.lines) != 0 {
		t.Errorf("%s: Set-Cookie %q, want none", what, r.lines)
	}
}

// lazyOpen: a route that never touches the session sends no cookie and no
// Vary, whatever the request carries, and opens nothing (a garbage cookie
// is not even reported).
func lazyOpen(t *testing.T, st Stack) {
	e := serve(t, st, cookiesession.Config{}, map[string]Handler{
		"/untouched": func(s *cookiesession.Session, w Response) error { w.WriteString("ok"); return nil },
	})
	for _, cookie := range []string{"", seal(t, e.codec, "ada"), e.codec.Name() + "=garbage"} {
		r := e.do(t, "GET", "/untouched", cookie)
		if r.status != http.StatusOK || r.body != "ok" {
			t.Errorf("cookie %.20q: %d %q, want 200 ok", cookie, r.status, r.body)
		}
		noCookies(t, "untouched route", r)
		if v := tokens(r.header, "Vary"); has(v, "cookie") {
			t.Errorf("untouched route: Vary %q names Cookie", v)
		}
		if cc := tokens(r.header, "Cache-Control"); has(cc, "no-store") {
			t.Errorf("untouched route: Cache-Control %q", cc)
		}
	}
	if n := e.logs.count(slog.LevelDebug, ""); n != 0 {
		t.Errorf("%d log records for requests that never touched the session (was the garbage cookie opened?)", n)
	}
}

// loginSetsCookie: a login sets exactly one cookie, with the codec's name
// and attributes (Path, Domain, Max-Age, Secure, HttpOnly, SameSite) as
// the codec renders them, for the default configuration and for a
// __Host- name with SameSite=Strict, plus Vary: Cookie and Cache-Control:
// no-store.
func loginSetsCookie(t *testing.T, st Stack) {
	for _, cfg := range []cookiesession.Config{
		{},
		{Name: "__Host-sid", SameSite: http.SameSiteStrictMode, MaxAge: 2 * time.Hour},
	} {
		e := serve(t, st, cfg, map[string]Handler{"/login": login})
		r := e.do(t, "POST", "/login", "")
		if r.status != http.StatusOK || r.body != "welcome" {
			t.Errorf("login: %d %q", r.status, r.body)
		}
		if len(r.cookies) != 1 || r.cookies[0].Name != e.codec.Name() {
			t.Fatalf("login: Set-Cookie %q, want one %s cookie", r.lines, e.codec.Name())
		}
		s := e.open(t, r)
		if u := cookiesession.GetOr(s, "user", ""); u != "ada" {
			t.Errorf("the cookie carries user %q, want ada", u)
		}
		want, err := e.codec.Cookie(s) // the same session, sealed now by the codec itself
		if err != nil {
			t.Fatal(err)
		}
		want.Value = r.cookies[0].Value
		if got := r.cookies[0]; got.String() != want.String() || len(got.Unparsed) != 0 {
			t.Errorf("Set-Cookie %q\nwant the codec's %q", r.lines[0], want.String())
		}
		if v := tokens(r.header, "Vary"); !has(v, "cookie") {
			t.Errorf("Vary %q lacks Cookie", v)
		}
		if cc := tokens(r.header, "Cache-Control"); !has(cc, "no-store") {
			t.Errorf("Cache-Control %q lacks no-store", cc)
		}
	}
}

// readRefreshesOnlyWhenStale: a session that is only read gets no new
// cookie until Config.RefreshAfter (a quarter, by default) of its idle
// window has passed; then it is resealed with a new deadline.
func readRefreshesOnlyWhenStale(t *testing.T, st Stack) {
	e := serve(t, st, cookiesession.Config{MaxAge: time.Hour}, map[string]Handler{"/whoami": whoami})
	cookie := seal(t, e.codec, "ada")

	e.clock.advance(10 * time.Minute)
	r := e.do(t, "GET", "/whoami", cookie)
	if r.body != "user=ada rejected=false" {
		t.Errorf("fresh read: body %q", r.body)
	}
	noCookies(t, "a read 10 minutes into a one-hour session", r)
	if v := tokens(r.header, "Vary"); !has(v, "cookie") {
		t.Errorf("a read: Vary %q lacks Cookie", v)
	}
	if cc := tokens(r.header, "Cache-Control"); has(cc, "no-store") {
		t.Errorf("a read with no Set-Cookie: Cache-Control %q", cc)
	}

	e.clock.advance(10 * time.Minute)
	r = e.do(t, "GET", "/whoami", cookie)
	if len(r.sets()) != 1 {
		t.Fatalf("a read 20 minutes into a one-hour session: Set-Cookie %q, want a refresh", r.lines)
	}
	s := e.open(t, r)
	now := e.clock.Now()
	if !s.SealedAt().Equal(now) || !s.ExpiryDate().Equal(now.Add(time.Hour)) {
		t.Errorf("refreshed cookie sealed %v, expires %v; want %v and an hour later", s.SealedAt(), s.ExpiryDate(), now)
	}
	if cc := tokens(r.header, "Cache-Control"); !has(cc, "no-store") {
		t.Errorf("refresh: Cache-Control %q lacks no-store", cc)
	}
}

// changeReseals: every change is sealed into the next cookie, request
// after request.
func changeReseals(t *testing.T, st Stack) {
	e := serve(t, st, cookiesession.Config{}, map[string]Handler{
		"/incr": func(s *cookiesession.Session, w Response) error {
			n := cookiesession.GetOr(s, "n", int64(0)) + 1
			s.Set("n", n)
			w.WriteString(strconv.FormatInt(n, 10))
			return nil
		},
	})
	cookie := ""
	for want := int64(1); want <= 3; want++ {
		r := e.do(t, "POST", "/incr", cookie)
		if r.body != strconv.FormatInt(want, 10) {
			t.Fatalf("request %d: body %q", want, r.body)
		}
		if got := cookiesession.GetOr(e.open(t, r), "n", int64(0)); got != want {
			t.Fatalf("request %d: the cookie carries n=%d", want, got)
		}
		cookie = r.cookie()
	}
}

// cookieBeforeFirstByte: the cookie goes out with the header, before the
// body; a change made after the body was written and flushed cannot reach
// the browser on a streaming stack and is logged as lost, while a
// buffered stack, which sends nothing before the handler returns, saves
// it.
func cookieBeforeFirstByte(t *testing.T, st Stack) {
	const size = 64 << 10 // more than any server buffers before sending the header
	e := serve(t, st, cookiesession.Config{}, map[string]Handler{
		"/stream": func(s *cookiesession.Session, w Response) error {
			s.Set("before", "yes")
			w.WriteString(strings.Repeat("x", size))
			w.Flush()
			s.Set("after", "yes")
			return nil
		},
	})
	r := e.do(t, "GET", "/stream", "")
	if r.status != http.StatusOK || len(r.body) != size {
		t.Fatalf("status %d, %d bytes of body", r.status, len(r.body))
	}
	if len(r.sets()) != 1 {
		t.Fatalf("Set-Cookie %q: the change made before the first byte is missing", r.lines)
	}
	s := e.open(t, r)
	if !s.Has("before") {
		t.Error("the cookie lacks the change made before the body")
	}
	lost := e.logs.count(slog.LevelError, "lost")
	if st.Buffered {
		if !s.Has("after") {
			t.Error("buffered stack: the change made after writing the body, before the handler returned, was not saved")
		}
		if lost != 0 {
			t.Errorf("buffered stack: %d lost-change log records, want none", lost)
		}
		return
	}
	if s.Has("after") {
		t.Error("streaming stack: the cookie carries a change made after the body went out")
	}
	if lost != 1 {
		t.Errorf("streaming stack: %d lost-change log records at error level, want 1", lost)
	}
}

// statusPassesThrough: the session is committed with the status the stack
// really sends: a 201 set by the handler, a 404 from its error path (a 4xx
// saves the change).
func statusPassesThrough(t *testing.T, st Stack) {
	e := serve(t, st, cookiesession.Config{}, map[string]Handler{
		"/created": func(s *cookiesession.Session, w Response) error {
			s.Set("made", "yes")
			w.WriteHeader(http.StatusCreated)
			w.WriteString("created")
			return nil
		},
		"/missing": func(s *cookiesession.Session, w Response) error {
			s.Set("seen", "yes")
			return &StatusError{Code: http.StatusNotFound}
		},
	})
	for _, tc := range []struct {
		path, key string
		status    int
	}{{"/created", "made", http.StatusCreated}, {"/missing", "seen", http.StatusNotFound}} {
		r := e.do(t, "POST", tc.path, "")
		if r.status != tc.status {
			t.Errorf("%s: status %d, want %d", tc.path, r.status, tc.status)
		}
		if len(r.sets()) != 1 || !e.open(t, r).Has(tc.key) {
			t.Errorf("%s: Set-Cookie %q, want the change saved", tc.path, r.lines)
		}
	}
}

// serverErrorSavesNothing: a 5xx, however the handler produces it, sends
// no Set-Cookie; the browser keeps its cookie as it was.
func serverErrorSavesNothing(t *testing.T, st Stack) {
	e := serve(t, st, cookiesession.Config{}, map[string]Handler{
		"/fail-500": setUser(func(Response) error { return &StatusError{Code: http.StatusInternalServerError} }),
		"/fail-503": setUser(func(Response) error { return &StatusError{Code: http.StatusServiceUnavailable} }),
		"/fail":     setUser(func(Response) error { return errors.New("conformance: a plain error") }),
		"/write-500": setUser(func(w Response) error {
			w.WriteHeader(http.StatusInternalServerError)
			w.WriteString("boom")
			return nil
		}),
		"/whoami": whoami,
	})
	cookie := seal(t, e.codec, "ada")
	for _, tc := range []struct {
		path   string
		status int
	}{{"/fail-500", 500}, {"/fail-503", 503}, {"/fail", 500}, {"/write-500", 500}} {
		for _, c := range []string{cookie, ""} {
			r := e.do(t, "POST", tc.path, c)
			if r.status != tc.status {
				t.Errorf("%s: status %d, want %d", tc.path, r.status, tc.status)
			}
			noCookies(t, tc.path, r)
		}
	}
	if r := e.do(t, "GET", "/whoami", cookie); r.body != "user=ada rejected=false" {
		t.Errorf("after the errors: %q", r.body)
	}
}

// panicSavesNothing: a handler that panics after a change gets a 500 from
// the stack's recovery, and the change is not sent.
func panicSavesNothing(t *testing.T, st Stack) {
	e := serve(t, st, cookiesession.Config{}, map[string]Handler{
		"/panic": setUser(func(Response) error { panic("conformance: a deliberate panic") }),
	})
	for _, c := range []string{seal(t, e.codec, "ada"), ""} {
		r := e.do(t, "POST", "/panic", c)
		if r.status != http.StatusInternalServerError {
			t.Errorf("panic: status %d, want 500", r.status)
		}
		for _, ck := range r.sets() {
			t.Errorf("panic: the response sets %s (%q)", ck.Name, r.lines)
		}
	}
}

// logoutSurvivesServerError: Flush, then a flash and new data, then a 500:
// the 5xx saves nothing new, but the logout stands, so the cookie is
// deleted.
func logoutSurvivesServerError(t *testing.T, st Stack) {
	e := serve(t, st, cookiesession.Config{}, map[string]Handler{
		"/logout": func(s *cookiesession.Session, w Response) error {
			s.Flush()
			s.AddFlash("bye")
			s.Set("theme", "dark")
			return &StatusError{Code: http.StatusInternalServerError}
		},
	})
	r := e.do(t, "POST", "/logout", seal(t, e.codec, "ada"))
	if r.status != http.StatusInternalServerError {
		t.Errorf("status %d, want 500", r.status)
	}
	if got := r.deleted(); len(r.lines) != 1 || len(got) != 1 || got[0] != e.codec.Name() {
		t.Errorf("Set-Cookie %q, want only the deletion of %s", r.lines, e.codec.Name())
	}
}

// rotationReseal: a cookie sealed with a key that is no longer primary is
// resealed with the primary on a request that only reads it, so that the
// old key can be retired; the resealed cookie is not resealed again.
func rotationReseal(t *testing.T, st Stack) {
	k1, err := cookiesession.GenerateKey("k1")
	if err != nil {
		t.Fatal(err)
	}
	k2, err := cookiesession.GenerateKey("k2")
	if err != nil {
		t.Fatal(err)
	}
	rotated, err := cookiesession.NewKeyring(k2, k1)
	if err != nil {
		t.Fatal(err)
	}
	before, err := cookiesession.NewKeyring(k1)
	if err != nil {
		t.Fatal(err)
	}
	e := serve(t, st, cookiesession.Config{Keys: rotated}, map[string]Handler{"/whoami": whoami})
	old, err := cookiesession.NewCodec(cookiesession.Config{Keys: before, Now: e.clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	if old.Name() != e.codec.Name() {
		t.Fatalf("the two codecs name their cookies %q and %q", old.Name(), e.codec.Name())
	}

	r := e.do(t, "GET", "/whoami", seal(t, old, "ada"))
	if r.body != "user=ada rejected=false" {
		t.Fatalf("a cookie sealed with the old key: %q", r.body)
	}
	if len(r.sets()) != 1 {
		t.Fatalf("Set-Cookie %q, want the session resealed", r.lines)
	}
	if s := e.open(t, r); s.KeyID() != "k2" || cookiesession.GetOr(s, "user", "") != "ada" {
		t.Errorf("resealed with key %q, user %q; want k2, ada", s.KeyID(), cookiesession.GetOr(s, "user", ""))
	}
	if _, err := old.DecodeCookies(r.sets()); !errors.Is(err, cookiesession.ErrUnknownKey) {
		t.Errorf("the old keyring opens the resealed cookie (err %v): it was not resealed with k2", err)
	}
	noCookies(t, "the resealed cookie, read again", e.do(t, "GET", "/whoami", r.cookie()))
}

// slidingRefresh: a visitor active every 20 minutes stays logged in far
// past a one-hour idle limit; after an hour away the session is gone and
// the browser's cookie deleted.
func slidingRefresh(t *testing.T, st Stack) {
	e := serve(t, st, cookiesession.Config{MaxAge: time.Hour, Insecure: true}, map[string]Handler{
		"/login": login, "/whoami": whoami,
	})
	b := e.browser(t)
	b.do(t, "POST", "/login")
	for i := 1; i <= 8; i++ {
		e.clock.advance(20 * time.Minute)
		if r := b.do(t, "GET", "/whoami"); r.body != "user=ada rejected=false" {
			t.Fatalf("after %d minutes of activity: %q", 20*i, r.body)
		}
	}
	e.clock.advance(61 * time.Minute)
	r := b.do(t, "GET", "/whoami")
	if r.body != "user= rejected=true" {
		t.Errorf("after an hour idle: %q, want an expired session", r.body)
	}
	if got := r.deleted(); len(got) != 1 || got[0] != e.codec.Name() {
		t.Errorf("after an hour idle: Set-Cookie %q, want the deletion", r.lines)
	}
	if held := b.held(t); len(held) != 0 {
		t.Errorf("the browser still holds %v", held)
	}
}

// chunkCleanup: a session spread over several cookies that shrinks to one
// deletes the chunks it no longer needs.
func chunkCleanup(t *testing.T, st Stack) {
	e := serve(t, st, cookiesession.Config{MaxCookies: 3, Insecure: true}, map[string]Handler{
		"/big": func(s *cookiesession.Session, w Response) error {
			s.Set("user", "ada")
			s.Set("blob", strings.Repeat("x", 5000))
			return nil
		},
		"/shrink": func(s *cookiesession.Session, w Response) error { s.Delete("blob"); return nil },
		"/whoami": whoami,
	})
	name := e.codec.Name()
	b := e.browser(t)
	r := b.do(t, "POST", "/big")
	var chunks []string
	for i, ck := range r.sets() {
		want := name
		if i > 0 {
			want = name + "." + strconv.Itoa(i)
			chunks = append(chunks, want)
		}
		if ck.Name != want {
			t.Fatalf("cookie %d is named %s, want %s", i, ck.Name, want)
		}
	}
	if len(chunks) == 0 {
		t.Fatalf("Set-Cookie %q: a 5000-byte session should span several cookies", r.lines)
	}
	if s := e.open(t, r); !s.Has("blob") {
		t.Fatal("the chunked cookies do not carry the blob")
	}

	r = b.do(t, "POST", "/shrink")
	if sets := r.sets(); len(sets) != 1 || sets[0].Name != name {
		t.Errorf("shrunk: sets %q, want only %s", r.lines, name)
	}
	if got := r.deleted(); !slices.Equal(got, chunks) {
		t.Errorf("shrunk: deletes %v, want %v", got, chunks)
	}
	if held := b.held(t); !slices.Equal(held, []string{name}) {
		t.Errorf("the browser holds %v, want just %s", held, name)
	}
	if r := b.do(t, "GET", "/whoami"); r.body != "user=ada rejected=false" {
		t.Errorf("after shrinking: %q", r.body)
	}
}

// varyAndNoStore: a touched session adds Cookie to the handler's Vary, and
// a Set-Cookie adds no-store to its Cache-Control, keeping the handler's
// own values; a read that sets nothing leaves Cache-Control alone.
func varyAndNoStore(t *testing.T, st Stack) {
	e := serve(t, st, cookiesession.Config{}, map[string]Handler{
		"/change": func(s *cookiesession.Session, w Response) error {
			w.SetHeader("Cache-Control", "private, max-age=60")
			w.SetHeader("Vary", "Accept-Encoding")
			s.Set("n", 1)
			w.WriteString("ok")
			return nil
		},
		"/read": func(s *cookiesession.Session, w Response) error {
			w.SetHeader("Cache-Control", "public, max-age=60")
			w.SetHeader("Vary", "Accept-Encoding")
			w.WriteString(strconv.FormatBool(s.Has("n")))
			return nil
		},
	})
	r := e.do(t, "POST", "/change", "")
	if len(r.sets()) != 1 {
		t.Fatalf("change: Set-Cookie %q", r.lines)
	}
	if v := tokens(r.header, "Vary"); !has(v, "accept-encoding") || !has(v, "cookie") {
		t.Errorf("change: Vary %q, want Accept-Encoding and Cookie", v)
	}
	if cc := tokens(r.header, "Cache-Control"); !has(cc, "private") || !has(cc, "max-age=60") || !has(cc, "no-store") {
		t.Errorf("change: Cache-Control %q, want private, max-age=60 and no-store", cc)
	}

	r = e.do(t, "GET", "/read", r.cookie())
	noCookies(t, "read", r)
	if v := tokens(r.header, "Vary"); !has(v, "accept-encoding") || !has(v, "cookie") {
		t.Errorf("read: Vary %q, want Accept-Encoding and Cookie", v)
	}
	if cc := tokens(r.header, "Cache-Control"); !slices.Equal(cc, []string{"public", "max-age=60"}) {
		t.Errorf("read: Cache-Control %q, want the handler's own", cc)
	}
}

// badCookie: a tampered, foreign, malformed or expired cookie gives the
// handler an empty session whose OpenError says why, and a deletion of the
// cookie: never a 500.
func badCookie(t *testing.T, st Stack) {
	e := serve(t, st, cookiesession.Config{MaxAge: time.Hour}, map[string]Handler{"/whoami": whoami})
	name := e.codec.Name()
	good := seal(t, e.codec, "ada")
	value := strings.TrimPrefix(good, name+"=")
	flip := []byte(value)
	i := len(flip) / 2
	if flip[i] == 'A' {
		flip[i] = 'B'
	} else {
		flip[i] = 'A'
	}
	foreign, err := cookiesession.NewCodec(cookiesession.Config{Keys: newKeyring(t, "k1"), Now: e.clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	unknown, err := cookiesession.NewCodec(cookiesession.Config{Keys: newKeyring(t, "zz"), Now: e.clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct{ what, cookie string }{
		{"one byte changed", name + "=" + string(flip)},
		{"truncated", name + "=" + value[:len(value)-10]},
		{"another secret, same key ID", seal(t, foreign, "eve")},
		{"an unknown key ID", seal(t, unknown, "eve")},
		{"garbage", name + "=garbage"},
		{"pipes", name + "=k1.a|b|c"},
		{"long garbage", name + "=" + strings.Repeat("A", 3000)},
		{"expired", good}, // last: the clock moves past its hour first
	}
	for _, tc := range cases {
		if tc.what == "expired" {
			e.clock.advance(2 * time.Hour)
		}
		r := e.do(t, "GET", "/whoami", tc.cookie)
		if r.status != http.StatusOK || r.body != "user= rejected=true" {
			t.Errorf("%s: %d %q, want 200 and an empty session with an OpenError", tc.what, r.status, r.body)
		}
		if got := r.deleted(); len(r.lines) != 1 || len(got) != 1 || got[0] != name {
			t.Errorf("%s: Set-Cookie %q, want the deletion of %s", tc.what, r.lines, name)
		}
	}
}

// errorsAreReported: a session that cannot be saved (a value msgpack
// cannot encode) keeps the browser's cookie as it was and is reported, and
// so is a cookie that does not open: neither vanishes, neither is a 500.
func errorsAreReported(t *testing.T, st Stack) {
	e := serve(t, st, cookiesession.Config{}, map[string]Handler{
		"/unencodable": func(s *cookiesession.Session, w Response) error {
			s.Set("ch", make(chan int))
			w.WriteString("ok")
			return nil
		},
		"/whoami": whoami,
	})
	r := e.do(t, "POST", "/unencodable", seal(t, e.codec, "ada"))
	if r.status != http.StatusOK {
		t.Errorf("unencodable value: status %d, want 200", r.status)
	}
	noCookies(t, "unencodable value", r)
	if n := e.logs.count(slog.LevelError, "not saved"); n != 1 {
		t.Errorf("unencodable value: %d error records saying the session was not saved, want 1", n)
	}
	e.do(t, "GET", "/whoami", e.codec.Name()+"=garbage")
	if n := e.logs.count(slog.LevelWarn, "rejected"); n != 1 {
		t.Errorf("garbage cookie: %d warnings saying it was rejected, want 1", n)
	}
}

// flashShownOnce: a flash set on login and shown after the redirect is
// gone on the next page (the gin bug: consuming it was lost, so it showed
// twice).
func flashShownOnce(t *testing.T, st Stack) {
	e := serve(t, st, cookiesession.Config{Insecure: true}, map[string]Handler{
		"/login": func(s *cookiesession.Session, w Response) error {
			s.Set("user", "ada")
			s.AddFlash("welcome")
			w.SetHeader("Location", "/home")
			w.WriteHeader(http.StatusSeeOther)
			return nil
		},
		"/home": func(s *cookiesession.Session, w Response) error {
			w.WriteString(fmt.Sprintf("flashes=%v user=%s", s.Flashes(), cookiesession.GetOr(s, "user", "")))
			return nil
		},
	})
	b := e.browser(t)
	if r := b.do(t, "POST", "/login"); r.body != "flashes=[welcome] user=ada" {
		t.Fatalf("after login and redirect: %q", r.body)
	}
	for i := range 2 {
		if r := b.do(t, "GET", "/home"); r.body != "flashes=[] user=ada" {
			t.Errorf("visit %d after the flash was shown: %q", i+2, r.body)
		}
	}
}

// jarSequence: log in, read, log out, read, through one cookie jar.
func jarSequence(t *testing.T, st Stack) {
	e := serve(t, st, cookiesession.Config{Insecure: true}, map[string]Handler{
		"/login":  login,
		"/whoami": whoami,
		"/logout": func(s *cookiesession.Session, w Response) error { s.Flush(); w.WriteString("bye"); return nil },
	})
	name := e.codec.Name()
	b := e.browser(t)
	b.do(t, "POST", "/login")
	if held := b.held(t); !slices.Equal(held, []string{name}) {
		t.Fatalf("after login the browser holds %v", held)
	}
	if r := b.do(t, "GET", "/whoami"); r.body != "user=ada rejected=false" {
		t.Errorf("logged in: %q", r.body)
	}
	r := b.do(t, "POST", "/logout")
	if got := r.deleted(); len(got) != 1 || got[0] != name {
		t.Errorf("logout: Set-Cookie %q, want the deletion", r.lines)
	}
	if held := b.held(t); len(held) != 0 {
		t.Errorf("after logout the browser holds %v", held)
	}
	if r := b.do(t, "GET", "/whoami"); r.body != "user= rejected=false" {
		t.Errorf("logged out: %q", r.body)
	}
}
