package conformance_test

import (
	"net/http"
	"testing"

	"github.com/cookiesession/cookiesession"
	"github.com/cookiesession/cookiesession/conformance"
)

// TestNetHTTP runs the suite through Codec.Middleware on a plain
// http.ServeMux, with a recovery middleware outside it as applications
// use one.
func TestNetHTTP(t *testing.T) {
	conformance.Run(t, conformance.Stack{
		Name: "net/http",
		Serve: func(t *testing.T, codec *cookiesession.Codec, routes map[string]conformance.Handler) string {
			mux := http.NewServeMux()
			for path, h := range routes {
				mux.HandleFunc(path, func(w http.ResponseWriter, r *http.Request) {
					conformance.ServeHTTP(h, codec.Session(r), w)
				})
			}
			return conformance.NewServer(t, recoverer(codec.Middleware(mux)))
		},
	})
}

// recoverer answers a panic with a 500, as recovery middleware does.
func recoverer(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			if recover() != nil {
				http.Error(w, "internal error", http.StatusInternalServerError)
			}
		}()
		next.ServeHTTP(w, r)
	})
}
