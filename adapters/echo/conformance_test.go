package echosession_test

import (
	"testing"

	"github.com/cookiesession/cookiesession"
	"github.com/cookiesession/cookiesession/adapters/echo"
	"github.com/cookiesession/cookiesession/conformance"
	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"
)

// TestConformance runs the shared suite through echo, with echo's Recover
// middleware outside the session middleware; a handler's error is an
// *echo.HTTPError (or a plain error, which echo answers with a 500).
func TestConformance(t *testing.T) {
	conformance.Run(t, conformance.Stack{
		Name: "echo",
		Serve: func(t *testing.T, codec *cookiesession.Codec, routes map[string]conformance.Handler) string {
			e := echo.New()
			e.HideBanner = true
			e.Use(middleware.RecoverWithConfig(middleware.RecoverConfig{DisablePrintStack: true}), echosession.Middleware(codec))
			for path, h := range routes {
				e.Any(path, func(c echo.Context) error {
					err := h(echosession.Session(c, codec), response{c})
					if _, ok := err.(*conformance.StatusError); ok {
						return echo.NewHTTPError(conformance.Code(err))
					}
					return err
				})
			}
			return conformance.NewServer(t, e)
		},
	})
}

// response answers through echo's own calls.
type response struct{ c echo.Context }

func (r response) SetHeader(key, value string) { r.c.Response().Header().Set(key, value) }
func (r response) WriteHeader(code int)        { r.c.Response().WriteHeader(code) }
func (r response) WriteString(body string)     { _, _ = r.c.Response().Write([]byte(body)) }
func (r response) Flush()                      { r.c.Response().Flush() }
