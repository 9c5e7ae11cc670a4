package cookiesession_test

import (
	"bytes"
	"crypto/subtle"
	"fmt"
	"log"
	"strings"
	"time"

	"github.com/cookiesession/cookiesession"
)

// The quick start: a keyring, a codec, and a session that crosses from one
// request to the next inside its cookie.
func Example() {
	// In production, read the keys from the environment with ParseKeys.
	key, err := cookiesession.GenerateKey("2026a")
	if err != nil {
		log.Fatal(err)
	}
	keys, err := cookiesession.NewKeyring(key)
	if err != nil {
		log.Fatal(err)
	}
	codec, err := cookiesession.NewCodec(cookiesession.Config{Keys: keys})
	if err != nil {
		log.Fatal(err)
	}

	// Request 1: log the user in.
	s := codec.New()
	s.Renew() // a new ID at every login
	s.Set("user_id", 42)
	s.Set("roles", []string{"editor"})
	value, err := codec.Encode(s) // the cookie's value
	if err != nil {
		log.Fatal(err)
	}

	// Request 2: the cookie comes back.
	s, err = codec.Decode(value)
	if err != nil {
		log.Fatal(err) // in a handler: treat as logged out
	}
	uid, ok := cookiesession.Get[int64](s, "user_id")
	fmt.Println("user_id:", uid, ok)
	roles, _ := cookiesession.Get[[]string](s, "roles")
	fmt.Println("roles:", roles)
	fmt.Println("sealed with key:", s.KeyID())
	fmt.Println("expires in:", s.ExpiryAge())
	// Output:
	// user_id: 42 true
	// roles: [editor]
	// sealed with key: 2026a
	// expires in: 336h0m0s
}

// A one-time SMS code inside a two-week login session: the code lives five
// minutes, the login lives on.
func ExampleSession_SetWithTTL() {
	// A controlled clock, so that the example can wait five minutes.
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	key, _ := cookiesession.GenerateKey("k1")
	keys, _ := cookiesession.NewKeyring(key)
	codec, _ := cookiesession.NewCodec(cookiesession.Config{
		Keys:   keys,
		MaxAge: 14 * 24 * time.Hour,
		Now:    func() time.Time { return now },
	})

	// send stores a fresh code in the session and "texts" it.
	send := func(cookie string) string {
		s, err := codec.Decode(cookie)
		if err != nil {
			log.Fatal(err)
		}
		code := "493817" // in production: six random digits from crypto/rand
		s.SetWithTTL("sms_code", code, 5*time.Minute)
		out, _ := codec.Encode(s)
		return out
	}
	// check accepts the right code once: it is deleted when used.
	check := func(cookie, entered string) (string, bool) {
		s, err := codec.Decode(cookie)
		if err != nil {
			return "", false
		}
		code, ok := cookiesession.Get[string](s, "sms_code")
		if !ok || subtle.ConstantTimeCompare([]byte(code), []byte(entered)) != 1 {
			return cookie, false
		}
		s.Delete("sms_code")
		s.Set("phone_verified", true)
		out, _ := codec.Encode(s)
		return out, true
	}

	login := codec.New()
	login.Set("user_id", 1234)
	cookie, _ := codec.Encode(login)

	cookie = send(cookie)
	cookie, ok := check(cookie, "000000")
	fmt.Println("wrong code accepted:", ok)
	cookie, ok = check(cookie, "493817")
	fmt.Println("right code accepted:", ok)
	_, ok = check(cookie, "493817")
	fmt.Println("same code accepted again:", ok)

	cookie = send(cookie)
	now = now.Add(5 * time.Minute)
	_, ok = check(cookie, "493817")
	fmt.Println("code accepted after 5 minutes:", ok)

	s, _ := codec.Decode(cookie)
	uid, _ := cookiesession.Get[int](s, "user_id")
	fmt.Println("still logged in as:", uid, s.Keys())
	// Output:
	// wrong code accepted: false
	// right code accepted: true
	// same code accepted again: false
	// code accepted after 5 minutes: false
	// still logged in as: 1234 [phone_verified user_id]
}

// Rotating keys logs nobody out: cookies sealed with the old key still open,
// and are resealed with the new one.
func ExampleKeyring_Rotate() {
	old, _ := cookiesession.GenerateKey("2026-01")
	keys, _ := cookiesession.NewKeyring(old)
	codec, _ := cookiesession.NewCodec(cookiesession.Config{Keys: keys})

	s := codec.New()
	s.Set("user_id", 7)
	cookie, _ := codec.Encode(s)

	next, _ := cookiesession.GenerateKey("2026-02")
	if err := keys.Rotate(next); err != nil {
		log.Fatal(err)
	}
	fmt.Println("keys:", keys.IDs())

	s, err := codec.Decode(cookie)
	fmt.Println("old cookie opens:", err == nil, "sealed with", s.KeyID())

	cookie, _ = codec.Encode(s)
	id, _, _ := strings.Cut(cookie, ".")
	fmt.Println("resealed with:", id)

	// Once every live cookie has been resealed (after MaxAge at most),
	// the old key can go.
	if err := keys.Retire("2026-01"); err != nil {
		log.Fatal(err)
	}
	fmt.Println("keys:", keys.IDs())
	// Output:
	// keys: [2026-02 2026-01]
	// old cookie opens: true sealed with 2026-01
	// resealed with: 2026-02
	// keys: [2026-02]
}

// Keys travel as one environment variable. The secrets here are obviously
// fake; generate real ones with GenerateKey and FormatKeys.
func ExampleParseKeys() {
	fake := []cookiesession.Key{
		{ID: "new", Secret: bytes.Repeat([]byte{7}, 32)},
		{ID: "old", Secret: bytes.Repeat([]byte{8}, 32)},
	}
	text := cookiesession.FormatKeys(fake...)
	fmt.Println(text)

	// In production: os.Getenv("COOKIESESSION_KEYS").
	keys, err := cookiesession.ParseKeys(text)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("primary:", keys.PrimaryID(), "all:", keys.IDs())

	_, err = cookiesession.ParseKeys("new:c2hvcnQ") // "short"
	fmt.Println(err)
	// Output:
	// new:BwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwc,old:CAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAg
	// primary: new all: [new old]
	// cookiesession: key "new": secret is 5 bytes, want at least 32
}

// The untyped Get returns every integer as int64, before and after a round
// trip; Get[T] converts to the type asked for when the value fits exactly.
func ExampleGet() {
	key, _ := cookiesession.GenerateKey("k1")
	keys, _ := cookiesession.NewKeyring(key)
	codec, _ := cookiesession.NewCodec(cookiesession.Config{Keys: keys})

	s := codec.New()
	s.Set("count", 300)
	s.Set("ratio", 2.5)
	s.Set("when", time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC))
	value, _ := codec.Encode(s)
	s, _ = codec.Decode(value)

	raw, _ := s.Get("count")
	fmt.Printf("Get: %v (%T)\n", raw, raw)
	fmt.Println(cookiesession.Get[int](s, "count"))
	fmt.Println(cookiesession.Get[uint8](s, "count")) // 300 does not fit
	fmt.Println(cookiesession.Get[float64](s, "count"))
	fmt.Println(cookiesession.Get[int](s, "ratio")) // 2.5 is not an integer
	fmt.Println(cookiesession.Get[float32](s, "ratio"))
	when, ok := cookiesession.Get[time.Time](s, "when")
	fmt.Println(when.UTC(), ok)
	fmt.Println(cookiesession.GetOr(s, "missing", "default"))
	// Output:
	// Get: 300 (int64)
	// 300 true
	// 0 false
	// 300 true
	// 0 false
	// 2.5 true
	// 2026-01-02 03:04:05 +0000 UTC true
	// default
}
