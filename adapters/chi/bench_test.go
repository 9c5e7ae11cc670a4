package chi_test

import (
	"net/http"
	"testing"

	"github.com/cookiesession/cookiesession/internal/adaptertest"
	"github.com/go-chi/chi/v5"
)

func ok(w http.ResponseWriter, r *http.Request) { _, _ = w.Write([]byte("ok")) }

// BenchmarkBare is the chi handler with no session middleware.
func BenchmarkBare(b *testing.B) {
	_, cookie := adaptertest.Codec(b)
	r := chi.NewRouter()
	r.Get("/", ok)
	adaptertest.ServeHTTP(b, r, cookie, false)
}

// BenchmarkUntouched adds Codec.Middleware; the handler never touches the
// session.
func BenchmarkUntouched(b *testing.B) {
	codec, cookie := adaptertest.Codec(b)
	r := chi.NewRouter()
	r.Use(codec.Middleware)
	r.Get("/", ok)
	adaptertest.ServeHTTP(b, r, cookie, false)
}

// BenchmarkRoundTrip: the handler reads the session and changes it; the
// middleware opens and reseals the cookie.
func BenchmarkRoundTrip(b *testing.B) {
	codec, cookie := adaptertest.Codec(b)
	r := chi.NewRouter()
	r.Use(codec.Middleware)
	r.Get("/", func(w http.ResponseWriter, r *http.Request) {
		if !adaptertest.RoundTrip(codec.Session(r)) {
			http.Error(w, "session not read", http.StatusInternalServerError)
			return
		}
		ok(w, r)
	})
	adaptertest.ServeHTTP(b, r, cookie, true)
}

// BenchmarkBareServeMux and BenchmarkRoundTripServeMux are the same on
// the standard library's http.ServeMux, for the net/http row.
func BenchmarkBareServeMux(b *testing.B) {
	_, cookie := adaptertest.Codec(b)
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", ok)
	adaptertest.ServeHTTP(b, mux, cookie, false)
}

func BenchmarkUntouchedServeMux(b *testing.B) {
	codec, cookie := adaptertest.Codec(b)
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", ok)
	adaptertest.ServeHTTP(b, codec.Middleware(mux), cookie, false)
}

func BenchmarkRoundTripServeMux(b *testing.B) {
	codec, cookie := adaptertest.Codec(b)
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		if !adaptertest.RoundTrip(codec.Session(r)) {
			http.Error(w, "session not read", http.StatusInternalServerError)
			return
		}
		ok(w, r)
	})
	adaptertest.ServeHTTP(b, codec.Middleware(mux), cookie, true)
}
