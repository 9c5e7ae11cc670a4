package main

import (
	"encoding/base64"
	"fmt"
	"math"
	"strconv"
	"time"

	"github.com/cookiesession/cookiesession"
	"github.com/vmihailenco/msgpack/v5"
)

// This file shows a session as the server sees it, for open and for the
// demo's /session page.

// jsonable returns v, as msgpack decoded it, in a form encoding/json prints
// faithfully: []byte as standard base64, times as RFC 3339 in UTC, maps with
// non-string keys with their keys printed, NaN and infinities as strings.
func jsonable(v any) any {
	switch v := v.(type) {
	case []byte:
		return base64.StdEncoding.EncodeToString(v)
	case time.Time:
		return v.UTC().Format(time.RFC3339Nano)
	case float64:
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return strconv.FormatFloat(v, 'g', -1, 64)
		}
	case float32:
		if f := float64(v); math.IsNaN(f) || math.IsInf(f, 0) {
			return strconv.FormatFloat(f, 'g', -1, 32)
		}
	case map[string]any:
		m := make(map[string]any, len(v))
		for k, x := range v {
			m[k] = jsonable(x)
		}
		return m
	case map[any]any:
		m := make(map[string]any, len(v))
		for k, x := range v {
			m[fmt.Sprint(jsonable(k))] = jsonable(x)
		}
		return m
	case []any:
		s := make([]any, len(v))
		for i, x := range v {
			s[i] = jsonable(x)
		}
		return s
	}
	return v
}

// sessionTypes returns the msgpack type of each value in s, as its cookie
// stores it.
func sessionTypes(s *cookiesession.Session) map[string]string {
	m := map[string]string{}
	for _, k := range s.Keys() {
		raw, ok := cookiesession.Get[msgpack.RawMessage](s, k)
		switch {
		case !ok:
			continue
		case len(raw) == 0:
			raw = []byte{0xc0} // msgpack decodes nil into a RawMessage as nothing
		}
		m[k] = msgpackType(raw)
	}
	return m
}

// sessionFlashes takes every flash message out of s, by category ("" for
// the default one): the values in a form encoding/json prints, and their
// msgpack types as the cookie stores them. Each flash is read once, as
// raw msgpack, and decoded through a scratch session of c, so values and
// types come from the same bytes and the values are in the types the
// library's untyped reads return.
func sessionFlashes(c *cookiesession.Codec, s *cookiesession.Session) (map[string][]any, map[string][]string) {
	values, types := map[string][]any{}, map[string][]string{}
	scratch := c.New()
	for _, cat := range s.FlashCategories() {
		for _, raw := range cookiesession.FlashesFrom[msgpack.RawMessage](s, cat) {
			if len(raw) == 0 {
				raw = []byte{0xc0} // msgpack decodes nil into a RawMessage as nothing
			}
			scratch.Set("flash", raw) // a RawMessage encodes as its bytes
			v, _ := scratch.Get("flash")
			values[cat] = append(values[cat], jsonable(v))
			types[cat] = append(types[cat], msgpackType(raw))
		}
	}
	return values, types
}

// msgpackType names the type of the msgpack value raw starts with, in the
// msgpack specification's words ("fixstr", "uint 16", "fixext 8"); the
// timestamp extension (type -1) is called so.
func msgpackType(raw []byte) string {
	if len(raw) == 0 {
		return "empty"
	}
	switch c := raw[0]; {
	case c <= 0x7f:
		return "positive fixint"
	case c <= 0x8f:
		return "fixmap"
	case c <= 0x9f:
		return "fixarray"
	case c <= 0xbf:
		return "fixstr"
	case c >= 0xe0:
		return "negative fixint"
	}
	switch c := raw[0]; c {
	case 0xc0:
		return "nil"
	case 0xc2:
		return "false"
	case 0xc3:
		return "true"
	case 0xc7, 0xc8, 0xc9:
		return extName(fmt.Sprintf("ext %d", 8<<(c-0xc7)), raw, 1+1<<(c-0xc7))
	case 0xd4, 0xd5, 0xd6, 0xd7, 0xd8:
		return extName(fmt.Sprintf("fixext %d", 1<<(c-0xd4)), raw, 1)
	}
	names := map[byte]string{
		0xc4: "bin 8", 0xc5: "bin 16", 0xc6: "bin 32",
		0xca: "float 32", 0xcb: "float 64",
		0xcc: "uint 8", 0xcd: "uint 16", 0xce: "uint 32", 0xcf: "uint 64",
		0xd0: "int 8", 0xd1: "int 16", 0xd2: "int 32", 0xd3: "int 64",
		0xd9: "str 8", 0xda: "str 16", 0xdb: "str 32",
		0xdc: "array 16", 0xdd: "array 32",
		0xde: "map 16", 0xdf: "map 32",
	}
	if name, ok := names[raw[0]]; ok {
		return name
	}
	return fmt.Sprintf("unknown (0x%02x)", raw[0])
}

// extName names an extension value whose type byte is raw[at].
func extName(format string, raw []byte, at int) string {
	switch {
	case at >= len(raw):
		return format
	case int8(raw[at]) == -1:
		return "timestamp (" + format + ")"
	}
	return fmt.Sprintf("%s (type %d)", format, int8(raw[at]))
}
