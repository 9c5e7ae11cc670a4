package gorillamigrate_test

import (
	"io"
	"log/slog"
	"net/http"
	"testing"

	"github.com/cookiesession/cookiesession"
	"github.com/cookiesession/cookiesession/gorillamigrate"
	"github.com/gorilla/sessions"
)

// A gorilla/sessions cookie named "session" (cookiesession.DefaultName)
// beside a codec with the default __Host-session name: the codec's own
// old-name migration (Config.Name) also reads "session" cookies. A legacy
// cookie that the Migrator refuses (tampered, or the wrong keys) is kept, as
// the Migrator documents, and not deleted by the codec as an old-name
// cookie that failed to open.
func TestSeam_LegacyNamedSessionBesideTheHostDefault(t *testing.T) {
	keys := newLegacyKeys(t)
	store := sessions.NewCookieStore(keys.hash, keys.block)
	legacy := legacyCookie(t, store, cookiesession.DefaultName, fillLegacy)
	tampered := *legacy
	b := []byte(tampered.Value)
	b[len(b)/2] ^= 1
	tampered.Value = string(b)

	codec := newCodec(t, cookiesession.Config{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if codec.Name() != cookiesession.DefaultHostName {
		t.Fatalf("codec name %q", codec.Name())
	}
	m, err := gorillamigrate.NewFromStore(codec, store, cookiesession.DefaultName)
	if err != nil {
		t.Fatal(err)
	}
	m = m.WithLogger(slog.New(slog.NewTextHandler(io.Discard, nil)))
	resp := serve(t, codec, m, func(w http.ResponseWriter, r *http.Request) {
		cookiesession.FromContext(r.Context()).Set("seen", true)
	}, &tampered)
	if ck := setCookie(resp, cookiesession.DefaultName); ck != nil {
		t.Errorf("a legacy cookie the Migrator refused was deleted: %v", resp.Header["Set-Cookie"])
	}

	// A good one migrates, and the response deletes it.
	resp = serve(t, codec, m, func(w http.ResponseWriter, r *http.Request) {
		checkMigrated(t, cookiesession.FromContext(r.Context()))
	}, legacy)
	newSession(t, codec, resp)
	if ck := setCookie(resp, cookiesession.DefaultName); ck == nil || ck.MaxAge >= 0 {
		t.Errorf("the migrated legacy cookie is not deleted: %v", resp.Header["Set-Cookie"])
	}
}
