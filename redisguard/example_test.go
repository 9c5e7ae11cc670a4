package redisguard_test

import (
	"log"
	"os"

	"github.com/cookiesession/cookiesession"
	"github.com/cookiesession/cookiesession/redisguard"
	"github.com/redis/go-redis/v9"
)

// A codec whose one-time values, attempt limits and revocations live in
// Redis, shared by every server that uses the same Redis and keys.
func Example() {
	client := redis.NewClient(&redis.Options{
		Addr: "127.0.0.1:6379",
		// Required: without it go-redis ignores the request's deadline
		// while Redis does not answer.
		ContextTimeoutEnabled: true,
	})
	defer client.Close()
	guard, err := redisguard.New(client)
	if err != nil {
		log.Fatal(err)
	}
	keys, err := cookiesession.ParseKeys(os.Getenv("COOKIESESSION_KEYS"))
	if err != nil {
		log.Fatal(err)
	}
	codec, err := cookiesession.NewCodec(cookiesession.Config{Keys: keys, Guard: guard})
	if err != nil {
		log.Fatal(err)
	}
	_ = codec // codec.Middleware(handler), codec.Attempt(...), cookiesession.TakeOnce(...)
}
