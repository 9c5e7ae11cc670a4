package fibersession_test

import (
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/cookiejar"
	"strings"

	"github.com/cookiesession/cookiesession"
	"github.com/cookiesession/cookiesession/adapters/fiber"
	"github.com/gofiber/fiber/v3"
	recoverer "github.com/gofiber/fiber/v3/middleware/recover"
)

// A small app on fiber: login with a flash message, a page, logout.
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

	app := fiber.New()
	app.Use(recoverer.New(), fibersession.New(fibersession.Config{Codec: codec}))
	app.Post("/login", func(c fiber.Ctx) error {
		s := fibersession.Session(c, codec)
		s.Renew() // a new session ID at login
		s.Set("user", "ada")
		s.AddFlash("welcome")
		return c.Redirect().Status(fiber.StatusSeeOther).To("/")
	})
	app.Post("/logout", func(c fiber.Ctx) error {
		fibersession.Session(c, codec).Flush()
		return c.Redirect().Status(fiber.StatusSeeOther).To("/")
	})
	app.Get("/", func(c fiber.Ctx) error {
		s := fibersession.Session(c, codec)
		return c.SendString(fmt.Sprintf("%v hello, %s", s.Flashes(), cookiesession.GetOr(s, "user", "guest")))
	})

	// In production: app.Listen(addr).
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		log.Fatal(err)
	}
	go app.Listener(ln, fiber.ListenConfig{DisableStartupMessage: true})
	defer app.Shutdown()
	browse("http://"+ln.Addr().String(), "GET /", "POST /login", "GET /", "POST /logout")
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
