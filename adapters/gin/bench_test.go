package ginsession_test

import (
	"net/http"
	"testing"

	"github.com/cookiesession/cookiesession/adapters/gin"
	"github.com/cookiesession/cookiesession/internal/adaptertest"
	"github.com/gin-gonic/gin"
)

// BenchmarkBare is the gin handler with no session middleware.
func BenchmarkBare(b *testing.B) {
	_, cookie := adaptertest.Codec(b)
	r := gin.New()
	r.GET("/", func(c *gin.Context) { c.String(http.StatusOK, "ok") })
	adaptertest.ServeHTTP(b, r, cookie, false)
}

// BenchmarkUntouched adds the session middleware; the handler never
// touches the session.
func BenchmarkUntouched(b *testing.B) {
	codec, cookie := adaptertest.Codec(b)
	r := gin.New()
	r.Use(ginsession.Middleware(codec))
	r.GET("/", func(c *gin.Context) { c.String(http.StatusOK, "ok") })
	adaptertest.ServeHTTP(b, r, cookie, false)
}

// BenchmarkRoundTrip: the handler reads the session and changes it; the
// middleware opens and reseals the cookie.
func BenchmarkRoundTrip(b *testing.B) {
	codec, cookie := adaptertest.Codec(b)
	r := gin.New()
	r.Use(ginsession.Middleware(codec))
	r.GET("/", func(c *gin.Context) {
		if !adaptertest.RoundTrip(ginsession.Session(c, codec)) {
			c.AbortWithStatus(http.StatusInternalServerError)
			return
		}
		c.String(http.StatusOK, "ok")
	})
	adaptertest.ServeHTTP(b, r, cookie, true)
}
