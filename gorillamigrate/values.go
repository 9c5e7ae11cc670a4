package gorillamigrate

import (
	"sort"

	"github.com/cookiesession/cookiesession"
	"github.com/vmihailenco/msgpack/v5"
)

// flashKey is where gorilla/sessions keeps flash messages added without a
// category; a named category's flashes are kept under its name.
const flashKey = "_flash"

// converted is a legacy session's content in the form the new session takes.
type converted struct {
	values        map[string]any
	flashes       []flash // by category, then in the order they were added
	nonStringKeys int
	unencodable   []string // keys whose values msgpack cannot encode, sorted
}

// flash is one legacy flash message and the category it moves to.
type flash struct {
	category string
	value    any
}

// convert turns gob-decoded legacy values into msgpack-friendly ones: maps
// whose keys are all strings become map[string]any, recursively. Other
// values, registered structs included, are kept as they are: msgpack
// encodes a struct's exported fields, as gob did. The []any under
// flashKey, and under each key in categories, becomes flash messages: of
// the default category for flashKey, of the category named by the key
// otherwise.
func convert(legacy map[any]any, categories map[string]bool) converted {
	c := converted{values: make(map[string]any, len(legacy))}
	for k, v := range legacy {
		key, ok := k.(string)
		if !ok {
			c.nonStringKeys++
			continue
		}
		if flashes, ok := v.([]any); ok && (key == flashKey || categories[key]) {
			category := key
			if key == flashKey {
				category = ""
			}
			for _, f := range flashes {
				if f = friendly(f); encodes(f) {
					c.flashes = append(c.flashes, flash{category, f})
				} else {
					c.unencodable = append(c.unencodable, key)
				}
			}
			continue
		}
		if v = friendly(v); encodes(v) {
			c.values[key] = v
		} else {
			c.unencodable = append(c.unencodable, key)
		}
	}
	sort.Strings(c.unencodable)
	// One order whatever the map's: FlashesFrom reads each category in
	// the order its flashes were added.
	sort.SliceStable(c.flashes, func(i, j int) bool { return c.flashes[i].category < c.flashes[j].category })
	return c
}

// apply stores c's values and flashes in s.
func (c converted) apply(s *cookiesession.Session) {
	for k, v := range c.values {
		s.Set(k, v)
	}
	for _, f := range c.flashes {
		s.AddFlashTo(f.category, f.value)
	}
}

// friendly returns v with every map[any]any whose keys are all strings
// turned into a map[string]any, and the elements of []any likewise.
func friendly(v any) any {
	switch v := v.(type) {
	case map[any]any:
		m := make(map[string]any, len(v))
		for k, x := range v {
			ks, ok := k.(string)
			if !ok {
				return v
			}
			m[ks] = friendly(x)
		}
		return m
	case map[string]any:
		m := make(map[string]any, len(v))
		for k, x := range v {
			m[k] = friendly(x)
		}
		return m
	case []any:
		out := make([]any, len(v))
		for i, x := range v {
			out[i] = friendly(x)
		}
		return out
	}
	return v
}

// encodes reports whether msgpack can encode v (gob can encode complex
// numbers, for one, and msgpack cannot).
func encodes(v any) bool {
	_, err := msgpack.Marshal(v)
	return err == nil
}
