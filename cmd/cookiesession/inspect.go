package main

import (
	"encoding/base64"
	"fmt"
	"math"
	"strconv"
	"time"
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
