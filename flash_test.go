package cookiesession

import (
	"bytes"
	"reflect"
	"testing"
)

// Flash is what an application might keep as a flash message.
type Flash struct {
	Level string
	Text  string
}

func TestFlashCategories(t *testing.T) {
	c, _ := newTestCodec(t, Config{})
	for _, roundTrip := range []bool{false, true} {
		s := c.New()
		s.AddFlash("plain")
		s.AddFlashTo("error", "bad input")
		s.AddFlashTo("info", "saved")
		s.AddFlashTo("error", 42)
		s.AddFlashTo("", "plain too")
		if roundTrip {
			s = mustRoundTrip(t, c, s)
		}
		if got := s.FlashesFrom("error"); !reflect.DeepEqual(got, []any{"bad input", int64(42)}) {
			t.Errorf("round trip %v: FlashesFrom(error) = %#v", roundTrip, got)
		}
		if got := s.FlashesFrom("error"); got != nil {
			t.Errorf("round trip %v: second FlashesFrom(error) = %#v, want nil", roundTrip, got)
		}
		if got := s.FlashesFrom("missing"); got != nil {
			t.Errorf("round trip %v: FlashesFrom(missing) = %#v, want nil", roundTrip, got)
		}
		// The default category is AddFlash's, and Flashes leaves the others.
		if got := s.Flashes(); !reflect.DeepEqual(got, []any{"plain", "plain too"}) {
			t.Errorf("round trip %v: Flashes = %#v", roundTrip, got)
		}
		// What is left survives a reseal, and only it.
		s = mustRoundTrip(t, c, s)
		if got := s.Flashes(); got != nil {
			t.Errorf("round trip %v: read default flashes came back: %#v", roundTrip, got)
		}
		if got := s.FlashesFrom("info"); !reflect.DeepEqual(got, []any{"saved"}) {
			t.Errorf("round trip %v: FlashesFrom(info) after a reseal = %#v", roundTrip, got)
		}
		if v := mustEncode(t, c, s); v != "" {
			t.Errorf("round trip %v: a session with every flash read encodes to %q", roundTrip, v)
		}
	}
}

// A default-category flash that looks like [category, value] is wrapped on
// the wire, so it comes back from Flashes as it was added.
func TestFlashThatLooksCategorised(t *testing.T) {
	c, _ := newTestCodec(t, Config{})
	pair := []any{"error", "not a category"}
	s := c.New()
	s.AddFlash(pair)
	s.AddFlash([]any{1, "x"})   // first element not a string: carried bare
	s.AddFlashTo("error", pair) // a pair inside a category
	s = mustRoundTrip(t, c, s)
	if got := s.Flashes(); !reflect.DeepEqual(got, []any{pair, []any{int64(1), "x"}}) {
		t.Errorf("Flashes = %#v", got)
	}
	if got := s.FlashesFrom("error"); !reflect.DeepEqual(got, []any{pair}) {
		t.Errorf("FlashesFrom(error) = %#v", got)
	}
}

// The wire form FORMAT.md §3 describes: a bare value for the default
// category, [category, value] otherwise, ["", value] for a default value
// that would read as a category.
func TestFlashWireForm(t *testing.T) {
	c, _ := newTestCodec(t, Config{})
	s := c.New()
	s.AddFlash("hi")
	s.AddFlashTo("warn", "careful")
	s.AddFlash([]any{"a", 1})
	s.mu.Lock()
	var got [][]byte
	for _, f := range s.flashes {
		got = append(got, f.raw)
	}
	s.mu.Unlock()
	want := [][]byte{
		{0xa2, 'h', 'i'},
		append([]byte{0x92, 0xa4, 'w', 'a', 'r', 'n', 0xa7}, "careful"...),
		{0x92, 0xa0, 0x92, 0xa1, 'a', 0x01},
	}
	for i := range want {
		if i >= len(got) || !bytes.Equal(got[i], want[i]) {
			t.Errorf("flash %d encodes to % x, want % x", i, got[i], want[i])
		}
	}
	// A flash sealed by another writer as [category, value] opens in that
	// category.
	wc := wfCodec(t, "session", Config{})
	sealed := wfWith(map[int][]byte{wfFlashes: append([]byte{0x91}, want[1]...)})
	o := mustDecode(t, wc, wfSeal(t, wc, sealed))
	if f := o.FlashesFrom("warn"); !reflect.DeepEqual(f, []any{"careful"}) {
		t.Errorf("FlashesFrom(warn) of a hand-made envelope = %#v", f)
	}
}

func TestFlashesTyped(t *testing.T) {
	c, _ := newTestCodec(t, Config{})
	for _, roundTrip := range []bool{false, true} {
		s := c.New()
		s.AddFlash(Flash{Level: "info", Text: "Saved"})
		s.AddFlash("a plain string")
		s.AddFlash(Flash{Level: "warn", Text: "Check your email"})
		s.AddFlashTo("errors", Flash{Level: "error", Text: "Wrong code"})
		s.AddFlashTo("counts", 300)
		if roundTrip {
			s = mustRoundTrip(t, c, s)
		}
		want := []Flash{{"info", "Saved"}, {"warn", "Check your email"}}
		if got := Flashes[Flash](s); !reflect.DeepEqual(got, want) {
			t.Errorf("round trip %v: Flashes[Flash] = %#v, want %#v", roundTrip, got, want)
		}
		// The string does not convert to Flash: it stays, for Flashes.
		if got := s.Flashes(); !reflect.DeepEqual(got, []any{"a plain string"}) {
			t.Errorf("round trip %v: Flashes after Flashes = %#v", roundTrip, got)
		}
		if got := FlashesFrom[Flash](s, "errors"); !reflect.DeepEqual(got, []Flash{{"error", "Wrong code"}}) {
			t.Errorf("round trip %v: FlashesFrom[Flash](errors) = %#v", roundTrip, got)
		}
		if got := FlashesFrom[uint8](s, "counts"); got != nil {
			t.Errorf("round trip %v: FlashesFrom[uint8] of 300 = %#v, want nothing", roundTrip, got)
		}
		if got := FlashesFrom[int](s, "counts"); !reflect.DeepEqual(got, []int{300}) {
			t.Errorf("round trip %v: FlashesFrom[int] = %#v", roundTrip, got)
		}
		if s.flashes != nil {
			t.Errorf("round trip %v: flashes left: %d", roundTrip, len(s.flashes))
		}
	}
}

// A category costs one level of nesting: a value at the depth limit fits as
// a default flash but not in a category, and Encode says so.
func TestFlashCategoryDepth(t *testing.T) {
	c, _ := newTestCodec(t, Config{})
	s := c.New()
	s.AddFlash(nestedValue(maxValueDepth, false))
	if err := s.Err(); err != nil {
		t.Fatalf("a default flash at the depth limit: %v", err)
	}
	s.AddFlashTo("deep", nestedValue(maxValueDepth-1, false))
	if err := s.Err(); err != nil {
		t.Fatalf("a categorised flash one under the limit: %v", err)
	}
	s = mustRoundTrip(t, c, s)
	if f := s.FlashesFrom("deep"); len(f) != 1 || !reflect.DeepEqual(f[0], nestedValue(maxValueDepth-1, false)) {
		t.Errorf("deep categorised flash = %#v", f)
	}
	s.AddFlashTo("deep", nestedValue(maxValueDepth, false))
	if _, err := c.Encode(s); err == nil {
		t.Error("a categorised flash over the limit sealed")
	}
}

// TestFlashCategoriesListed: FlashCategories names every category holding
// a flash, before and after a round trip, and takes nothing out.
func TestFlashCategoriesListed(t *testing.T) {
	c, _ := newTestCodec(t, Config{})
	for _, roundTrip := range []bool{false, true} {
		s := c.New()
		if got := s.FlashCategories(); got != nil {
			t.Errorf("no flashes: FlashCategories = %q", got)
		}
		s.AddFlashTo("info", "saved")
		s.AddFlashTo("error", "bad input")
		s.AddFlash([]any{"looks", "categorised"}) // still the default category
		s.AddFlashTo("info", "again")
		s.AddFlashTo("broken", make(chan int)) // never returned, so no category
		if roundTrip {
			s.FlashesFrom("broken") // drops it: it would stop the seal
			s = mustRoundTrip(t, c, s)
		}
		if got := s.FlashCategories(); !reflect.DeepEqual(got, []string{"", "error", "info"}) {
			t.Errorf("round trip %v: FlashCategories = %q", roundTrip, got)
		}
		if roundTrip && s.Modified() {
			t.Error("FlashCategories modified the session")
		}
		if got := s.FlashesFrom("info"); !reflect.DeepEqual(got, []any{"saved", "again"}) {
			t.Errorf("round trip %v: FlashesFrom(info) after FlashCategories = %#v", roundTrip, got)
		}
		if got := s.FlashCategories(); !reflect.DeepEqual(got, []string{"", "error"}) {
			t.Errorf("round trip %v: after taking info: %q", roundTrip, got)
		}
	}
}
