package ginsession_test

import (
	"io"
	"net/http"
	"testing"

	"github.com/cookiesession/cookiesession"
	"github.com/cookiesession/cookiesession/adapters/gin"
	"github.com/cookiesession/cookiesession/conformance"
	"github.com/gin-gonic/gin"
)

func init() { gin.SetMode(gin.ReleaseMode) }

// TestConformance runs the shared suite through gin, with gin.Recovery
// outside the session middleware as gin.Default() installs it.
func TestConformance(t *testing.T) {
	conformance.Run(t, conformance.Stack{
		Name: "gin",
		Serve: func(t *testing.T, codec *cookiesession.Codec, routes map[string]conformance.Handler) string {
			r := gin.New()
			r.Use(gin.RecoveryWithWriter(io.Discard), ginsession.Middleware(codec))
			for path, h := range routes {
				r.Any(path, func(c *gin.Context) {
					if err := h(ginsession.Session(c, codec), response{c}); err != nil {
						c.String(conformance.Code(err), http.StatusText(conformance.Code(err)))
					}
				})
			}
			return conformance.NewServer(t, r)
		},
	})
}

// response answers through gin's own calls.
type response struct{ c *gin.Context }

func (r response) SetHeader(key, value string) { r.c.Header(key, value) }
func (r response) WriteHeader(code int)        { r.c.Status(code) }
func (r response) WriteString(body string)     { _, _ = r.c.Writer.WriteString(body) }
func (r response) Flush()                      { r.c.Writer.Flush() }
