// Package benchmarks compares cookiesession with the usual ways of keeping a
// session in a cookie (gorilla/securecookie with msgpack, gorilla/sessions'
// CookieStore) and with the floor: the raw primitives its wire format needs.
//
// It is a nested module so that the library's users never download the
// peers. Run it with benchmarks/run.sh; see BENCHMARKS.md at the repository root.
package benchmarks

import (
	"encoding/gob"
	"fmt"
	"strings"
)

// CookieName is the cookie name every implementation uses, so that cookie
// lengths ("name=value", what a browser stores and sends back) compare.
const CookieName = "session"

// SmallCSRF is SMALL's csrf token: 64 hex characters.
const SmallCSRF = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"

// CartItem is one line of LARGE's cart.
type CartItem struct {
	SKU   string `msgpack:"sku"`
	Name  string `msgpack:"name"`
	Qty   int    `msgpack:"qty"`
	Price int    `msgpack:"price"` // cents
}

func init() {
	// gorilla/sessions keeps values in a map[interface{}]interface{} and gob
	// needs every concrete type stored in an interface registered.
	gob.Register([]CartItem(nil))
}

// KV is one session key and its value, in the order they are set.
type KV struct {
	Key   string
	Value any
}

// Small is the SMALL session: a logged-in user mid two-factor login.
func Small() []KV {
	return []KV{
		{"user_id", int64(42)},
		{"name", "Alice"},
		{"roles", []string{"admin", "editor"}},
		{"csrf", SmallCSRF},
		{"sms_code", "493817"},
	}
}

// Large is the LARGE session, about 1.5 KB of msgpack: 40 short keys with
// short string or integer values, and a 20-item cart.
func Large() []KV {
	kv := make([]KV, 0, 41)
	for i := 0; i < 40; i++ {
		var v any = fmt.Sprintf("value-%02d", i)
		if i%2 == 1 {
			v = int64(1000 + i)
		}
		kv = append(kv, KV{fmt.Sprintf("k%02d", i), v})
	}
	cart := make([]CartItem, 20)
	for i := range cart {
		cart[i] = CartItem{
			SKU:   fmt.Sprintf("SKU-%04d", 1000+i),
			Name:  fmt.Sprintf("Widget model %02d, blue", i),
			Qty:   1 + i%3,
			Price: 499 + 100*i,
		}
	}
	return append(kv, KV{"cart", cart})
}

// Blob is a session holding a single string value of n bytes.
func Blob(n int) []KV {
	return []KV{{"blob", strings.Repeat("x", n)}}
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
