module github.com/cookiesession/cookiesession/adapters/chi

go 1.24

require github.com/cookiesession/cookiesession v0.0.0

require (
	github.com/go-chi/chi/v5 v5.5.0
	github.com/vmihailenco/msgpack/v5 v5.4.1 // indirect
	github.com/vmihailenco/tagparser/v2 v2.0.0 // indirect
)

replace github.com/cookiesession/cookiesession => ../..
