package cookiesession_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"time"

	"github.com/cookiesession/cookiesession"
)

// A one-time code and an attempt limit that hold when the client replays an
// older copy of its cookie.
func ExampleTakeOnce() {
	key, err := cookiesession.GenerateKey("2026a")
	if err != nil {
		log.Fatal(err)
	}
	keys, err := cookiesession.NewKeyring(key)
	if err != nil {
		log.Fatal(err)
	}
	codec, err := cookiesession.NewCodec(cookiesession.Config{
		Keys:  keys,
		Guard: cookiesession.NewMemoryGuard(cookiesession.MemoryGuardConfig{}),
	})
	if err != nil {
		log.Fatal(err)
	}
	ctx := context.Background()

	// "Send code": the code is a one-time value.
	s := codec.New()
	s.SetOnce("sms_code", "493817", 5*time.Minute)
	saved, err := codec.Encode(s) // the cookie the client keeps a copy of
	if err != nil {
		log.Fatal(err)
	}

	// Each try is counted in the Guard, then the code is taken once.
	for try := 1; try <= 2; try++ {
		s, err := codec.Decode(saved) // the same saved cookie both times
		if err != nil {
			log.Fatal(err)
		}
		if err := codec.Attempt(ctx, s, "sms", 5, 5*time.Minute); err != nil {
			log.Fatal(err)
		}
		code, err := cookiesession.TakeOnce[string](ctx, s, "sms_code")
		fmt.Println(try, code, err, errors.Is(err, cookiesession.ErrAlreadyUsed))
	}
	// Output:
	// 1 493817 <nil> false
	// 2  cookiesession: one-time value already used: "sms_code" true
}
