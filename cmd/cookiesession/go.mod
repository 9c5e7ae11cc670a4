module github.com/cookiesession/cookiesession/cmd/cookiesession

go 1.24

require (
	github.com/cookiesession/cookiesession v0.0.0
	github.com/cookiesession/cookiesession/redisguard v0.0.0
	github.com/redis/go-redis/v9 v9.22.0
	github.com/vmihailenco/msgpack/v5 v5.4.1
)

require (
	github.com/cespare/xxhash/v2 v2.3.0 // indirect
	github.com/vmihailenco/tagparser/v2 v2.0.0 // indirect
	go.uber.org/atomic v1.11.0 // indirect
	golang.org/x/sys v0.30.0 // indirect
)

replace (
	github.com/cookiesession/cookiesession => ../..
	github.com/cookiesession/cookiesession/redisguard => ../../redisguard
)
