package benchmarks

import (
	"bytes"
	"errors"
	"time"

	cs "github.com/cookiesession/cookiesession"
	"github.com/gorilla/securecookie"
	"github.com/vmihailenco/msgpack/v5"
)

// The naive peer: what anyone would build from gorilla/securecookie and
// msgpack. So that the comparison does not flatter the library, it carries
// the same information as the library's payload (FORMAT.md §3), encoded the
// same way (msgpack with compact integers), so its payload has the same
// length to the byte (TestNaivePayload), and it checks the same deadline.

// naiveEnvelope holds the library's envelope fields, in its order, encoded
// as a msgpack array: version, session ID, creation time, seal time, expiry
// policy, its argument, deadline, the data, per-key deadlines and flash
// messages.
type naiveEnvelope struct {
	_msgpack struct{} `msgpack:",as_array"`
	Version  int64
	ID       []byte
	Created  int64
	Sealed   int64
	Mode     int64
	ExpArg   int64
	Deadline int64
	Data     map[string]any
	TTLs     map[string]int64
	Flashes  []any
}

// msgpackSerializer is the securecookie.Serializer anyone would write to
// put msgpack in a securecookie, with compact integers as the library
// writes them.
type msgpackSerializer struct{}

func (msgpackSerializer) Serialize(src any) ([]byte, error) {
	var buf bytes.Buffer
	enc := msgpack.GetEncoder()
	defer msgpack.PutEncoder(enc)
	enc.Reset(&buf)
	enc.UseCompactInts(true)
	if err := enc.Encode(src); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

func (msgpackSerializer) Deserialize(src []byte, dst any) error {
	return msgpack.Unmarshal(src, dst)
}

func newNaive(pairs ...[]byte) []securecookie.Codec {
	codecs := securecookie.CodecsFromPairs(pairs...)
	for _, c := range codecs {
		c.(*securecookie.SecureCookie).SetSerializer(msgpackSerializer{})
	}
	return codecs
}

// naiveVersion is the library's payload version (FORMAT.md §3), which the
// naive envelope carries and checks as the library does.
const naiveVersion = 2

var (
	errNaiveVersion = errors.New("naive: unknown payload version")
	errNaiveExpired = errors.New("naive: session expired")
)

// naiveOpen opens cookie and checks its deadline, as the library's Decode
// does.
func naiveOpen(codecs []securecookie.Codec, cookie string) (*naiveEnvelope, error) {
	env := new(naiveEnvelope)
	if err := securecookie.DecodeMulti(CookieName, cookie, env, codecs...); err != nil {
		return nil, err
	}
	if env.Version != naiveVersion {
		return nil, errNaiveVersion
	}
	if time.Now().Unix() >= env.Deadline {
		return nil, errNaiveExpired
	}
	return env, nil
}

// naiveMaxAge is the idle window, in seconds, of a session with the
// library's default expiry policy.
const naiveMaxAge = int64(cs.DefaultMaxAge / time.Second)

// naiveSeal seals env with a fresh seal time and a deadline that slides by
// the idle window, as the library's Encode does for its default policy.
func naiveSeal(codecs []securecookie.Codec, env *naiveEnvelope) (string, error) {
	now := time.Now().Unix()
	env.Sealed = now
	env.Deadline = now + naiveMaxAge
	return securecookie.EncodeMulti(CookieName, env, codecs...)
}
