// Package benchdata defines the sessions the benchmarks measure, so that the
// root module's benchmarks and the comparison module's (benchmarks/) mean
// the same data by SMALL and LARGE. It imports only the standard library.
package benchdata

import "fmt"

// KV is one session key and its value, in the order they are set.
type KV struct {
	Key   string
	Value any
}

// SmallCSRF is SMALL's csrf token: 64 hex characters.
const SmallCSRF = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"

// Small is the SMALL session: a logged-in user mid two-factor login, about
// 170 bytes of msgpack.
func Small() []KV {
	return []KV{
		{"user_id", int64(42)},
		{"name", "Alice"},
		{"roles", []string{"admin", "editor"}},
		{"csrf", SmallCSRF},
		{"sms_code", "493817"},
	}
}

// CartItem is one line of LARGE's cart.
type CartItem struct {
	SKU   string `msgpack:"sku"`
	Name  string `msgpack:"name"`
	Qty   int    `msgpack:"qty"`
	Price int    `msgpack:"price"` // cents
}

// Large is the LARGE session, about 1.5 KB of msgpack: 40 short keys k00 to
// k39, the even ones holding the string "value-NN" and the odd ones the
// int64 1000+NN, and "cart", a 20-item []CartItem.
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
