module github.com/cookiesession/cookiesession

go 1.24

require (
	github.com/gorilla/securecookie v1.1.2
	github.com/vmihailenco/msgpack/v5 v5.4.1
)

require github.com/vmihailenco/tagparser/v2 v2.0.0 // indirect
