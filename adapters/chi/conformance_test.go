// Package chi_test runs the conformance suite through chi: chi is built on
// net/http, so cookiesession.Codec.Middleware mounts on it as it is, with
// no adapter.
package chi_test

import (
	"net/http"
	"testing"

	"github.com/cookiesession/cookiesession"
	"github.com/cookiesession/cookiesession/conformance"
	"github.com/go-chi/chi/v5"
	"github.com/go-chi/chi/v5/middleware"
)

// TestConformance runs the shared suite through a chi router, with chi's
// Recoverer outside the session middleware.
func TestConformance(t *testing.T) {
	conformance.Run(t, conformance.Stack{
		Name: "chi",
		Serve: func(t *testing.T, codec *cookiesession.Codec, routes map[string]conformance.Handler) string {
			r := chi.NewRouter()
			r.Use(middleware.Recoverer, codec.Middleware)
			for path, h := range routes {
				r.HandleFunc(path, func(w http.ResponseWriter, r *http.Request) {
					conformance.ServeHTTP(h, codec.Session(r), w)
				})
			}
			return conformance.NewServer(t, r)
		},
	})
}
