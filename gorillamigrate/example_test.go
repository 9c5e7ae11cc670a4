package gorillamigrate_test

import (
	"fmt"
	"log"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"

	"github.com/cookiesession/cookiesession"
	"github.com/cookiesession/cookiesession/gorillamigrate"
	"github.com/gorilla/sessions"
)

func Example() {
	// The application's old gorilla/sessions keys, e.g. from the
	// environment, and a cookie its old CookieStore set.
	hashKey := []byte(strings.Repeat("h", 32))
	blockKey := []byte(strings.Repeat("b", 32))
	oldStore := sessions.NewCookieStore(hashKey, blockKey)
	legacy := httptest.NewRecorder()
	old, _ := oldStore.New(httptest.NewRequest("GET", "/", nil), "app-session")
	old.Values["user"] = "ada"
	old.AddFlash("welcome back")
	if err := old.Save(httptest.NewRequest("GET", "/", nil), legacy); err != nil {
		log.Fatal(err)
	}

	// The new setup: a cookiesession codec, and the Migrator inside its
	// middleware.
	key, _ := cookiesession.GenerateKey("k1")
	keys, _ := cookiesession.NewKeyring(key)
	codec, err := cookiesession.NewCodec(cookiesession.Config{Keys: keys})
	if err != nil {
		log.Fatal(err)
	}
	migrator, err := gorillamigrate.New(codec, "app-session", hashKey, blockKey)
	if err != nil {
		log.Fatal(err)
	}
	migrator = migrator.WithLogger(slog.New(slog.DiscardHandler))
	app := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s := cookiesession.FromContext(r.Context())
		user, _ := cookiesession.Get[string](s, "user")
		fmt.Println("user:", user, "flashes:", s.Flashes())
	})
	handler := codec.Middleware(migrator.Middleware(app))

	// The user's next request carries the legacy cookie.
	req := httptest.NewRequest("GET", "/", nil)
	for _, ck := range legacy.Result().Cookies() {
		req.AddCookie(&http.Cookie{Name: ck.Name, Value: ck.Value})
	}
	rec := httptest.NewRecorder()
	handler.ServeHTTP(rec, req)
	for _, ck := range rec.Result().Cookies() {
		fmt.Printf("Set-Cookie %s: value set %v, deleted %v\n", ck.Name, ck.Value != "", ck.MaxAge < 0)
	}
	// Output:
	// user: ada flashes: [welcome back]
	// Set-Cookie app-session: value set false, deleted true
	// Set-Cookie session: value set true, deleted false
}
