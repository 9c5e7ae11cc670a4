package main

import (
	"html"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cookiesession/cookiesession"
)

// clock is a controllable time source.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// browser drives a demo server with a cookie jar, one request at a time.
type browser struct {
	t      *testing.T
	srv    *httptest.Server
	client *http.Client
	jar    *cookiejar.Jar
	clock  *clock
	keys   *cookiesession.Keyring
	codec  *cookiesession.Codec
	csrf   string // the CSRF token of the last page fetched
}

func newBrowser(t *testing.T) *browser {
	t.Helper()
	return newBrowserWith(t, nil)
}

// newBrowserWith is newBrowser with the demo's codec holding guard (an
// in-memory guard on the test's clock if nil).
func newBrowserWith(t *testing.T, guard cookiesession.Guard) *browser {
	t.Helper()
	key, err := cookiesession.GenerateKey("first")
	if err != nil {
		t.Fatal(err)
	}
	keys, err := cookiesession.NewKeyring(key)
	if err != nil {
		t.Fatal(err)
	}
	// Real time, so that the cookie jar's own clock agrees with Max-Age;
	// whole seconds, as the library's deadlines are.
	clk := &clock{t: time.Now().Truncate(time.Second)}
	if guard == nil {
		guard = cookiesession.NewMemoryGuard(cookiesession.MemoryGuardConfig{Now: clk.now})
	}
	codec, err := cookiesession.NewCodec(cookiesession.Config{
		Keys:     keys,
		Insecure: true, // httptest serves plain HTTP
		Now:      clk.now,
		Logger:   slog.New(slog.NewTextHandler(io.Discard, nil)),
		Guard:    guard,
	})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(newDemo(codec, keys, clk.now))
	t.Cleanup(srv.Close)
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	client := &http.Client{
		Jar: jar,
		// Redirects are followed by hand, to see each response's cookie.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	return &browser{t: t, srv: srv, client: client, jar: jar, clock: clk, keys: keys, codec: codec}
}

// get fetches path and returns the page.
func (b *browser) get(path string) string {
	b.t.Helper()
	resp, err := b.client.Get(b.srv.URL + path)
	if err != nil {
		b.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		b.t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK {
		b.t.Fatalf("GET %s: %s\n%s", path, resp.Status, body)
	}
	if m := csrfRE.FindSubmatch(body); m != nil {
		b.csrf = string(m[1])
	}
	return string(body)
}

var csrfRE = regexp.MustCompile(`<input type="hidden" name="csrf_token" value="([^"]+)">`)

// post submits a form to path, with the CSRF token of the last page
// fetched (the index page's if none was), checks the Post/Redirect/Get
// answer and returns the Set-Cookie header of the POST's response and the
// page it redirects to.
func (b *browser) post(path string, form url.Values) (setCookie []string, page string) {
	b.t.Helper()
	if b.csrf == "" {
		b.get("/")
	}
	if form == nil {
		form = url.Values{}
	}
	form.Set("csrf_token", b.csrf)
	resp, err := b.client.PostForm(b.srv.URL+path, form)
	if err != nil {
		b.t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther {
		b.t.Fatalf("POST %s: %s, want 303 See Other", path, resp.Status)
	}
	return resp.Header.Values("Set-Cookie"), b.get(resp.Header.Get("Location"))
}

// sessionKeys returns the keys of the session the jar's cookie holds, or
// nil if there is no cookie.
func (b *browser) sessionKeys() []string {
	b.t.Helper()
	if b.cookie() == "" {
		return nil
	}
	s, err := b.codec.Decode(b.cookie())
	if err != nil {
		b.t.Fatalf("the jar's session cookie does not open: %v", err)
	}
	return s.Keys()
}

// cookie returns the session cookie the jar holds, or "".
func (b *browser) cookie() string {
	u, _ := url.Parse(b.srv.URL)
	for _, c := range b.jar.Cookies(u) {
		if c.Name == "session" {
			return c.Value
		}
	}
	return ""
}

// byID returns the unescaped text of the element with the given id, which
// must contain no other element; ok is false if there is none.
func byID(page, id string) (string, bool) {
	m := regexp.MustCompile(`id="` + regexp.QuoteMeta(id) + `"[^>]*>([^<]*)<`).FindStringSubmatch(page)
	if m == nil {
		return "", false
	}
	return html.UnescapeString(m[1]), true
}

func mustID(t *testing.T, page, id string) string {
	t.Helper()
	v, ok := byID(page, id)
	if !ok {
		t.Fatalf("no #%s in page:\n%s", id, page)
	}
	return v
}

var flashRE = regexp.MustCompile(`<p class="flash"[^>]*>([^<]*)</p>`)

func flashes(page string) []string {
	var out []string
	for _, m := range flashRE.FindAllStringSubmatch(page, -1) {
		out = append(out, html.UnescapeString(m[1]))
	}
	return out
}

func wantFlash(t *testing.T, page, want string) {
	t.Helper()
	for _, f := range flashes(page) {
		if f == want {
			return
		}
	}
	t.Errorf("flashes %q, want %q", flashes(page), want)
}

type dataRow struct{ value, deadline string }

var rowRE = regexp.MustCompile(`<tr data-key="([^"]*)"><td class="key">[^<]*</td><td class="value">([^<]*)</td><td class="deadline">([^<]*)</td></tr>`)

// rows returns the #session-data table.
func rows(t *testing.T, page string) map[string]dataRow {
	t.Helper()
	start := strings.Index(page, `<table id="session-data">`)
	end := strings.Index(page, `</table>`)
	if start < 0 || end < start {
		t.Fatalf("no #session-data table in page:\n%s", page)
	}
	out := map[string]dataRow{}
	for _, m := range rowRE.FindAllStringSubmatch(page[start:end], -1) {
		out[html.UnescapeString(m[1])] = dataRow{html.UnescapeString(m[2]), html.UnescapeString(m[3])}
	}
	return out
}

// maxAge returns the Max-Age attribute of the session cookie in a
// Set-Cookie header, or -1 if there is none.
func maxAge(t *testing.T, setCookie []string) int {
	t.Helper()
	for _, line := range setCookie {
		if !strings.HasPrefix(line, "session=") {
			continue
		}
		m := regexp.MustCompile(`; Max-Age=(\d+)`).FindStringSubmatch(line)
		if m == nil {
			return -1
		}
		n, _ := strconv.Atoi(m[1])
		return n
	}
	t.Fatalf("no session cookie in %q", setCookie)
	return 0
}

func TestDemoPages(t *testing.T) {
	b := newBrowser(t)
	resp, err := b.client.Get(b.srv.URL + "/")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if csp := resp.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'none'") {
		t.Errorf("Content-Security-Policy %q", csp)
	}
	if ct := resp.Header.Get("Content-Type"); ct != "text/html; charset=utf-8" {
		t.Errorf("Content-Type %q", ct)
	}
	// The page's forms carry CSRF tokens, so a first visit gets a cookie
	// holding the session's CSRF secret and nothing else.
	if sc := resp.Header.Values("Set-Cookie"); len(sc) != 1 {
		t.Errorf("a first visit set %q, want one session cookie", sc)
	}
	if keys := b.sessionKeys(); len(keys) != 1 || keys[0] != cookiesession.CSRFKey {
		t.Errorf("a first visit's session holds %q, want only the CSRF secret", keys)
	}

	index := b.get("/")
	session := b.get("/session")
	for _, want := range []string{
		`<meta name="viewport" content="width=device-width, initial-scale=1">`,
		`<form id="send-form" method="post" action="/sms/send">`,
		`<form id="check-form" method="post" action="/sms/check">`,
		`id="phone" name="phone"`, `id="code" name="code"`,
	} {
		if !strings.Contains(index, want) {
			t.Errorf("index lacks %s", want)
		}
	}
	for _, want := range []string{
		`<meta name="viewport"`, `<table id="session-data">`,
		`<form id="set-form"`, `<form id="delete-form"`, `<form id="clear-form"`,
		`<form id="flush-form"`, `<form id="expiry-form"`, `<form id="rotate-form"`,
		`id="key" name="key"`, `id="value" name="value"`, `id="seconds" name="seconds"`,
		`id="cookie-size"`, `id="key-id"`,
	} {
		if !strings.Contains(session, want) {
			t.Errorf("session page lacks %s", want)
		}
	}
	if strings.Contains(index+session, "<script") {
		t.Error("a page has a script")
	}
	if _, ok := byID(index, "user"); ok {
		t.Error("#user shown before login")
	}
	if got := mustID(t, session, "cookie-size"); got != strconv.Itoa(len("session="+b.cookie())) {
		t.Errorf("cookie size of a session with only its CSRF secret %q, want the cookie's %d bytes", got, len("session="+b.cookie()))
	}
	if r := rows(t, session); len(r) != 0 {
		t.Errorf("the session page shows %v; want no rows (the CSRF secret is never shown)", r)
	}
	if room, err := strconv.Atoi(mustID(t, session, "cookie-room")); err != nil || room < 1000 || room > 4096 {
		t.Errorf("cookie-room of an empty session %d, %v; want the room of a 4096-byte cookie", room, err)
	}
	if got := mustID(t, session, "cookie-deadline"); got == "none" {
		t.Errorf("cookie-deadline %q, want the deadline of the first visit's cookie", got)
	}
	if got := mustID(t, session, "expiry-policy"); got != "default" {
		t.Errorf("expiry-policy %q of a new session, want default", got)
	}

	// Wrong methods and paths.
	for _, tc := range []struct{ method, path string }{{"GET", "/sms/send"}, {"POST", "/session"}, {"GET", "/nope"}} {
		req, _ := http.NewRequest(tc.method, b.srv.URL+tc.path, nil)
		resp, err := b.client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode < 400 {
			t.Errorf("%s %s: %s, want an error", tc.method, tc.path, resp.Status)
		}
	}
}

func TestDemoSMSLogin(t *testing.T) {
	b := newBrowser(t)
	const phone = "+1 555 0100"

	_, page := b.post("/sms/send", url.Values{"phone": {"call me"}})
	if _, ok := byID(page, "sms-code"); ok {
		t.Fatal("a code was sent to a bad phone number")
	}
	if len(flashes(page)) != 1 || !strings.HasPrefix(flashes(page)[0], "Enter a phone number") {
		t.Errorf("flashes %q", flashes(page))
	}

	_, page = b.post("/sms/send", url.Values{"phone": {phone}})
	wantFlash(t, page, "Code sent to "+phone)
	code := mustID(t, page, "sms-code")
	if !regexp.MustCompile(`^[0-9]{6}$`).MatchString(code) {
		t.Fatalf("code %q is not 6 digits", code)
	}
	if !strings.Contains(page, "Demo only: stands in for the SMS gateway") {
		t.Error("the code is not labelled as a stand-in for the SMS gateway")
	}
	// The code is in the session with a 5-minute deadline.
	before := b.get("/session")
	r := rows(t, before)
	if r["sms_code"].value != code || !strings.Contains(r["sms_code"].deadline, "(in 5m0s)") {
		t.Errorf("sms_code row %+v, want %s with a 5-minute deadline", r["sms_code"], code)
	}
	if r["sms_phone"].value != phone {
		t.Errorf("sms_phone row %+v", r["sms_phone"])
	}
	idBefore := mustID(t, before, "session-id")

	wrong := "000000"
	if code == wrong {
		wrong = "111111"
	}
	_, page = b.post("/sms/check", url.Values{"code": {wrong}})
	wantFlash(t, page, "Wrong code")
	if _, ok := byID(page, "user"); ok {
		t.Fatal("a wrong code logged in")
	}
	if got := mustID(t, page, "sms-code"); got != code {
		t.Errorf("code after a wrong try %q, want %q still", got, code)
	}

	_, page = b.post("/sms/check", url.Values{"code": {code}})
	if !strings.Contains(page, "<h1>Session</h1>") {
		t.Fatalf("login did not land on /session:\n%s", page)
	}
	wantFlash(t, page, "Logged in")
	if got := mustID(t, page, "user"); got != phone {
		t.Errorf("user %q, want %q", got, phone)
	}
	r = rows(t, page)
	if len(r) != 1 || r["user"].value != phone {
		t.Errorf("data after login %v, want only user", r)
	}
	if id := mustID(t, page, "session-id"); id == idBefore {
		t.Error("login kept the session ID; want Renew")
	}

	// The code works once.
	_, page = b.post("/sms/check", url.Values{"code": {code}})
	wantFlash(t, page, "No code or code expired")
	if got := mustID(t, page, "user"); got != phone {
		t.Errorf("user %q after a reused code, want still %q", got, phone)
	}

	// A new code expires after five minutes; the login does not.
	_, page = b.post("/sms/send", url.Values{"phone": {"+44 20 7946 0000"}})
	code2 := mustID(t, page, "sms-code")
	b.clock.advance(4*time.Minute + 59*time.Second)
	if got, ok := byID(b.get("/"), "sms-code"); !ok || got != code2 {
		t.Errorf("code after 4m59s: %q, %v; want it still", got, ok)
	}
	b.clock.advance(time.Second)
	page = b.get("/")
	if _, ok := byID(page, "sms-code"); ok {
		t.Error("the code is still shown after 5 minutes")
	}
	_, page = b.post("/sms/check", url.Values{"code": {code2}})
	wantFlash(t, page, "No code or code expired")
	if got := mustID(t, page, "user"); got != phone {
		t.Errorf("user %q after the code expired, want still %q", got, phone)
	}
	page = b.get("/session")
	if r := rows(t, page); len(r) != 1 || r["user"].value != phone {
		t.Errorf("data %v, want only user", r)
	}
}

func TestDemoSMSTooManyTries(t *testing.T) {
	b := newBrowser(t)
	_, page := b.post("/sms/send", url.Values{"phone": {"5550100"}})
	code := mustID(t, page, "sms-code")
	wrong := "000000"
	if code == wrong {
		wrong = "111111"
	}
	for i := 1; i <= smsMaxTries; i++ {
		_, page = b.post("/sms/check", url.Values{"code": {wrong}})
		wantFlash(t, page, "Wrong code")
	}
	// The try past the limit is refused before the code is compared, and
	// the code is gone.
	_, page = b.post("/sms/check", url.Values{"code": {code}})
	wantFlash(t, page, "Too many wrong codes: wait a few minutes, then ask for a new one")
	if _, ok := byID(page, "sms-code"); ok {
		t.Error("the code is still shown after too many tries")
	}
	_, page = b.post("/sms/check", url.Values{"code": {code}})
	wantFlash(t, page, "No code or code expired")
	if _, ok := byID(page, "user"); ok {
		t.Error("logged in after too many wrong codes")
	}
}

func TestDemoSetDeleteClear(t *testing.T) {
	b := newBrowser(t)
	_, page := b.post("/session/set", url.Values{"key": {"colour"}, "value": {"blue <&>"}})
	wantFlash(t, page, `Set "colour"`)
	if r := rows(t, page); len(r) != 1 || r["colour"].value != "blue <&>" || r["colour"].deadline != "" {
		t.Errorf("rows %v", r)
	}
	// The size shown is this response's cookie's.
	size, err := strconv.Atoi(mustID(t, page, "cookie-size"))
	if err != nil {
		t.Fatal(err)
	}
	if got := len("session=" + b.cookie()); size != got || size == 0 {
		t.Errorf("cookie-size %d, the cookie is %d bytes", size, got)
	}
	if !strings.Contains(page, "of 4096 bytes") {
		t.Error("no 4096-byte limit shown")
	}

	room := roomOf(t, page)
	_, page = b.post("/session/set", url.Values{"key": {"pet"}, "value": {"cat"}})
	if r := rows(t, page); len(r) != 2 || r["pet"].value != "cat" {
		t.Errorf("rows %v", r)
	}
	// "pet" and "cat" cost 4 msgpack bytes each.
	if got := roomOf(t, page); got != room-8 {
		t.Errorf("cookie-room %d after setting pet=cat, want %d - 8", got, room)
	}
	_, page = b.post("/session/set", url.Values{"key": {"pet"}, "value": {"dog"}})
	if r := rows(t, page); len(r) != 2 || r["pet"].value != "dog" {
		t.Errorf("rows %v", r)
	}
	_, page = b.post("/session/set", url.Values{"key": {"  "}, "value": {"x"}})
	wantFlash(t, page, "Key must not be empty or _csrf")
	_, page = b.post("/session/set", url.Values{"key": {cookiesession.CSRFKey}, "value": {"x"}})
	wantFlash(t, page, "Key must not be empty or _csrf")

	// Too large: refused, and the session is as it was.
	_, page = b.post("/session/set", url.Values{"key": {"blob"}, "value": {strings.Repeat("x", 5000)}})
	if f := flashes(page); len(f) != 1 || !strings.HasPrefix(f[0], "Not set: cookiesession: session too large") {
		t.Errorf("flashes %q", f)
	}
	if r := rows(t, page); len(r) != 2 || r["pet"].value != "dog" {
		t.Errorf("rows after a refused set %v", r)
	}

	// Filling the cookie to the last byte: the value costs its msgpack
	// bytes (a 3-byte str16 header from 256 bytes on) plus 5 for the key
	// "fill", and the flash `Set "fill"` that rides along costs 11.
	room = roomOf(t, page)
	n := room - 5 - 3 - 11
	if n < 256 {
		t.Fatalf("cookie-room %d: too little to fill with a str16", room)
	}
	_, page = b.post("/session/set", url.Values{"key": {"fill"}, "value": {strings.Repeat("f", n+1)}})
	if f := flashes(page); len(f) != 1 || f[0] != "Not set: cookiesession: session too large: 1 bytes over the cookie limit" {
		t.Errorf("one byte too many: flashes %q", f)
	}
	if r := rows(t, page); len(r) != 2 || r["fill"].value != "" {
		t.Errorf("rows after a refused fill %v", r)
	}
	_, page = b.post("/session/set", url.Values{"key": {"fill"}, "value": {strings.Repeat("f", n)}})
	wantFlash(t, page, `Set "fill"`)
	if r := rows(t, page); len(r) != 3 || len(r["fill"].value) != n {
		t.Errorf("the fill that fits was not kept: %d rows", len(r))
	}
	if got := roomOf(t, page); got != 11 {
		t.Errorf("cookie-room %d once the flash is shown, want the flash's 11 bytes", got)
	}
	size, err = strconv.Atoi(mustID(t, page, "cookie-size"))
	if err != nil {
		t.Fatal(err)
	}
	if got := len("session=" + b.cookie()); size != got || size > 4096 {
		t.Errorf("full cookie: cookie-size %d, the cookie is %d bytes", size, got)
	}
	_, page = b.post("/session/delete", url.Values{"key": {"fill"}})
	wantFlash(t, page, `Deleted "fill"`)

	_, page = b.post("/session/delete", url.Values{"key": {"pet"}})
	wantFlash(t, page, `Deleted "pet"`)
	if r := rows(t, page); len(r) != 1 || r["colour"].value != "blue <&>" {
		t.Errorf("rows after delete %v", r)
	}
	_, page = b.post("/session/delete", url.Values{"key": {"pet"}})
	wantFlash(t, page, `No key "pet"`)

	id := mustID(t, page, "session-id")
	_, page = b.post("/session/clear", nil)
	wantFlash(t, page, "Cleared: data gone, same session ID and expiry policy")
	if r := rows(t, page); len(r) != 0 {
		t.Errorf("rows after clear %v", r)
	}
	if got := mustID(t, page, "session-id"); got != id {
		t.Errorf("clear changed the session ID from %q to %q", id, got)
	}
	// Nothing left but the new CSRF secret the page's forms needed.
	if keys := b.sessionKeys(); len(keys) != 1 || keys[0] != cookiesession.CSRFKey {
		t.Errorf("session after clear holds %q, want only the CSRF secret", keys)
	}
}

func TestDemoFlush(t *testing.T) {
	b := newBrowser(t)
	_, page := b.post("/session/set", url.Values{"key": {"user"}, "value": {"ada"}})
	if got := mustID(t, page, "user"); got != "ada" {
		t.Fatalf("user %q", got)
	}
	id := mustID(t, page, "session-id")
	_, page = b.post("/session/flush", nil)
	wantFlash(t, page, "Logged out: session flushed")
	if _, ok := byID(page, "user"); ok {
		t.Error("still logged in after flush")
	}
	if keys := b.sessionKeys(); len(keys) != 1 || keys[0] != cookiesession.CSRFKey {
		t.Errorf("session after flush holds %q, want only a new CSRF secret", keys)
	}
	page = b.get("/session")
	if r := rows(t, page); len(r) != 0 {
		t.Errorf("rows after flush %v", r)
	}
	if got := mustID(t, page, "session-id"); got == id {
		t.Error("flush kept the session ID")
	}
}

func TestDemoExpiry(t *testing.T) {
	b := newBrowser(t)
	b.post("/session/set", url.Values{"key": {"k"}, "value": {"v"}})

	tests := []struct {
		seconds      string
		flash        string
		policy       string
		maxAge       int
		browserClose string
	}{
		{"3600", "Expiry: after 1h0m0s without activity", "idle 1h0m0s", 3600, "false"},
		{"0", "Expiry: when the browser closes", "browser-close", -1, "true"},
		{"", "Expiry: default", "default", 14 * 86400, "false"},
		{" 90 ", "Expiry: after 1m30s without activity", "idle 1m30s", 90, "false"},
	}
	for _, tt := range tests {
		setCookie, page := b.post("/session/expiry", url.Values{"seconds": {tt.seconds}})
		wantFlash(t, page, tt.flash)
		if got := maxAge(t, setCookie); got != tt.maxAge {
			t.Errorf("seconds %q: Max-Age %d, want %d", tt.seconds, got, tt.maxAge)
		}
		if got := mustID(t, page, "expiry-policy"); got != tt.policy {
			t.Errorf("seconds %q: policy %q, want %q", tt.seconds, got, tt.policy)
		}
		if got := mustID(t, page, "browser-close"); got != tt.browserClose {
			t.Errorf("seconds %q: browser close %q, want %s", tt.seconds, got, tt.browserClose)
		}
		date := mustID(t, page, "expiry-date")
		want := b.clock.now().Add(time.Duration(tt.maxAge) * time.Second)
		if tt.maxAge < 0 {
			want = b.clock.now().Add(cookiesession.DefaultMaxAge)
		}
		if !strings.HasPrefix(date, want.UTC().Format(time.RFC3339)) {
			t.Errorf("seconds %q: expiry date %q, want %s", tt.seconds, date, want.UTC().Format(time.RFC3339))
		}
		// The page's request brought the cookie the POST sealed a moment
		// ago (same clock), so its deadline is the same instant.
		if got := mustID(t, page, "cookie-deadline"); !strings.HasPrefix(got, want.UTC().Format(time.RFC3339)) {
			t.Errorf("seconds %q: cookie deadline %q, want %s", tt.seconds, got, want.UTC().Format(time.RFC3339))
		}
	}

	// Later, the cookie that comes in still has the deadline it was sealed
	// with, while a reseal would push the expiry date on.
	sealed := b.clock.now()
	b.clock.advance(20 * time.Second)
	page := b.get("/session")
	if got, want := mustID(t, page, "cookie-deadline"), sealed.Add(90*time.Second).UTC().Format(time.RFC3339)+" (in 1m10s)"; got != want {
		t.Errorf("cookie deadline %q 20 s after the seal, want %q", got, want)
	}
	if got, want := mustID(t, page, "expiry-date"), b.clock.now().Add(90*time.Second).UTC().Format(time.RFC3339)+" (in 1m30s)"; got != want {
		t.Errorf("expiry date %q 20 s after the seal, want %q", got, want)
	}

	// The idle window slides with activity and ends without it. (The
	// page above was within the first quarter of the window: no reseal.)
	b.clock.advance(69 * time.Second)
	if r := rows(t, b.get("/session")); r["k"].value != "v" {
		t.Fatalf("session gone before its 90 s idle window: %v", r)
	}
	b.clock.advance(90 * time.Second)
	if r := rows(t, b.get("/session")); len(r) != 0 {
		t.Errorf("session alive after 90 s idle: %v", r)
	}

	b.post("/session/set", url.Values{"key": {"k"}, "value": {"v"}})
	for _, bad := range []string{"-1", "soon", "1.5", "999999999999"} {
		_, page := b.post("/session/expiry", url.Values{"seconds": {bad}})
		if f := flashes(page); len(f) != 1 || !strings.HasPrefix(f[0], "Seconds must be") {
			t.Errorf("seconds %q: flashes %q", bad, f)
		}
		if got := mustID(t, page, "expiry-policy"); got != "default" {
			t.Errorf("seconds %q changed the policy to %q", bad, got)
		}
	}
}

// roomOf returns the page's #cookie-room.
func roomOf(t *testing.T, page string) int {
	t.Helper()
	n, err := strconv.Atoi(mustID(t, page, "cookie-room"))
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func TestDemoRotate(t *testing.T) {
	b := newBrowser(t)
	b.post("/session/set", url.Values{"key": {"k"}, "value": {"v"}})
	page := b.get("/session")
	if got := mustID(t, page, "key-id"); got != "first" {
		t.Fatalf("key-id %q, want first", got)
	}
	if got := mustID(t, page, "primary-key-id"); got != "first" {
		t.Fatalf("primary-key-id %q, want first", got)
	}

	seen := []string{"first"}
	for i := 0; i < 4; i++ {
		setCookie, page := b.post("/session/rotate", nil)
		primary := b.keys.PrimaryID()
		if primary == seen[len(seen)-1] || !strings.HasPrefix(primary, "demo-") {
			t.Fatalf("rotation %d: primary %q", i, primary)
		}
		seen = append(seen, primary)
		// The rotate response itself reseals with the new key.
		if len(setCookie) != 1 || !strings.HasPrefix(setCookie[0], "session="+primary+".") {
			t.Errorf("rotation %d: Set-Cookie %q, want a value sealed with %s", i, setCookie, primary)
		}
		wantFlash(t, page, "Rotated: new cookies are sealed with "+primary)
		if got := mustID(t, page, "key-id"); got != primary {
			t.Errorf("rotation %d: key-id %q, want %q", i, got, primary)
		}
		if got := mustID(t, page, "primary-key-id"); got != primary {
			t.Errorf("rotation %d: primary-key-id %q, want %q", i, got, primary)
		}
		if r := rows(t, page); r["k"].value != "v" {
			t.Errorf("rotation %d lost the data: %v", i, r)
		}
		for _, id := range b.keys.IDs() {
			if !strings.Contains(page, "<code>"+id+"</code>") {
				t.Errorf("rotation %d: keyring ID %s not shown", i, id)
			}
		}
	}
	// The ring keeps the newest keys only.
	ids := b.keys.IDs()
	want := []string{seen[4], seen[3], seen[2]}
	if strings.Join(ids, ",") != strings.Join(want, ",") {
		t.Errorf("keyring %v, want %v", ids, want)
	}
}

// TestDemoStaleKey checks what a visitor whose cookie was sealed with a
// retired key sees: a fresh session, not an error.
func TestDemoStaleKey(t *testing.T) {
	b := newBrowser(t)
	b.post("/session/set", url.Values{"key": {"k"}, "value": {"v"}})
	for i := 0; i < 3; i++ {
		k, err := cookiesession.GenerateKey(newKeyID())
		if err != nil {
			t.Fatal(err)
		}
		if err := b.keys.Rotate(k); err != nil {
			t.Fatal(err)
		}
	}
	if err := b.keys.Retire("first"); err != nil {
		t.Fatal(err)
	}
	page := b.get("/session")
	if r := rows(t, page); len(r) != 0 {
		t.Errorf("rows %v from a cookie sealed with a retired key", r)
	}
	// The old cookie is replaced by a new session that holds only the
	// CSRF secret of the page's forms.
	if c := b.cookie(); !strings.HasPrefix(c, b.keys.PrimaryID()+".") {
		t.Errorf("cookie %.24q... kept, want a new one sealed with %s", c, b.keys.PrimaryID())
	}
	if keys := b.sessionKeys(); len(keys) != 1 || keys[0] != cookiesession.CSRFKey {
		t.Errorf("session after a retired key holds %q, want only the CSRF secret", keys)
	}
}
