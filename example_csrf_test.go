package cookiesession_test

import (
	"fmt"
	"html/template"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"

	"github.com/cookiesession/cookiesession"
)

// A form protected by Codec.CSRF: the page puts a token of the visitor's
// session in a hidden field, and a post without one is refused with 403.
func ExampleCodec_CSRF() {
	key, _ := cookiesession.GenerateKey("k1")
	keys, _ := cookiesession.NewKeyring(key)
	codec, _ := cookiesession.NewCodec(cookiesession.Config{
		Keys:   keys,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), // refusals are logged at warn level
	})
	form := template.Must(template.New("form").Parse(
		`<form method="post" action="/save"><input type="hidden" name="csrf_token" value="{{.}}"><button>Save</button></form>`))

	mux := http.NewServeMux()
	mux.HandleFunc("GET /edit", func(w http.ResponseWriter, r *http.Request) {
		form.Execute(w, cookiesession.FromContext(r.Context()).CSRFToken())
	})
	mux.HandleFunc("POST /save", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, "saved")
	})
	app := codec.Middleware(codec.CSRF(mux))

	// The browser loads the form and gets its session cookie.
	rec := httptest.NewRecorder()
	app.ServeHTTP(rec, httptest.NewRequest("GET", "/edit", nil))
	cookie := rec.Result().Cookies()[0]
	page := rec.Body.String()
	token := page[strings.Index(page, `value="`)+7 : strings.Index(page, `"><button>`)]

	post := func(token string) *httptest.ResponseRecorder {
		req := httptest.NewRequest("POST", "/save", strings.NewReader(url.Values{"csrf_token": {token}}.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.AddCookie(cookie)
		rec := httptest.NewRecorder()
		app.ServeHTTP(rec, req)
		return rec
	}
	fmt.Println("with the page's token:", post(token).Code)
	refused := post("")
	fmt.Println("without a token:", refused.Code, strings.TrimSpace(refused.Body.String()))
	// Output:
	// with the page's token: 200
	// without a token: 403 403 Forbidden: cookiesession: CSRF check failed: no CSRF token in the X-CSRF-Token header or the csrf_token form field
}

// Typed flash messages in named categories.
func ExampleFlashes() {
	key, _ := cookiesession.GenerateKey("k1")
	keys, _ := cookiesession.NewKeyring(key)
	codec, _ := cookiesession.NewCodec(cookiesession.Config{Keys: keys})

	type Flash struct{ Level, Text string }
	s := codec.New()
	s.AddFlash(Flash{"info", "Profile saved"})
	s.AddFlashTo("errors", "Phone number is invalid")
	value, _ := codec.Encode(s)

	s, _ = codec.Decode(value) // the next request
	for _, f := range cookiesession.Flashes[Flash](s) {
		fmt.Printf("%s: %s\n", f.Level, f.Text)
	}
	fmt.Println(s.FlashesFrom("errors"))
	fmt.Println(s.Flashes()) // every flash has been read
	// Output:
	// info: Profile saved
	// [Phone number is invalid]
	// []
}
