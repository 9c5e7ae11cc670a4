// Package benchmarks compares cookiesession with the usual ways of keeping a
// session in a cookie (gorilla/securecookie with msgpack, gorilla/sessions'
// CookieStore) and with the floor: the raw primitives its wire format needs.
//
// It is a nested module so that the library's users never download the
// peers. Run it with benchmarks/run.sh; see BENCHMARKS.md at the repository root.
package benchmarks

import (
	"encoding/gob"
	"strings"

	"github.com/cookiesession/cookiesession/internal/benchdata"
)

// CookieName is the cookie name every implementation uses, so that cookie
// lengths ("name=value", what a browser stores and sends back) compare.
const CookieName = "session"

// KV is one session key and its value; CartItem is one line of LARGE's
// cart. Both, and the sessions, come from internal/benchdata, which the root
// module's benchmarks use too: SMALL and LARGE are the same data in both.
type (
	KV       = benchdata.KV
	CartItem = benchdata.CartItem
)

func init() {
	// gorilla/sessions keeps values in a map[interface{}]interface{} and gob
	// needs every concrete type stored in an interface registered.
	gob.Register([]CartItem(nil))
}

// Small is the SMALL session: a logged-in user mid two-factor login.
func Small() []KV { return benchdata.Small() }

// Large is the LARGE session, about 1.5 KB of msgpack: 40 short keys with
// short string or integer values, and a 20-item cart.
func Large() []KV { return benchdata.Large() }

// Blob is a session holding a single string value of n bytes.
func Blob(n int) []KV {
	return []KV{{Key: "blob", Value: strings.Repeat("x", n)}}
}

// ReadKey is the key each round trip reads for a session; it holds an int64
// for SMALL and LARGE and the string for a blob.
func ReadKey(kv []KV) string {
	switch kv[0].Key {
	case "user_id":
		return "user_id"
	case "blob":
		return "blob"
	}
	return "k07"
}

// SetKey and SetValue are what each round trip sets: a key the session did
// not hold, so every round trip reseals the same bigger session.
const SetKey = "last_seen"

// SetValue is the value stored under SetKey (a Unix time, boxed once).
var SetValue any = int64(1764000000)

// Map returns kv as the map[string]any that a msgpack serializer takes.
func Map(kv []KV) map[string]any {
	m := make(map[string]any, len(kv))
	for _, e := range kv {
		m[e.Key] = e.Value
	}
	return m
}

// IfaceMap returns kv as gorilla/sessions' Values map.
func IfaceMap(kv []KV) map[any]any {
	m := make(map[any]any, len(kv))
	for _, e := range kv {
		m[e.Key] = e.Value
	}
	return m
}
