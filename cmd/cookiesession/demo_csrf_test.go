package main

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// TestDemoCSRF checks that every form of the demo carries a CSRF token and
// that a POST without this session's token, or from another origin, is
// refused with 403 and changes nothing.
func TestDemoCSRF(t *testing.T) {
	b := newBrowser(t)
	index := b.get("/")
	first := b.csrf
	session := b.get("/session")
	if b.csrf == first {
		t.Error("two pages carry the same token; want a fresh mask per page")
	}
	for name, page := range map[string]string{"index": index, "session": session} {
		forms := strings.Count(page, "<form ")
		tokens := len(csrfRE.FindAllString(page, -1))
		if forms == 0 || tokens != forms {
			t.Errorf("%s page: %d forms, %d CSRF fields; want one in each form", name, forms, tokens)
		}
	}
	b.post("/session/set", url.Values{"key": {"colour"}, "value": {"blue"}})

	other := newBrowser(t)
	other.get("/")
	refused := map[string]*http.Request{}
	form := func(token string) string {
		return url.Values{"key": {"colour"}, "value": {"red"}, "csrf_token": {token}}.Encode()
	}
	newPost := func(body string) *http.Request {
		req, err := http.NewRequest("POST", b.srv.URL+"/session/set", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		return req
	}
	refused["no token"] = newPost(url.Values{"key": {"colour"}, "value": {"red"}}.Encode())
	refused["another visitor's token"] = newPost(form(other.csrf))
	refused["a garbled token"] = newPost(form(strings.Repeat("A", len(b.csrf))))
	crossSite := newPost(form(b.csrf))
	crossSite.Header.Set("Origin", "http://evil.example")
	refused["the right token from another origin"] = crossSite
	for name, req := range refused {
		resp, err := b.client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusForbidden {
			t.Errorf("%s: %s, want 403 Forbidden", name, resp.Status)
		}
	}
	if r := rows(t, b.get("/session")); r["colour"].value != "blue" {
		t.Errorf("colour = %q after refused posts, want blue", r["colour"].value)
	}
	// The page's own token still works.
	_, page := b.post("/session/set", url.Values{"key": {"colour"}, "value": {"green"}})
	if r := rows(t, page); r["colour"].value != "green" {
		t.Errorf("colour = %q after a post with the page's token, want green", r["colour"].value)
	}
}
