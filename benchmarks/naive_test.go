package benchmarks

import (
	"reflect"
	"testing"

	"github.com/vmihailenco/msgpack/v5"
)

// TestNaivePayload shows that the naive codec's payload is the library's:
// the naive envelope of a session and the library's have the same length
// to the byte, before and after a round trip, and the library's payload
// decodes into naiveEnvelope with the values the naive codec carries.
func TestNaivePayload(t *testing.T) {
	for _, label := range []string{"SMALL", "LARGE"} {
		f := getFixture(t, label)
		lib, err := f.floor.Decode(f.floorIn)
		if err != nil {
			t.Fatal(err)
		}
		naive, err := msgpackSerializer{}.Serialize(f.naiveEnv)
		if err != nil {
			t.Fatal(err)
		}
		if len(naive) != len(lib) {
			t.Errorf("%s: naive payload %d bytes, lib %d", label, len(naive), len(lib))
		}
		var fromLib naiveEnvelope
		if err := msgpack.Unmarshal(lib, &fromLib); err != nil {
			t.Fatal(err)
		}
		if len(fromLib.Data) != len(f.kv) || !reflect.DeepEqual(fromLib.Data, f.naiveEnv.Data) || !reflect.DeepEqual(fromLib.ID, f.naiveEnv.ID) {
			t.Errorf("%s: the lib's envelope holds %v, the naive one %v", label, fromLib.Data, f.naiveEnv.Data)
		}

		// After a round trip each (the same key set), still the same length.
		v, err := naiveRoundTrip(f, f.naive, f.naiveCookie, true)
		if err != nil {
			t.Fatal(err)
		}
		env, err := naiveOpen(f.naive, v)
		if err != nil {
			t.Fatal(err)
		}
		if _, ok := env.Data[SetKey]; !ok {
			t.Fatalf("%s: naive round trip lost %s", label, SetKey)
		}
		naive, _ = msgpackSerializer{}.Serialize(env)
		if len(naive) != len(f.floorOut) {
			t.Errorf("%s: after a round trip, naive payload %d bytes, lib %d", label, len(naive), len(f.floorOut))
		}
	}
}
