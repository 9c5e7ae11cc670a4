package cookiesession

import "slices"

// Flash messages: values that are read once, in named categories.
//
// A flash is carried in the envelope's flash list (FORMAT.md §3) as its
// value alone when its category is "" and as the two-element array
// [category, value] otherwise. A value of the default category that itself
// encodes as a two-element array starting with a string is wrapped as
// ["", value] so that it cannot be mistaken for a category.

// AddFlash appends a flash message of the default category: a value that
// Flashes returns once. It is encoded at once, as Set encodes; a value that
// cannot be encoded is reported by Err and Encode.
func (s *Session) AddFlash(v any) { s.AddFlashTo("", v) }

// AddFlashTo appends a flash message to a named category (gorilla's
// AddFlash(value, vars...)), read once by FlashesFrom(category). The
// category "" is the default one, that of AddFlash. A flash in a category
// counts one level of nesting towards the limit of FORMAT.md §4.
func (s *Session) AddFlashTo(category string, v any) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.load()
	raw, err := encodeFlash(category, v)
	s.flashes = append(s.flashes, entry{key: category, raw: raw, err: newValueError(err)})
	s.modified = true
}

// Flashes returns the flash messages of the default category, oldest first,
// in the types the Session doc lists, and removes them from the session.
// Flashes of other categories stay.
func (s *Session) Flashes() []any { return takeFlashes[any](s, "") }

// FlashesFrom returns the flash messages of category, oldest first, and
// removes them from the session.
func (s *Session) FlashesFrom(category string) []any { return takeFlashes[any](s, category) }

// Flashes returns the flash messages of the default category that convert
// to T, as Get[T] converts values, and removes them from the session: the
// typed form of Session.Flashes, as Get[T] is of Session.Get. Flash
// messages that do not convert to T stay, for Session.Flashes or another
// Flashes.
func Flashes[T any](s *Session) []T { return takeFlashes[T](s, "") }

// FlashesFrom is Flashes for the flash messages of category: the typed
// form of Session.FlashesFrom.
func FlashesFrom[T any](s *Session, category string) []T { return takeFlashes[T](s, category) }

// FlashCategories returns the categories that hold flash messages, sorted,
// so "" (the default category) comes first when it holds any. It takes
// nothing out: the messages stay for Flashes and FlashesFrom, and the
// session is not modified. A flash message that could not be encoded
// (see Err) counts for no category: no read would return it.
func (s *Session) FlashCategories() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.load()
	var cats []string
	for _, f := range s.flashes {
		if f.raw == nil {
			continue
		}
		if cat, _ := splitFlash(f.raw); !slices.Contains(cats, cat) {
			cats = append(cats, cat)
		}
	}
	slices.Sort(cats)
	return cats
}

// takeFlashes removes the flashes of category that convert to T and returns
// them. A flash that could not be encoded is dropped, never returned.
func takeFlashes[T any](s *Session, category string) []T {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.load()
	var out []T
	kept := s.flashes[:0]
	for _, f := range s.flashes {
		cat, value := f.key, f.raw
		if value != nil {
			cat, value = splitFlash(value)
		}
		if cat != category {
			kept = append(kept, f)
			continue
		}
		if value == nil {
			continue
		}
		v, ok := entryAs[T](&entry{raw: value})
		if !ok {
			kept = append(kept, f)
			continue
		}
		out = append(out, v)
	}
	if len(kept) != len(s.flashes) {
		clear(s.flashes[len(kept):])
		s.flashes = kept
		s.modified = true
	}
	if len(s.flashes) == 0 {
		s.flashes = nil
	}
	return out
}

// encodeFlash returns the msgpack form of a flash: v alone, or
// [category, v] (see the top of this file).
func encodeFlash(category string, v any) ([]byte, error) {
	raw, err := encodeValue(v)
	if err != nil || category == "" && !looksCategorised(raw) {
		return raw, err
	}
	b := appendString(appendArrayLen(make([]byte, 0, 2+len(category)+len(raw)+4), 2), category)
	b = append(b, raw...)
	if err := checkValue(b); err != nil {
		return nil, err
	}
	return b, nil
}

// looksCategorised reports whether raw, one checked msgpack value, is a
// two-element array whose first element is a string.
func looksCategorised(raw []byte) bool {
	return len(raw) > 1 && raw[0] == 0x92 && isStr(raw[1])
}

// splitFlash returns the category and the value of a flash's msgpack form.
func splitFlash(raw []byte) (category string, value []byte) {
	if !looksCategorised(raw) {
		return "", raw
	}
	r := reader{b: raw, i: 1}
	cat := r.str("flash category")
	if r.err != nil {
		return "", raw // cannot happen for a value checkValue accepted
	}
	return string(cat), raw[r.i:]
}
