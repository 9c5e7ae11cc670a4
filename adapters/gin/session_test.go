package ginsession_test

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/cookiesession/cookiesession"
	"github.com/cookiesession/cookiesession/adapters/gin"
	"github.com/gin-gonic/gin"
)

// TestStatusThenChange: in gin, c.Status only records the status, so a
// change made after it and before the first byte is still saved, and the
// cookie goes out with that status.
func TestStatusThenChange(t *testing.T) {
	k, err := cookiesession.GenerateKey("k1")
	if err != nil {
		t.Fatal(err)
	}
	keys, err := cookiesession.NewKeyring(k)
	if err != nil {
		t.Fatal(err)
	}
	codec, err := cookiesession.NewCodec(cookiesession.Config{Keys: keys})
	if err != nil {
		t.Fatal(err)
	}
	r := gin.New()
	r.Use(ginsession.Middleware(codec))
	r.POST("/", func(c *gin.Context) {
		c.Status(http.StatusAccepted)
		ginsession.Session(c, codec).Set("after_status", true)
		_, _ = c.Writer.WriteString("queued")
	})
	rec := httptest.NewRecorder()
	r.ServeHTTP(rec, httptest.NewRequest("POST", "/", nil))
	if rec.Code != http.StatusAccepted {
		t.Errorf("status %d, want 202", rec.Code)
	}
	resp := rec.Result()
	s, err := codec.DecodeCookies(resp.Cookies())
	if err != nil {
		t.Fatalf("Set-Cookie %q does not open: %v", resp.Header.Values("Set-Cookie"), err)
	}
	if !s.Has("after_status") {
		t.Error("the change made after c.Status was not saved")
	}
}
