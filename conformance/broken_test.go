package conformance_test

import (
	"net/http"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/cookiesession/cookiesession"
	"github.com/cookiesession/cookiesession/conformance"
)

// brokenStacks are the glue the issue found in the wild, each breaking a
// rule the suite must catch.
var brokenStacks = map[string]struct {
	serve func(t *testing.T, codec *cookiesession.Codec, routes map[string]conformance.Handler) string
	fails []string // scenarios that must fail
}{
	// The session is committed when the handler returns, without wrapping
	// the writer (the obvious gin adapter): whatever the handler wrote
	// first went out without the cookie.
	"commit-on-return": {
		serve: func(t *testing.T, codec *cookiesession.Codec, routes map[string]conformance.Handler) string {
			mux := http.NewServeMux()
			for path, h := range routes {
				mux.HandleFunc(path, func(w http.ResponseWriter, r *http.Request) {
					s := codec.Load(r.Context(), r.Header["Cookie"]...)
					conformance.ServeHTTP(h, s, w)
					codec.CommitResponse(w, r, s, http.StatusOK)
				})
			}
			return conformance.NewServer(t, recoverer(mux))
		},
		fails: []string{"CookieBeforeFirstByte", "FlashShownOnce", "LoginSetsCookie"},
	},
	// The framework's error is answered after the middleware returned
	// (echo.WrapMiddleware): the session was committed as a 200.
	"error-after-commit": {
		serve: func(t *testing.T, codec *cookiesession.Codec, routes map[string]conformance.Handler) string {
			mux := http.NewServeMux()
			for path, h := range routes {
				mux.HandleFunc(path, func(w http.ResponseWriter, r *http.Request) {
					var err error
					codec.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
						err = h(codec.Session(r), conformance.NewResponse(w))
					})).ServeHTTP(w, r)
					if err != nil {
						http.Error(w, "error", conformance.Code(err))
					}
				})
			}
			return conformance.NewServer(t, recoverer(mux))
		},
		fails: []string{"ServerErrorSavesNothing", "LogoutSurvivesServerError"},
	},
}

// TestBrokenStacksFail proves the suite can fail: it runs it, in a child
// process, through each broken stack and expects the scenarios that stack
// breaks to fail.
func TestBrokenStacksFail(t *testing.T) {
	if name := os.Getenv("CONFORMANCE_BROKEN"); name != "" {
		conformance.Run(t, conformance.Stack{Name: name, Serve: brokenStacks[name].serve})
		return
	}
	for name, b := range brokenStacks {
		t.Run(name, func(t *testing.T) {
			cmd := exec.Command(os.Args[0], "-test.run=^TestBrokenStacksFail$", "-test.v")
			cmd.Env = append(os.Environ(), "CONFORMANCE_BROKEN="+name)
			out, err := cmd.CombinedOutput()
			if err == nil {
				t.Fatalf("the suite passed a broken stack:\n%s", out)
			}
			for _, sc := range b.fails {
				if !strings.Contains(string(out), "--- FAIL: TestBrokenStacksFail/"+sc+" ") {
					t.Errorf("scenario %s did not fail:\n%s", sc, out)
				}
			}
		})
	}
}
