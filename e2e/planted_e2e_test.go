package e2e

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/cookiesession/cookiesession"
)

// plantingServer is another service on the same host (cookies do not
// separate ports): GET /plant answers with the Set-Cookie lines given.
func plantingServer(t *testing.T, setCookies ...string) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		for _, sc := range setCookies {
			w.Header().Add("Set-Cookie", sc)
		}
		page(w, "plant", `<p id="status">planted</p>`)
	}))
	t.Cleanup(srv.Close)
	return srv
}

// TestPlantedCookiesDoNotLogOut: with a cookie name that can be planted
// (Insecure, so "session") and MaxCookies > 1, another service on the host
// plants a junk "session" and a junk "session.1" under a longer Path, so
// the browser sends them before the genuine one-cookie session. The user
// stays logged in and the genuine cookie stays in the store.
func TestPlantedCookiesDoNotLogOut(t *testing.T) {
	a := newApp(t, func(cfg *cookiesession.Config) {
		cfg.Insecure = true
		cfg.MaxCookies = 4
	})
	if a.codec.Name() != cookiesession.DefaultName {
		t.Fatalf("name %q", a.codec.Name())
	}
	ctx := isolatedTab(t)
	a.login(t, ctx, "alice")
	genuine, ok := storeCookie(t, ctx, "session", a.url("/"))
	if !ok {
		t.Fatal("no session cookie after login")
	}
	evil := plantingServer(t, "session=k1.junk; Path=/me; HttpOnly", "session.1=junk; Path=/me; HttpOnly")
	if status := navigate(t, ctx, evil.URL+"/plant"); status != http.StatusOK {
		t.Fatalf("plant: status %d", status)
	}
	planted := 0
	for _, c := range storeCookies(t, ctx, a.url("/me")) {
		if strings.HasPrefix(c.Name, "session") && c.Path == "/me" {
			planted++
		}
	}
	if planted != 2 {
		t.Fatalf("the browser holds %d planted cookies, want 2", planted)
	}
	if got := a.userOn(t, ctx); got != "alice" {
		t.Fatalf("with planted cookies sent first, /me shows %q, want alice", got)
	}
	if c, ok := storeCookie(t, ctx, "session", a.url("/")); !ok || c.Value != genuine.Value {
		t.Fatalf("the genuine cookie is gone or changed (found %v)", ok)
	}
}

// TestHostCookieCannotBeShadowed: the default __Host-session name. The
// browser refuses a planted __Host- cookie under a longer Path or without
// Secure, so none is sent before the genuine one. (Cookies do not separate
// ports: a service on the same host name can still overwrite the cookie
// with Path /; the prefix keeps out sibling subdomains and plain HTTP.)
func TestHostCookieCannotBeShadowed(t *testing.T) {
	a := newApp(t, nil)
	ctx := isolatedTab(t)
	a.login(t, ctx, "alice")
	evil := plantingServer(t,
		hostName+"=k1.junk1; Path=/me; Secure; HttpOnly",
		hostName+"=k1.junk3; Path=/me; HttpOnly",
	)
	navigate(t, ctx, evil.URL+"/plant")
	for _, c := range storeCookies(t, ctx, a.url("/me")) {
		if c.Name == hostName && strings.Contains(c.Value, "junk") {
			t.Errorf("the browser stored a planted %s (Path %q)", hostName, c.Path)
		}
	}
	if got := a.userOn(t, ctx); got != "alice" {
		t.Fatalf("/me shows %q, want alice", got)
	}
}

// TestUpgradeFromSessionName: a browser logged in under the old default
// name "session" stays logged in after the application upgrades to the
// __Host-session default; the response moves the session to the new name
// and deletes the old cookie.
func TestUpgradeFromSessionName(t *testing.T) {
	old := newApp(t, func(cfg *cookiesession.Config) { cfg.Name = cookiesession.DefaultName })
	ctx := isolatedTab(t)
	old.login(t, ctx, "alice")
	if _, ok := storeCookie(t, ctx, "session", old.url("/")); !ok {
		t.Fatal("no session cookie after login")
	}
	// The upgraded application: same keys, no Name (another port, same host).
	cur := newApp(t, func(cfg *cookiesession.Config) {
		cfg.Keys = old.keys
		cfg.Now = old.clock.Now
	})
	if got := cur.userOn(t, ctx); got != "alice" {
		t.Fatalf("after the upgrade /me shows %q, want alice", got)
	}
	if _, ok := storeCookie(t, ctx, "session", cur.url("/")); ok {
		t.Error("the old session cookie is still in the store")
	}
	c, ok := storeCookie(t, ctx, hostName, cur.url("/"))
	if !ok || !c.Secure || !c.HTTPOnly || c.Path != "/" || c.Session {
		t.Fatalf("the new cookie is %+v (found %v), want a persistent Secure HttpOnly %s at /", c, ok, hostName)
	}
	if got := cur.userOn(t, ctx); got != "alice" {
		t.Fatalf("on the next page /me shows %q, want alice", got)
	}
}
