package cookiesession

import (
	"errors"
	"fmt"
	"math"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// ---------------------------------------------------------------------------
// Django's SessionTestsMixin (django/tests/sessions_tests/tests.py), one Go
// test per Python test. Django resets session.modified by hand; here a
// session comes back unmodified from a real Encode/Decode round trip.

func TestDjango_new_session(t *testing.T) {
	c, _ := newTestCodec(t, Config{})
	for name, s := range map[string]*Session{"New": c.New(), `Decode("")`: mustDecode(t, c, "")} {
		t.Run(name, func(t *testing.T) {
			if s.Modified() {
				t.Error("new session is modified")
			}
			// Reading does not modify (Django: accessed, not modified).
			if _, ok := s.Get("x"); ok {
				t.Error("Get found a value in a new session")
			}
			if s.Has("x") || s.Len() != 0 || len(s.Keys()) != 0 || s.Flashes() != nil {
				t.Error("new session is not empty")
			}
			if s.KeyID() != "" {
				t.Errorf("new session has KeyID %q", s.KeyID())
			}
			if s.Modified() {
				t.Error("reading a new session modified it")
			}
			if v := mustEncode(t, c, s); v != "" {
				t.Errorf("new session encodes to %q, want no cookie", v)
			}
		})
	}
}

func TestDjango_get_empty(t *testing.T) {
	c, _ := newTestCodec(t, Config{})
	s := c.New()
	if v, ok := s.Get("cat"); ok || v != nil {
		t.Errorf("Get(cat) = %v, %v; want nil, false", v, ok)
	}
	if v, ok := Get[string](s, "cat"); ok || v != "" {
		t.Errorf("Get[string](cat) = %q, %v; want \"\", false", v, ok)
	}
}

func TestDjango_store(t *testing.T) {
	c, _ := newTestCodec(t, Config{})
	s := c.New()
	s.Set("cat", "dog")
	if !s.Modified() {
		t.Error("Set did not mark the session modified")
	}
	if v, ok := s.Pop("cat"); !ok || v != "dog" {
		t.Errorf("Pop(cat) = %v, %v; want dog, true", v, ok)
	}
	// And across a request boundary.
	s.Set("cat", "dog")
	s = mustRoundTrip(t, c, s)
	if v, ok := s.Get("cat"); !ok || v != "dog" {
		t.Errorf("after round trip Get(cat) = %v, %v; want dog, true", v, ok)
	}
}

func TestDjango_pop(t *testing.T) {
	c, _ := newTestCodec(t, Config{})
	s := c.New()
	s.Set("some key", "exists")
	s.Set("other", 1)
	s = mustRoundTrip(t, c, s)
	if s.Modified() {
		t.Fatal("decoded session is modified")
	}
	if v, ok := s.Pop("some key"); !ok || v != "exists" {
		t.Errorf("Pop = %v, %v; want exists, true", v, ok)
	}
	if !s.Modified() {
		t.Error("Pop of a present key did not mark the session modified")
	}
	if v, ok := s.Get("some key"); ok {
		t.Errorf("Get after Pop = %v, true", v)
	}
	s = mustRoundTrip(t, c, s)
	if s.Has("some key") || !s.Has("other") {
		t.Errorf("after round trip keys = %v, want [other]", s.Keys())
	}
}

func TestDjango_pop_default(t *testing.T) {
	c, _ := newTestCodec(t, Config{})
	s := c.New()
	s.Set("present", 1)
	s = mustRoundTrip(t, c, s)
	if v, ok := s.Pop("some key"); ok || v != nil {
		t.Errorf("Pop(missing) = %v, %v; want nil, false", v, ok)
	}
	if s.Modified() {
		t.Error("Pop of a missing key marked the session modified")
	}
	// Django's pop(key, default) is GetOr followed by Delete.
	if got := GetOr(s, "some key", "does not exist"); got != "does not exist" {
		t.Errorf("GetOr(missing) = %q", got)
	}
}

func TestDjango_setdefault(t *testing.T) {
	c, _ := newTestCodec(t, Config{})
	s := c.New()
	if got := s.SetDefault("foo", "bar"); got != "bar" {
		t.Errorf("SetDefault on a missing key = %v, want bar", got)
	}
	if got := s.SetDefault("foo", "baz"); got != "bar" {
		t.Errorf("SetDefault on a present key = %v, want the stored bar", got)
	}
	if !s.Modified() {
		t.Error("SetDefault that stored did not mark the session modified")
	}
	s = mustRoundTrip(t, c, s)
	if got := s.SetDefault("foo", "qux"); got != "bar" {
		t.Errorf("after round trip SetDefault = %v, want bar", got)
	}
	if s.Modified() {
		t.Error("SetDefault on a present key marked the session modified")
	}
	if v, _ := s.Get("foo"); v != "bar" {
		t.Errorf("Get(foo) = %v, want bar", v)
	}
}

func TestDjango_has_key(t *testing.T) {
	c, _ := newTestCodec(t, Config{})
	s := c.New()
	s.Set("some key", 1)
	if !s.Has("some key") || s.Has("other key") {
		t.Error("Has is wrong before encoding")
	}
	s = mustRoundTrip(t, c, s)
	if !s.Has("some key") || s.Has("other key") {
		t.Error("Has is wrong after a round trip")
	}
	if s.Modified() {
		t.Error("Has marked the session modified")
	}
	s.Set("nil", nil)
	if !s.Has("nil") {
		t.Error("a key holding nil is not reported by Has")
	}
}

func TestDjango_keys(t *testing.T) {
	c, _ := newTestCodec(t, Config{})
	s := c.New()
	in := []string{"x", "a", "m", "b", "é", "A", ""}
	for i, k := range in {
		s.Set(k, i)
	}
	want := slices.Clone(in)
	slices.Sort(want)
	if got := s.Keys(); !slices.Equal(got, want) {
		t.Errorf("Keys() = %q, want %q", got, want)
	}
	s = mustRoundTrip(t, c, s)
	if got := s.Keys(); !slices.Equal(got, want) {
		t.Errorf("after round trip Keys() = %q, want %q", got, want)
	}
	if s.Len() != len(in) {
		t.Errorf("Len() = %d, want %d", s.Len(), len(in))
	}
	if s.Modified() {
		t.Error("Keys/Len marked the session modified")
	}
	// Keys returns a copy.
	got := s.Keys()
	got[0] = "changed"
	if s.Keys()[0] == "changed" {
		t.Error("Keys returned the session's own slice")
	}
}

func TestDjango_clear(t *testing.T) {
	c, _ := newTestCodec(t, Config{})
	s := c.New()
	s.Set("x", 1)
	s.Set("y", 2)
	s.AddFlash("hi")
	s = mustRoundTrip(t, c, s)
	id := s.ID()
	s.Clear()
	if s.Len() != 0 || s.Has("x") || s.Flashes() != nil {
		t.Errorf("Clear left data: keys %v", s.Keys())
	}
	if s.ID() != id {
		t.Error("Clear changed the session ID")
	}
	if !s.Modified() {
		t.Error("Clear did not mark the session modified")
	}
	if v := mustEncode(t, c, s); v != "" {
		t.Errorf("cleared session encodes to %q, want no cookie", v)
	}
	// Refilled, it is the same session.
	s.Set("z", 3)
	if got := mustRoundTrip(t, c, s).ID(); got != id {
		t.Errorf("ID after Clear and Set = %q, want %q", got, id)
	}
}

func TestDjango_flush(t *testing.T) {
	c, clk := newTestCodec(t, Config{})
	s := c.New()
	s.Set("foo", "bar")
	s.SetExpiry(10 * time.Second)
	s = mustRoundTrip(t, c, s)
	id := s.ID()
	created := s.CreatedAt()
	clk.Advance(5 * time.Second)
	s.Flush()
	if s.Len() != 0 || s.Has("foo") {
		t.Errorf("Flush left data: %v", s.Keys())
	}
	if !s.Modified() {
		t.Error("Flush did not mark the session modified")
	}
	if s.ID() == id {
		t.Error("Flush kept the session ID")
	}
	if !s.CreatedAt().After(created) {
		t.Error("Flush kept the creation time")
	}
	if s.ExpiryAge() != DefaultMaxAge {
		t.Errorf("after Flush ExpiryAge = %v, want the default %v", s.ExpiryAge(), DefaultMaxAge)
	}
	if v := mustEncode(t, c, s); v != "" {
		t.Errorf("flushed session encodes to %q, want no cookie", v)
	}
}

func TestDjango_cycle(t *testing.T) {
	c, _ := newTestCodec(t, Config{})
	s := c.New()
	s.Set("a", "c")
	s.Set("b", "d")
	s = mustRoundTrip(t, c, s)
	prevID, prevData := s.ID(), sessionData(t, s)
	s.Renew()
	if !s.Modified() {
		t.Error("Renew did not mark the session modified")
	}
	if s.ID() == prevID {
		t.Error("Renew kept the session ID")
	}
	if got := sessionData(t, s); !reflect.DeepEqual(got, prevData) {
		t.Errorf("Renew changed the data: %v, want %v", got, prevData)
	}
	newID := s.ID()
	s = mustRoundTrip(t, c, s)
	if s.ID() != newID {
		t.Error("the renewed ID did not survive a round trip")
	}
	if got := sessionData(t, s); !reflect.DeepEqual(got, prevData) {
		t.Errorf("after round trip data = %v, want %v", got, prevData)
	}
	// A new session without an ID yet gets one.
	n := c.New()
	n.Renew()
	if n.ID() == "" {
		t.Error("Renew of a new session left no ID")
	}
}

func TestDjango_decode(t *testing.T) {
	c, _ := newTestCodec(t, Config{})
	s := c.New()
	data := map[string]any{
		"a test key": "a test value",
		"int":        int64(-3),
		"bool":       true,
		"nil":        nil,
		"float":      1.5,
		"list":       []any{"x", int64(1)},
		"nested":     map[string]any{"k": []any{map[string]any{"deep": "yes"}}},
		"unicode":    "日本語 ✓",
		"":           "empty key",
	}
	for k, v := range data {
		s.Set(k, v)
	}
	s2 := mustRoundTrip(t, c, s)
	if got := sessionData(t, s2); !reflect.DeepEqual(got, data) {
		t.Errorf("decoded data = %#v\nwant %#v", got, data)
	}
	if s2.ID() != s.ID() {
		t.Error("the ID did not survive a round trip")
	}
	if !s2.CreatedAt().Equal(s.CreatedAt()) {
		t.Error("the creation time did not survive a round trip")
	}
	if s2.KeyID() != "k1" {
		t.Errorf("KeyID = %q, want k1", s2.KeyID())
	}
	// Decoding twice gives two independent sessions.
	v := mustEncode(t, c, s)
	a, b := mustDecode(t, c, v), mustDecode(t, c, v)
	a.Set("a test key", "changed")
	if got, _ := b.Get("a test key"); got != "a test value" {
		t.Errorf("changing one decoded session changed another: %v", got)
	}
}

// sealRaw seals payload exactly as Encode seals an envelope, so that only
// the payload is wrong.
func sealRaw(t *testing.T, c *Codec, payload []byte) string {
	t.Helper()
	buf := slices.Clip(slices.Clone(payload))
	v, err := c.seal(c.keys.load().primary, buf, c.unixNow(), &buf)
	if err != nil {
		t.Fatalf("seal: %v", err)
	}
	return v
}

func TestDjango_decode_serializer_exception(t *testing.T) {
	c, _ := newTestCodec(t, Config{})
	s := c.New()
	s.Set("k", "v")
	now := c.unixNow()
	good := c.appendPayload(nil, s, now, now+3600)

	// The control: the same sealing path opens a good envelope, so the
	// failures below are the payload's.
	if got, err := c.Decode(sealRaw(t, c, good)); err != nil {
		t.Fatalf("a well-formed envelope sealed by hand does not open: %v", err)
	} else if v, _ := got.Get("k"); v != "v" {
		t.Fatalf("hand-sealed envelope decodes to %v", v)
	}

	withByte := func(i int, b byte) []byte {
		p := slices.Clone(good)
		p[i] = b
		return p
	}
	cases := map[string][]byte{
		"empty":               {},
		"msgpack string":      []byte("\xadnot a session"),
		"JSON":                []byte(`{"k":"v"}`),
		"pickle":              []byte("\x80\x04\x95\x00"),
		"never-used code":     {0xc1},
		"truncated envelope":  good[:len(good)-1],
		"trailing byte":       append(slices.Clone(good), 0xc0),
		"wrong version":       withByte(1, payloadVersion+1),
		"nine fields":         withByte(0, 0x99),
		"map not array":       withByte(0, 0x8a),
		"unknown ext type":    {0xd4, 0x05, 0x00},
		"nested too deeply":   []byte(strings.Repeat("\x91", 40) + "\xc0"),
		"huge declared array": {0xdd, 0xff, 0xff, 0xff, 0xff},
	}
	for name, payload := range cases {
		t.Run(name, func(t *testing.T) {
			got, err := c.Decode(sealRaw(t, c, payload))
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("Decode error = %v, want ErrInvalid", err)
			}
			if got != nil {
				t.Error("Decode returned a session along with an error")
			}
		})
	}
}

// ---------------------------------------------------------------------------
// The seed scenario: a two-week login with a five-minute SMS code inside.

func TestSeed_LoginWithSMSCode(t *testing.T) {
	c, clk := newTestCodec(t, Config{}) // default MaxAge: two weeks
	s := c.New()
	s.Set("user_id", int64(1234))
	s.SetWithTTL("sms_code", "493817", 5*time.Minute)
	codeDeadline := clk.Now().Add(5 * time.Minute)
	if d, ok := s.KeyExpiry("sms_code"); !ok || !d.Equal(codeDeadline) {
		t.Fatalf("KeyExpiry = %v, %v; want %v", d, ok, codeDeadline)
	}
	if _, ok := s.KeyExpiry("user_id"); ok {
		t.Error("a key stored with Set has a TTL")
	}
	sent := mustEncode(t, c, s)

	// 4m59s later the code is there, and the resealed cookie keeps the
	// original deadline: the TTL does not slide with activity.
	clk.Advance(4*time.Minute + 59*time.Second)
	s = mustDecode(t, c, sent)
	if code, ok := Get[string](s, "sms_code"); !ok || code != "493817" {
		t.Fatalf("at 4m59s Get[string](sms_code) = %q, %v", code, ok)
	}
	if d, ok := s.KeyExpiry("sms_code"); !ok || !d.Equal(codeDeadline) {
		t.Errorf("at 4m59s KeyExpiry = %v, %v; want %v", d, ok, codeDeadline)
	}
	if got := s.Keys(); !slices.Equal(got, []string{"sms_code", "user_id"}) {
		t.Errorf("at 4m59s Keys = %v", got)
	}
	resealed := mustEncode(t, c, s)
	live := s // kept in memory across the deadline

	clk.Advance(time.Second) // exactly 5m: the deadline
	for name, s := range map[string]*Session{
		"first cookie":    mustDecode(t, c, sent),
		"resealed cookie": mustDecode(t, c, resealed),
		"in memory":       live,
	} {
		t.Run(name, func(t *testing.T) {
			if s.Has("sms_code") {
				t.Error("Has(sms_code) at 5m")
			}
			if v, ok := s.Get("sms_code"); ok {
				t.Errorf("Get(sms_code) at 5m = %v", v)
			}
			if v, ok := Get[string](s, "sms_code"); ok {
				t.Errorf("Get[string](sms_code) at 5m = %q", v)
			}
			if _, ok := s.KeyExpiry("sms_code"); ok {
				t.Error("KeyExpiry(sms_code) at 5m reports a TTL")
			}
			if got := s.Keys(); !slices.Equal(got, []string{"user_id"}) {
				t.Errorf("Keys at 5m = %v, want [user_id]", got)
			}
			if s.Len() != 1 {
				t.Errorf("Len at 5m = %d", s.Len())
			}
			if uid, ok := Get[int64](s, "user_id"); !ok || uid != 1234 {
				t.Errorf("user_id at 5m = %d, %v", uid, ok)
			}
			if s.ExpiryAge() != DefaultMaxAge {
				t.Errorf("login ExpiryAge = %v, want %v", s.ExpiryAge(), DefaultMaxAge)
			}
			// And the login survives another request.
			s2 := mustRoundTrip(t, c, s)
			if !s2.Has("user_id") || s2.Has("sms_code") {
				t.Errorf("after reseal keys = %v", s2.Keys())
			}
		})
	}

	// The login itself lasts two weeks from the last seal.
	clk.Advance(DefaultMaxAge - 5*time.Second)
	if _, err := c.Decode(resealed); err != nil {
		t.Errorf("login cookie 5s before two weeks since its seal: %v", err)
	}
	clk.Advance(5 * time.Second)
	if _, err := c.Decode(resealed); !errors.Is(err, ErrExpired) {
		t.Errorf("login cookie two weeks after its seal: err = %v, want ErrExpired", err)
	}
}

func TestSetWithTTL_SetRemovesTTL(t *testing.T) {
	c, clk := newTestCodec(t, Config{})
	s := c.New()
	s.SetWithTTL("k", "v", 5*time.Minute)
	s.Set("k", "w")
	if _, ok := s.KeyExpiry("k"); ok {
		t.Error("Set kept the TTL")
	}
	s = mustRoundTrip(t, c, s)
	clk.Advance(10 * time.Minute)
	s = mustRoundTrip(t, c, s)
	if v, ok := s.Get("k"); !ok || v != "w" {
		t.Errorf("after the old TTL Get(k) = %v, %v; want w, true", v, ok)
	}
	// SetWithTTL on a plain key gives it one; a second SetWithTTL replaces it.
	s.SetWithTTL("k", "x", time.Minute)
	s.SetWithTTL("k", "y", 2*time.Minute)
	want := clk.Now().Add(2 * time.Minute)
	s = mustRoundTrip(t, c, s)
	if d, ok := s.KeyExpiry("k"); !ok || !d.Equal(want) {
		t.Errorf("KeyExpiry = %v, %v; want %v", d, ok, want)
	}
	if v, _ := s.Get("k"); v != "y" {
		t.Errorf("Get(k) = %v, want y", v)
	}
}

func TestSetWithTTL_NonPositiveRemoves(t *testing.T) {
	for _, ttl := range []time.Duration{0, -1, -time.Second, math.MinInt64} {
		t.Run(ttl.String(), func(t *testing.T) {
			c, _ := newTestCodec(t, Config{})
			s := c.New()
			s.Set("k", "v")
			s.Set("other", 1)
			s = mustRoundTrip(t, c, s)
			s.SetWithTTL("k", "new", ttl)
			if s.Has("k") {
				t.Error("SetWithTTL with ttl <= 0 left the key")
			}
			if !s.Modified() {
				t.Error("removing a key did not mark the session modified")
			}
			if s = mustRoundTrip(t, c, s); s.Has("k") {
				t.Error("the key came back after a round trip")
			}
			s.SetWithTTL("missing", "new", ttl)
			if s.Has("missing") || s.Modified() {
				t.Error("SetWithTTL with ttl <= 0 on a missing key stored or modified")
			}
		})
	}
}

func TestSetWithTTL_SubSecondRoundsUp(t *testing.T) {
	c, clk := newTestCodec(t, Config{})
	s := c.New()
	s.Set("keep", 1)
	s.SetWithTTL("k", "v", time.Nanosecond)
	if d, ok := s.KeyExpiry("k"); !ok || !d.Equal(clk.Now().Add(time.Second)) {
		t.Errorf("KeyExpiry of a 1ns TTL = %v, want now+1s", d)
	}
	v := mustEncode(t, c, s)
	if !mustDecode(t, c, v).Has("k") {
		t.Error("a 1ns TTL was gone at once")
	}
	clk.Advance(time.Second)
	if mustDecode(t, c, v).Has("k") {
		t.Error("a 1ns TTL lived past one second")
	}
}

func TestSetWithTTL_OnlyExpiredKeysLeftEncodesToNothing(t *testing.T) {
	c, clk := newTestCodec(t, Config{})
	s := c.New()
	s.SetWithTTL("k", "v", time.Minute)
	v := mustEncode(t, c, s)
	clk.Advance(time.Minute)
	if got := mustEncode(t, c, s); got != "" {
		t.Errorf("session whose only key expired encodes to %q", got)
	}
	d := mustDecode(t, c, v) // the session itself is alive
	if d.Len() != 0 || mustEncode(t, c, d) != "" {
		t.Error("decoded session kept an expired key")
	}
}

// ---------------------------------------------------------------------------
// Get[T] conversions.

type UserID int64

type testProfile struct {
	Name  string   `msgpack:"name"`
	Age   int      `msgpack:"age"`
	Tags  []string `msgpack:"tags,omitempty"`
	Admin bool     `msgpack:"admin"`
}

// getConv is one Get[T] call and what it must return.
type getConv struct {
	name   string
	get    func(*Session, string) (any, bool)
	want   any
	wantOK bool
}

// getAs is a getConv for Get[T]; want is compared with reflect.DeepEqual (with
// time.Time.Equal for times). A failing conversion must return T's zero
// value, so want is then the zero value.
func getAs[T any](want T, ok bool) getConv {
	return getConv{
		name:   reflect.TypeFor[T]().String(),
		get:    func(s *Session, k string) (any, bool) { return Get[T](s, k) },
		want:   want,
		wantOK: ok,
	}
}

func getFails[T any]() getConv { var z T; return getAs(z, false) }

func TestGetConversions(t *testing.T) {
	when := time.Date(2026, 3, 4, 5, 6, 7, 890123456, time.UTC)
	p := testProfile{Name: "Ada", Age: 36, Tags: []string{"x"}, Admin: true}
	cases := []struct {
		key   string
		value any
		convs []getConv
	}{
		{"five", 5, []getConv{
			getAs(5, true), getAs(int64(5), true), getAs(uint8(5), true), getAs(int8(5), true),
			getAs(uint64(5), true), getAs(5.0, true), getAs(float32(5), true), getAs(UserID(5), true),
			getFails[string](), getFails[bool](), getFails[[]int](), getFails[time.Time](),
		}},
		{"300", 300, []getConv{
			getFails[uint8](), getFails[int8](), getAs(int16(300), true), getAs(uint16(300), true), getAs(300, true),
		}},
		{"minus one", -1, []getConv{
			getFails[uint](), getFails[uint8](), getFails[uint64](), getAs(int8(-1), true), getAs(-1, true), getAs(-1.0, true),
		}},
		{"2.5", 2.5, []getConv{
			getFails[int](), getFails[uint](), getFails[int64](), getAs(float32(2.5), true), getAs(2.5, true),
		}},
		{"0.1", 0.1, []getConv{getFails[float32](), getAs(0.1, true), getFails[int]()}},
		{"3.0", 3.0, []getConv{getAs(3, true), getAs(uint8(3), true)}},
		{"2^53+1", int64(1<<53 + 1), []getConv{
			getFails[float64](), getFails[float32](), getAs(int64(1<<53+1), true), getAs(uint64(1<<53+1), true), getFails[int32](),
		}},
		{"2^53", int64(1 << 53), []getConv{getAs(float64(1<<53), true)}},
		{"max uint64", uint64(math.MaxUint64), []getConv{
			getFails[int64](), getFails[int](), getFails[float64](), getAs(uint64(math.MaxUint64), true),
		}},
		{"min int64", int64(math.MinInt64), []getConv{
			getAs(int64(math.MinInt64), true), getAs(float64(math.MinInt64), true), getFails[uint64](), getFails[int32](),
		}},
		{"max int64", int64(math.MaxInt64), []getConv{
			getAs(int64(math.MaxInt64), true), getAs(uint64(math.MaxInt64), true), getFails[float64](),
		}},
		{"named int", UserID(42), []getConv{getAs(UserID(42), true), getAs(42, true), getAs(uint16(42), true), getFails[string]()}},
		{"bool", true, []getConv{getAs(true, true), getFails[int](), getFails[string]()}},
		{"nil", nil, []getConv{getFails[int](), getFails[float64](), getAs[any](nil, true)}},
		{"time", when, []getConv{getAs(when, true), getFails[int](), getFails[string]()}},
		{"bytes", []byte{0, 1, 2, 255}, []getConv{getAs([]byte{0, 1, 2, 255}, true), getFails[int]()}},
		{"strings", []string{"a", "b"}, []getConv{
			getAs([]string{"a", "b"}, true), getAs([]any{"a", "b"}, true), getFails[int](), getFails[map[string]int](),
		}},
		{"map", map[string]int{"a": 1, "b": 300}, []getConv{
			getAs(map[string]int{"a": 1, "b": 300}, true), getAs(map[string]int64{"a": 1, "b": 300}, true),
			getFails[[]string](), getFails[int](), getFails[string](),
		}},
		{"struct", p, []getConv{
			getAs(p, true), getAs(&p, true), getFails[int](), getFails[[]string](), getFails[time.Time](),
		}},
		{"string", "hello", []getConv{
			getAs("hello", true), getFails[int](), getFails[bool](), getFails[[]string](),
			getFails[map[string]int](), getFails[testProfile](), getFails[time.Time](), getFails[float64](),
		}},
	}

	fill := func(c *Codec) *Session {
		s := c.New()
		for _, tc := range cases {
			s.Set(tc.key, tc.value)
		}
		return s
	}
	check := func(t *testing.T, s *Session) {
		for _, tc := range cases {
			for _, cv := range tc.convs {
				got, ok := cv.get(s, tc.key)
				if ok != cv.wantOK || !sameValue(got, cv.want) {
					t.Errorf("%s: Get[%s] = %#v, %v; want %#v, %v", tc.key, cv.name, got, ok, cv.want, cv.wantOK)
				}
			}
			// Get[any] is the untyped Get.
			a, aok := Get[any](s, tc.key)
			u, uok := s.Get(tc.key)
			if aok != uok || !aok || !sameValue(a, u) {
				t.Errorf("%s: Get[any] = %#v, %v; Get = %#v, %v", tc.key, a, aok, u, uok)
			}
		}
		// A missing key: the zero value and false, whatever T.
		for _, cv := range []getConv{getFails[int](), getFails[any](), getFails[[]string](), getFails[testProfile](), getFails[*testProfile]()} {
			if got, ok := cv.get(s, "missing"); ok || !sameValue(got, cv.want) {
				t.Errorf("missing: Get[%s] = %#v, %v", cv.name, got, ok)
			}
		}
	}

	c, _ := newTestCodec(t, Config{})
	t.Run("before encoding", func(t *testing.T) { check(t, fill(c)) })
	t.Run("after a round trip", func(t *testing.T) { check(t, mustRoundTrip(t, c, fill(c))) })
	t.Run("after a round trip, values already read", func(t *testing.T) {
		s := mustRoundTrip(t, c, fill(c))
		for _, k := range s.Keys() {
			s.Get(k)
		}
		check(t, s)
	})
}

// sameValue is reflect.DeepEqual, except that times compare with Equal.
func sameValue(a, b any) bool {
	if ta, ok := a.(time.Time); ok {
		tb, ok := b.(time.Time)
		return ok && ta.Equal(tb)
	}
	return reflect.DeepEqual(a, b)
}

// TestGetNormalTypes checks the types the Session doc promises from the
// untyped Get: the same dynamic type in the request that set a value and
// after any number of round trips.
func TestGetNormalTypes(t *testing.T) {
	paris, err := time.LoadLocation("Europe/Paris")
	if err != nil {
		paris = time.FixedZone("CET", 3600)
	}
	when := time.Date(2026, 3, 4, 5, 6, 7, 8, paris)
	cases := []struct {
		key    string
		stored any
		want   any
	}{
		{"small int", 5, int64(5)},
		{"negative int", -1, int64(-1)},
		{"int8 range", int8(-100), int64(-100)},
		{"uint8 range", uint8(200), int64(200)},
		{"uint16 range", 300, int64(300)},
		{"int16 range", -300, int64(-300)},
		{"uint32 range", uint32(1 << 20), int64(1 << 20)},
		{"int64 range", int64(-1 << 40), int64(-1 << 40)},
		{"uint64 range", uint64(1 << 40), int64(1 << 40)},
		{"max int64 as uint64", uint64(math.MaxInt64), int64(math.MaxInt64)},
		{"above max int64", uint64(math.MaxInt64 + 1), uint64(math.MaxInt64 + 1)},
		{"named int", UserID(5), int64(5)},
		{"float32", float32(1.5), 1.5},
		{"float64", 2.5, 2.5},
		{"string", "s", "s"},
		{"named string", Role("admin"), "admin"},
		{"bytes", []byte("b"), []byte("b")},
		{"nil bytes", []byte(nil), nil},
		{"bool", true, true},
		{"nil", nil, nil},
		{"time", when, when.UTC()},
		{"[]string", []string{"a", "b"}, []any{"a", "b"}},
		{"[]int", []int{1, 300}, []any{int64(1), int64(300)}},
		{"array", [2]int16{1, 2}, []any{int64(1), int64(2)}},
		{"[]time", []time.Time{when}, []any{when.UTC()}},
		{"struct", testProfile{Name: "Ada", Age: 36}, map[string]any{"name": "Ada", "age": int64(36), "admin": false}},
		{"struct pointer", &testProfile{Name: "Ada"}, map[string]any{"name": "Ada", "age": int64(0), "admin": false}},
		{"map[string]int", map[string]int{"a": 1}, map[string]any{"a": int64(1)}},
		{"empty map", map[string]int{}, map[string]any{}},
		{"map[int]string", map[int]string{1: "a", 300: "b"}, map[any]any{int64(1): "a", int64(300): "b"}},
		{"map[bool]int", map[bool]int{true: 1}, map[any]any{true: int64(1)}},
		{"map[float32]int", map[float32]int{0.5: 1}, map[any]any{0.5: int64(1)}},
		{"nested map", map[string]any{"m": map[int]bool{-1: true}}, map[string]any{"m": map[any]any{int64(-1): true}}},
	}
	c, _ := newTestCodec(t, Config{})
	s := c.New()
	for _, tc := range cases {
		s.Set(tc.key, tc.stored)
	}
	check := func(when string, s *Session) {
		t.Helper()
		for _, tc := range cases {
			got, ok := s.Get(tc.key)
			if !ok || !reflect.DeepEqual(got, tc.want) {
				t.Errorf("%s %s: Get = %#v (%T), %v; want %#v (%T)", tc.key, when, got, got, ok, tc.want, tc.want)
			}
			if tm, ok := got.(time.Time); ok && tm.Location() != time.UTC {
				t.Errorf("%s %s: time in %v, want UTC", tc.key, when, tm.Location())
			}
		}
	}
	check("before encoding", s)
	check("read twice", s)
	s = mustRoundTrip(t, c, s)
	check("after a round trip", s)
	check("read twice after a round trip", s)
	check("after two round trips", mustRoundTrip(t, c, s))

	// Pop, SetDefault and Flashes hand back the same types.
	s = c.New()
	s.Set("n", uint16(7))
	if v, _ := s.Pop("n"); v != int64(7) {
		t.Errorf("Pop = %#v, want int64(7)", v)
	}
	if v := s.SetDefault("d", []int{1}); !reflect.DeepEqual(v, []any{int64(1)}) {
		t.Errorf("SetDefault of a new key = %#v, want []any{int64(1)}", v)
	}
	if v := s.SetDefault("d", "other"); !reflect.DeepEqual(v, []any{int64(1)}) {
		t.Errorf("SetDefault of a set key = %#v, want []any{int64(1)}", v)
	}
	s.AddFlash(int8(3))
	s.AddFlash(when)
	if f := s.Flashes(); !reflect.DeepEqual(f, []any{int64(3), when.UTC()}) {
		t.Errorf("Flashes = %#v, want int64(3) and the time in UTC", f)
	}
}

// Get[T] of a struct decodes with msgpack, as its doc says: a time.Time
// field comes back as the same instant, in time.Local.
func TestGetStructTimeField(t *testing.T) {
	type event struct{ When time.Time }
	when := time.Date(2026, 3, 4, 5, 6, 7, 8, time.UTC)
	c, _ := newTestCodec(t, Config{})
	s := c.New()
	s.Set("e", event{when})
	for name, s := range map[string]*Session{"same request": s, "after a round trip": mustRoundTrip(t, c, s)} {
		got, ok := Get[event](s, "e")
		if !ok || !got.When.Equal(when) || got.When.Location() != time.Local {
			t.Errorf("%s: Get[event] = %v (%v), %v; want %v in time.Local", name, got.When, got.When.Location(), ok, when)
		}
	}
}

// Role is a named string type for the tests.
type Role string

// Get hands out copies: changing a slice or map that Get returned changes
// neither a later Get nor the cookie, in the request that set the value or
// after a round trip.
func TestGetReturnsCopies(t *testing.T) {
	c, _ := newTestCodec(t, Config{})
	for _, roundTrip := range []bool{false, true} {
		s := c.New()
		s.Set("list", []string{"a", "b"})
		s.Set("map", map[string]int{"k": 1})
		s.Set("bytes", []byte("xyz"))
		if roundTrip {
			s = mustRoundTrip(t, c, s)
		}
		l, _ := s.Get("list")
		l.([]any)[0] = "changed"
		m, _ := s.Get("map")
		m.(map[string]any)["k"] = "changed"
		b, _ := s.Get("bytes")
		b.([]byte)[0] = 'Q'
		for name, s := range map[string]*Session{"same session": s, "next request": mustRoundTrip(t, c, s)} {
			if l, _ := s.Get("list"); !reflect.DeepEqual(l, []any{"a", "b"}) {
				t.Errorf("round trip %v, %s: list = %#v after changing what Get returned", roundTrip, name, l)
			}
			if m, _ := s.Get("map"); !reflect.DeepEqual(m, map[string]any{"k": int64(1)}) {
				t.Errorf("round trip %v, %s: map = %#v after changing what Get returned", roundTrip, name, m)
			}
			if b, _ := s.Get("bytes"); string(b.([]byte)) != "xyz" {
				t.Errorf("round trip %v, %s: bytes = %q after changing what Get returned", roundTrip, name, b)
			}
		}
	}
}

func TestGetOr(t *testing.T) {
	c, _ := newTestCodec(t, Config{})
	s := c.New()
	s.Set("n", 300)
	s.Set("s", "str")
	for name, s := range map[string]*Session{"before encoding": s, "after a round trip": mustRoundTrip(t, c, s)} {
		t.Run(name, func(t *testing.T) {
			if got := GetOr(s, "n", 7); got != 300 {
				t.Errorf("GetOr[int](n) = %d, want 300", got)
			}
			if got := GetOr(s, "missing", 7); got != 7 {
				t.Errorf("GetOr(missing) = %d, want 7", got)
			}
			if got := GetOr[uint8](s, "n", 9); got != 9 {
				t.Errorf("GetOr[uint8](300) = %d, want the default 9", got)
			}
			if got := GetOr(s, "s", 1.5); got != 1.5 {
				t.Errorf("GetOr[float64](string) = %v, want the default", got)
			}
			if got := GetOr(s, "s", "def"); got != "str" {
				t.Errorf("GetOr[string](s) = %q", got)
			}
			if s.Modified() && name != "before encoding" {
				t.Error("GetOr modified the session")
			}
		})
	}
}

// Get returns values, not aliases into the session: changing what Get[T]
// returned after a round trip does not change the session.
func TestGetAfterRoundTripDoesNotAlias(t *testing.T) {
	c, _ := newTestCodec(t, Config{})
	s := c.New()
	s.Set("list", []string{"a", "b"})
	s.Set("bytes", []byte("xyz"))
	s = mustRoundTrip(t, c, s)
	l, _ := Get[[]string](s, "list")
	l[0] = "changed"
	b, _ := Get[[]byte](s, "bytes")
	b[0] = 'Q'
	s = mustRoundTrip(t, c, s)
	if l, _ := Get[[]string](s, "list"); l[0] != "a" {
		t.Errorf("list = %q after changing a copy", l)
	}
	if b, _ := Get[[]byte](s, "bytes"); string(b) != "xyz" {
		t.Errorf("bytes = %q after changing a copy", b)
	}
}

// Set encodes at once: a change to the caller's value after Set reaches
// neither Get in the same request nor the sealed cookie.
func TestSetSnapshotsValue(t *testing.T) {
	c, _ := newTestCodec(t, Config{})
	s := c.New()
	m := map[string]int{"a": 1}
	list := []string{"x", "y"}
	p := &testProfile{Name: "Ada", Tags: []string{"t"}}
	s.Set("m", m)
	s.Set("list", list)
	s.Set("p", p)
	s.AddFlash(list)
	m["a"] = 2
	list[0] = "changed"
	p.Name, p.Tags[0] = "Eve", "changed"

	check := func(name string, s *Session) {
		t.Helper()
		if got, _ := Get[map[string]int](s, "m"); got["a"] != 1 {
			t.Errorf("%s: map = %v; want the value as it was at Set", name, got)
		}
		if got, _ := s.Get("list"); !reflect.DeepEqual(got, []any{"x", "y"}) {
			t.Errorf("%s: Get(list) = %#v; want the value as it was at Set", name, got)
		}
		if got, _ := Get[[]string](s, "list"); !reflect.DeepEqual(got, []string{"x", "y"}) {
			t.Errorf("%s: Get[[]string](list) = %#v; want the value as it was at Set", name, got)
		}
		if got, _ := Get[*testProfile](s, "p"); got == nil || got.Name != "Ada" || !reflect.DeepEqual(got.Tags, []string{"t"}) {
			t.Errorf("%s: profile = %+v; want the value as it was at Set", name, got)
		}
	}
	check("same request", s)
	v := mustEncode(t, c, s)
	list[1] = "changed after Encode"
	next := mustDecode(t, c, v)
	check("sealed cookie", next)
	if f := next.Flashes(); !reflect.DeepEqual(f, []any{[]any{"x", "y"}}) {
		t.Errorf("flash = %#v; want the slice as it was at AddFlash", f)
	}
}

// ---------------------------------------------------------------------------
// Flash messages.

func TestFlashes(t *testing.T) {
	c, _ := newTestCodec(t, Config{})
	s := c.New()
	if s.Flashes() != nil || s.Modified() {
		t.Fatal("Flashes of a new session is not nil, or modified it")
	}
	s.AddFlash("saved")
	if !s.Modified() {
		t.Error("AddFlash did not mark the session modified")
	}
	s.AddFlash(map[string]any{"level": "warn", "n": 2})
	if s.Len() != 0 || s.Has("saved") {
		t.Error("flashes count as data keys")
	}
	// In the same request.
	s2 := c.New()
	s2.AddFlash("one")
	s2.AddFlash("two")
	if got := s2.Flashes(); !reflect.DeepEqual(got, []any{"one", "two"}) {
		t.Errorf("Flashes = %#v", got)
	}
	if got := s2.Flashes(); got != nil {
		t.Errorf("second Flashes = %#v, want nil", got)
	}

	// Across requests: the next request sees them once.
	next := mustRoundTrip(t, c, s)
	if next.Modified() {
		t.Error("decoded session is modified")
	}
	want := []any{"saved", map[string]any{"level": "warn", "n": int64(2)}}
	if got := next.Flashes(); !reflect.DeepEqual(got, want) {
		t.Errorf("Flashes after a round trip = %#v, want %#v", got, want)
	}
	if !next.Modified() {
		t.Error("reading flashes did not mark the session modified (they would come back)")
	}
	if got := next.Flashes(); got != nil {
		t.Errorf("second Flashes = %#v, want nil", got)
	}
	if v := mustEncode(t, c, next); v != "" {
		t.Errorf("session with its flashes read and no data encodes to %q", v)
	}

	// Unread flashes survive any number of reseals; read ones do not.
	s = c.New()
	s.Set("user", 1)
	s.AddFlash("hello")
	s = mustRoundTrip(t, c, mustRoundTrip(t, c, s))
	if got := s.Flashes(); !reflect.DeepEqual(got, []any{"hello"}) {
		t.Errorf("unread flash after two reseals = %#v", got)
	}
	if s = mustRoundTrip(t, c, s); s.Flashes() != nil {
		t.Error("a read flash came back")
	}
	if !s.Has("user") {
		t.Error("reading flashes dropped data")
	}
}

// ---------------------------------------------------------------------------
// Encode: empty sessions and values that cannot be carried.

func TestEncodeEmpty(t *testing.T) {
	c, _ := newTestCodec(t, Config{})
	s := c.New()
	if v, err := c.Encode(s); v != "" || err != nil {
		t.Errorf("Encode(empty) = %q, %v; want \"\", nil", v, err)
	}
	s.Set("k", 1)
	s.Delete("k")
	if v, err := c.Encode(s); v != "" || err != nil {
		t.Errorf("Encode(emptied) = %q, %v; want \"\", nil", v, err)
	}
	if _, err := c.Encode(nil); err == nil {
		t.Error("Encode(nil) returned no error")
	}
	// Flashes alone are worth a cookie.
	s.AddFlash("bye")
	v := mustEncode(t, c, s)
	if v == "" {
		t.Fatal("a session with only a flash encodes to nothing")
	}
	if got := mustDecode(t, c, v).Flashes(); !reflect.DeepEqual(got, []any{"bye"}) {
		t.Errorf("flash-only session decodes with flashes %#v", got)
	}
}

func TestEncodeUnencodable(t *testing.T) {
	cases := map[string]any{
		"chan":          make(chan int),
		"func":          func() {},
		"complex":       complex(1, 2),
		"chan in map":   map[string]any{"c": make(chan int)},
		"func in slice": []any{1, func() {}},
		"unsafe ptr":    struct{ C chan int }{},
	}
	for name, value := range cases {
		t.Run(name, func(t *testing.T) {
			c, _ := newTestCodec(t, Config{})
			s := c.New()
			s.Set("fine", 1)
			if err := s.Err(); err != nil {
				t.Fatalf("Err before a bad value = %v", err)
			}
			s.Set("bad_key", value)
			// The handler learns at once, with the error Encode gives.
			serr := s.Err()
			if !errors.Is(serr, ErrUnencodable) || !strings.Contains(serr.Error(), `"bad_key"`) {
				t.Errorf("Err = %v; want ErrUnencodable naming the key", serr)
			}
			if got, ok := s.Get("bad_key"); ok || got != nil {
				t.Errorf("Get of the bad value = %#v, %v; want nil, false", got, ok)
			}
			v, err := c.Encode(s)
			if err == nil || v != "" {
				t.Fatalf("Encode = %q, %v; want an error", v, err)
			}
			if !errors.Is(err, ErrUnencodable) || err.Error() != serr.Error() {
				t.Errorf("Encode error %q; want ErrUnencodable, as Err said: %q", err, serr)
			}
			// Replacing or deleting the bad value clears the error.
			s.Set("bad_key", "ok")
			if err := s.Err(); err != nil {
				t.Errorf("Err after replacing the value = %v", err)
			}
			mustRoundTrip(t, c, s)
			s.Set("bad_key", value)
			s.Delete("bad_key")
			mustRoundTrip(t, c, s)
			// The same value as a flash, with or without a category.
			for _, category := range []string{"", "cat"} {
				s.AddFlashTo(category, value)
				if err := s.Err(); !errors.Is(err, ErrUnencodable) || !strings.Contains(err.Error(), "flash") {
					t.Errorf("Err with a bad flash in %q = %v; want ErrUnencodable about the flash", category, err)
				}
				if v, err := c.Encode(s); !errors.Is(err, ErrUnencodable) || v != "" || !strings.Contains(err.Error(), "flash") {
					t.Errorf("Encode with a bad flash = %q, %v; want an error about the flash", v, err)
				}
				// Reading the category drops the bad flash, never returns it.
				if f := s.FlashesFrom(category); f != nil {
					t.Errorf("FlashesFrom(%q) = %#v, want nothing", category, f)
				}
				if err := s.Err(); err != nil {
					t.Errorf("Err after reading the flashes = %v", err)
				}
			}
		})
	}
}

// nestedValue returns depth containers nested inside one another.
func nestedValue(depth int, mapped bool) any {
	var v any = "leaf"
	for range depth {
		if mapped {
			v = map[string]any{"k": v}
		} else {
			v = []any{v}
		}
	}
	return v
}

func TestEncodeDepthLimit(t *testing.T) {
	for _, mapped := range []bool{false, true} {
		t.Run(fmt.Sprintf("maps=%v", mapped), func(t *testing.T) {
			c, _ := newTestCodec(t, Config{})
			ok := nestedValue(maxValueDepth, mapped)
			s := c.New()
			s.Set("deep", ok)
			s.AddFlash(ok)
			s = mustRoundTrip(t, c, s)
			if got, _ := s.Get("deep"); !reflect.DeepEqual(got, ok) {
				t.Errorf("%d levels did not round-trip", maxValueDepth)
			}
			if got := s.Flashes(); len(got) != 1 || !reflect.DeepEqual(got[0], ok) {
				t.Errorf("a flash of %d levels did not round-trip", maxValueDepth)
			}

			s = c.New()
			s.Set("too_deep", nestedValue(maxValueDepth+1, mapped))
			v, err := c.Encode(s)
			if err == nil || v != "" {
				t.Fatalf("Encode of %d levels = %q, %v; want an error", maxValueDepth+1, v, err)
			}
			if !strings.Contains(err.Error(), `"too_deep"`) {
				t.Errorf("error %q does not name the key", err)
			}
			s = c.New()
			s.AddFlash(nestedValue(1000, mapped))
			if _, err := c.Encode(s); err == nil {
				t.Error("Encode of a 1000-level flash succeeded")
			}
		})
	}
}

func TestEncodeNonScalarMapKeys(t *testing.T) {
	type point struct{ X, Y int }
	bad := map[string]any{
		"array key":     map[[2]int]string{{1, 2}: "x"},
		"struct key":    map[point]string{{1, 2}: "x"},
		"any array key": map[any]string{[2]string{"a", "b"}: "x"},
		"time key":      map[time.Time]int{time.Unix(1, 0): 1},
		"byte array":    map[[3]byte]int{{1, 2, 3}: 1},
		"nested":        map[string]any{"inner": map[[1]int]int{{1}: 1}},
	}
	for name, value := range bad {
		t.Run(name, func(t *testing.T) {
			c, _ := newTestCodec(t, Config{})
			s := c.New()
			s.Set("m", value)
			if v, err := c.Encode(s); err == nil || v != "" || !strings.Contains(err.Error(), `"m"`) {
				t.Errorf("Encode = %q, %v; want an error naming the key", v, err)
			}
		})
	}
	// Scalar keys of every kind are fine.
	good := map[string]any{
		"int keys":    map[int]string{1: "a", -300: "b"},
		"float keys":  map[float64]string{1.5: "a"},
		"bool keys":   map[bool]string{true: "a"},
		"string keys": map[string]string{"": "a"},
		"mixed keys":  map[any]int{"s": 1, 2: 2, nil: 3},
	}
	for name, value := range good {
		t.Run(name, func(t *testing.T) {
			c, _ := newTestCodec(t, Config{})
			s := c.New()
			s.Set("m", value)
			s = mustRoundTrip(t, c, s)
			if n := reflect.ValueOf(mustGet(t, s, "m")).Len(); n != reflect.ValueOf(value).Len() {
				t.Errorf("decoded map has %d entries, want %d", n, reflect.ValueOf(value).Len())
			}
		})
	}
}

// ---------------------------------------------------------------------------
// Concurrency.

func TestSessionConcurrentUse(t *testing.T) {
	c, clk := newTestCodec(t, Config{})
	s := c.New()
	s.Set("shared", 0)
	const workers, rounds = 8, 200
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			own := fmt.Sprintf("w%d", w)
			for i := range rounds {
				s.Set(own, i)
				s.Set("shared", w)
				if v, ok := Get[int](s, own); !ok || v != i {
					errs <- fmt.Errorf("%s: Get = %d, %v; want %d", own, v, ok, i)
					return
				}
				s.SetWithTTL(own+"_ttl", i, time.Hour)
				s.Delete(own + "_ttl")
				_ = s.Keys()
				_ = s.Len()
				_ = s.Has("shared")
				s.AddFlash(w)
				_ = s.Flashes()
				_ = s.ID()
				_ = s.SetDefault(own+"_default", w)
				_ = s.ExpiryAge()
				if i%20 == 0 {
					clk.Advance(time.Millisecond)
					v, err := c.Encode(s)
					if err != nil {
						errs <- err
						return
					}
					d, err := c.Decode(v)
					if err != nil {
						errs <- fmt.Errorf("Decode of a value encoded concurrently: %w", err)
						return
					}
					if d.ID() != s.ID() {
						errs <- errors.New("ID changed")
						return
					}
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	s = mustRoundTrip(t, c, s)
	for w := range workers {
		if v, ok := Get[int](s, fmt.Sprintf("w%d", w)); !ok || v != rounds-1 {
			t.Errorf("w%d = %d, %v; want %d", w, v, ok, rounds-1)
		}
	}
}

func TestCodecConcurrentUse(t *testing.T) {
	c, clk := newTestCodec(t, Config{})
	const workers, rounds = 16, 100
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var cookie string
			for i := range rounds {
				s, err := c.Decode(cookie)
				if err != nil {
					errs <- err
					return
				}
				if i > 0 {
					if v, _ := Get[int](s, "i"); v != i-1 {
						errs <- fmt.Errorf("worker %d round %d read i=%d", w, i, v)
						return
					}
					if v, _ := Get[string](s, "who"); v != fmt.Sprint(w) {
						errs <- fmt.Errorf("worker %d read another worker's session %q", w, v)
						return
					}
				}
				s.Set("i", i)
				s.Set("who", fmt.Sprint(w))
				s.Set("pad", strings.Repeat("x", w*10))
				if cookie, err = c.Encode(s); err != nil {
					errs <- err
					return
				}
				if i%10 == 0 {
					clk.Advance(time.Second)
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

// Near the end of the representable range (year 9999), a key's TTL is
// capped like the session's own deadline, so the cookie still opens.
func TestSetWithTTL_NearYear9999(t *testing.T) {
	c, clk := newTestCodec(t, Config{})
	clk.Set(time.Date(9999, 12, 1, 0, 0, 0, 0, time.UTC))
	s := c.New()
	s.Set("user", 1)
	s.SetWithTTL("code", "x", 60*24*time.Hour)
	s = mustRoundTrip(t, c, s)
	if !s.Has("code") || !s.Has("user") {
		t.Errorf("keys after a round trip: %v", s.Keys())
	}
	if d, ok := s.KeyExpiry("code"); !ok || d.After(year9999) {
		t.Errorf("KeyExpiry = %v, %v; want no later than %v", d, ok, year9999)
	}
}
