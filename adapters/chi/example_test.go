package chi_test

import (
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"strings"

	"github.com/cookiesession/cookiesession"
	"github.com/go-chi/chi/v5"
	"github.com/go-chi/chi/v5/middleware"
)

// A small app on chi: login with a flash message, a page, logout. chi is
// built on net/http, so Codec.Middleware mounts on it as it is.
func Example() {
	key, err := cookiesession.GenerateKey("k1") // in production: ParseKeys(os.Getenv("COOKIESESSION_KEYS"))
	if err != nil {
		log.Fatal(err)
	}
	keys, err := cookiesession.NewKeyring(key)
	if err != nil {
		log.Fatal(err)
	}
	codec, err := cookiesession.NewCodec(cookiesession.Config{Keys: keys, Insecure: true}) // Insecure: this example serves plain http
	if err != nil {
		log.Fatal(err)
	}

	r := chi.NewRouter()
	r.Use(middleware.Recoverer, codec.Middleware)
	r.Post("/login", func(w http.ResponseWriter, r *http.Request) {
		s := codec.Session(r)
		s.Renew() // a new session ID at login
		s.Set("user", "ada")
		s.AddFlash("welcome")
		http.Redirect(w, r, "/", http.StatusSeeOther)
	})
	r.Post("/logout", func(w http.ResponseWriter, r *http.Request) {
		codec.Session(r).Flush()
		http.Redirect(w, r, "/", http.StatusSeeOther)
	})
	r.Get("/", func(w http.ResponseWriter, r *http.Request) {
		s := codec.Session(r)
		fmt.Fprintf(w, "%v hello, %s", s.Flashes(), cookiesession.GetOr(s, "user", "guest"))
	})

	srv := httptest.NewServer(r) // in production: http.ListenAndServe(addr, r)
	defer srv.Close()
	browse(srv.URL, "GET /", "POST /login", "GET /", "POST /logout")
	// Output:
	// GET / → [] hello, guest
	// POST /login → [welcome] hello, ada
	// GET / → [] hello, ada
	// POST /logout → [] hello, guest
}

// browse visits base's paths in order as a browser would (a cookie jar,
// redirects followed) and prints each final page.
func browse(base string, steps ...string) {
	jar, err := cookiejar.New(nil)
	if err != nil {
		log.Fatal(err)
	}
	client := &http.Client{Jar: jar}
	for _, step := range steps {
		method, path, _ := strings.Cut(step, " ")
		req, err := http.NewRequest(method, base+path, nil)
		if err != nil {
			log.Fatal(err)
		}
		resp, err := client.Do(req)
		if err != nil {
			log.Fatal(err)
		}
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil {
			log.Fatal(err)
		}
		fmt.Printf("%s → %s\n", step, body)
	}
}
