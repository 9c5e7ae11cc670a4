package cookiesession

import (
	"sync"
	"testing"
	"time"
)

// testStart is the instant every testClock starts at.
var testStart = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

// testClock is a clock that moves only when told to. Its Now method is meant
// for Config.Now; it is safe for concurrent use.
type testClock struct {
	mu sync.Mutex
	t  time.Time
}

// newTestClock returns a clock reading testStart.
func newTestClock() *testClock { return &testClock{t: testStart} }

// Now returns the clock's current reading.
func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

// Advance moves the clock forward by d (backward if d is negative).
func (c *testClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// Set moves the clock to t.
func (c *testClock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = t
}

// newTestCodec returns a Codec built from cfg and the clock it reads. If
// cfg.Keys is nil it gets a keyring holding one fresh key "k1"; if cfg.Now is
// nil it gets the returned clock, which starts at testStart. (A caller that
// sets cfg.Now itself gets a clock that drives nothing.) An empty cfg.Name
// is DefaultName ("session"), the name the tests were written for; tests of
// the default name itself call NewCodec.
func newTestCodec(t testing.TB, cfg Config) (*Codec, *testClock) {
	t.Helper()
	if cfg.Name == "" {
		cfg.Name = DefaultName
	}
	if cfg.Keys == nil {
		k, err := GenerateKey("k1")
		if err != nil {
			t.Fatalf("GenerateKey: %v", err)
		}
		kr, err := NewKeyring(k)
		if err != nil {
			t.Fatalf("NewKeyring: %v", err)
		}
		cfg.Keys = kr
	}
	clk := newTestClock()
	if cfg.Now == nil {
		cfg.Now = clk.Now
	}
	c, err := NewCodec(cfg)
	if err != nil {
		t.Fatalf("NewCodec: %v", err)
	}
	return c, clk
}

// mustRoundTrip seals s with c and opens the result, as the next request
// would. It fails the test if either step fails or if s encodes to nothing.
func mustRoundTrip(t testing.TB, c *Codec, s *Session) *Session {
	t.Helper()
	v, err := c.Encode(s)
	if err != nil {
		t.Fatalf("Encode: %v", err)
	}
	if v == "" {
		t.Fatalf("Encode returned no cookie for a session that should have one")
	}
	out, err := c.Decode(v)
	if err != nil {
		t.Fatalf("Decode of a value Encode just produced: %v", err)
	}
	return out
}

// mustEncode seals s with c and fails the test on error.
func mustEncode(t testing.TB, c *Codec, s *Session) string {
	t.Helper()
	v, err := c.Encode(s)
	if err != nil {
		t.Fatalf("Encode: %v", err)
	}
	return v
}

// newKeyring returns a keyring whose primary is a fresh key with the given
// ID, followed by fresh keys with the other IDs.
func newKeyring(t testing.TB, primary string, others ...string) *Keyring {
	t.Helper()
	var keys []Key
	for _, id := range append([]string{primary}, others...) {
		k, err := GenerateKey(id)
		if err != nil {
			t.Fatalf("GenerateKey(%q): %v", id, err)
		}
		keys = append(keys, k)
	}
	kr, err := NewKeyring(keys[0], keys[1:]...)
	if err != nil {
		t.Fatalf("NewKeyring: %v", err)
	}
	return kr
}

// mustDecode opens v with c and fails the test on error.
func mustDecode(t testing.TB, c *Codec, v string) *Session {
	t.Helper()
	s, err := c.Decode(v)
	if err != nil {
		t.Fatalf("Decode: %v", err)
	}
	return s
}

// mustGet returns the value under key and fails the test if there is none.
func mustGet(t testing.TB, s *Session, key string) any {
	t.Helper()
	v, ok := s.Get(key)
	if !ok {
		t.Fatalf("Get(%q): no value", key)
	}
	return v
}

// sessionData returns every key and value of s.
func sessionData(t testing.TB, s *Session) map[string]any {
	t.Helper()
	m := map[string]any{}
	for _, k := range s.Keys() {
		m[k] = mustGet(t, s, k)
	}
	return m
}
