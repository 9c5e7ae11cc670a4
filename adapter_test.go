package cookiesession

import (
	"bytes"
	"context"
	"log/slog"
	"net/http/httptest"
	"strings"
	"testing"
)

// TestReportLost: after a commit, a change is reported lost (and logged
// with the cookie's name, not the value); no change, or flushing an empty
// session that had no cookie, is not.
func TestReportLost(t *testing.T) {
	var buf bytes.Buffer
	c, _ := newTestCodec(t, Config{Insecure: true, Logger: slog.New(slog.NewTextHandler(&buf, nil))})
	r := httptest.NewRequest("GET", "/page", nil)
	cookie := c.Name() + "=" + mustEncode(t, c, func() *Session { s := c.New(); s.Set("user", "ada"); return s }())

	cases := []struct {
		name   string
		header []string
		late   func(*Session)
		lost   bool
	}{
		{"no change", []string{cookie}, func(s *Session) { s.Get("user") }, false},
		{"set after commit", []string{cookie}, func(s *Session) { s.Set("secret-value", 1) }, true},
		{"flush of a session the browser holds", []string{cookie}, func(s *Session) { s.Flush() }, true},
		{"flush of an empty session, no cookie", nil, func(s *Session) { s.Flush() }, false},
	}
	for _, tc := range cases {
		buf.Reset()
		s := c.Load(context.Background(), tc.header...)
		s.Get("user")
		if _, err := c.Commit(s, 200); err != nil {
			t.Fatal(err)
		}
		tc.late(s)
		if got := c.ReportLost(r, s); got != tc.lost {
			t.Errorf("%s: ReportLost = %v, want %v", tc.name, got, tc.lost)
		}
		logged := strings.Contains(buf.String(), "level=ERROR") && strings.Contains(buf.String(), "path=/page")
		if logged != tc.lost {
			t.Errorf("%s: logged %v, want %v: %q", tc.name, logged, tc.lost, buf.String())
		}
		if strings.Contains(buf.String(), "secret-value") {
			t.Errorf("%s: the log names the session's data: %q", tc.name, buf.String())
		}
	}
}

// TestLogger returns Config.Logger, or slog.Default() when unset.
func TestLogger(t *testing.T) {
	l := slog.New(slog.NewTextHandler(&bytes.Buffer{}, nil))
	c, _ := newTestCodec(t, Config{Logger: l})
	if c.Logger() != l {
		t.Error("Logger is not Config.Logger")
	}
	d, _ := newTestCodec(t, Config{})
	if d.Logger() != slog.Default() {
		t.Error("Logger without Config.Logger is not slog.Default()")
	}
}
