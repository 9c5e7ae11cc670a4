package echosession_test

import (
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"strings"

	"github.com/cookiesession/cookiesession"
	"github.com/cookiesession/cookiesession/adapters/echo"
	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"
)

// A small app on echo: login with a flash message, a page, logout.
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

	e := echo.New()
	e.Use(middleware.Recover(), echosession.Middleware(codec))
	e.POST("/login", func(c echo.Context) error {
		s := echosession.Session(c, codec)
		s.Renew() // a new session ID at login
		s.Set("user", "ada")
		s.AddFlash("welcome")
		return c.Redirect(http.StatusSeeOther, "/")
	})
	e.POST("/logout", func(c echo.Context) error {
		echosession.Session(c, codec).Flush()
		return c.Redirect(http.StatusSeeOther, "/")
	})
	e.GET("/", func(c echo.Context) error {
		s := echosession.Session(c, codec)
		return c.String(http.StatusOK, fmt.Sprintf("%v hello, %s", s.Flashes(), cookiesession.GetOr(s, "user", "guest")))
	})

	srv := httptest.NewServer(e) // in production: e.Start(addr)
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
