module github.com/cookiesession/cookiesession/benchmarks

go 1.24

require (
	github.com/alexedwards/scs/v2 v2.9.0
	github.com/cookiesession/cookiesession v0.0.0
	github.com/gorilla/securecookie v1.1.2
	github.com/gorilla/sessions v1.4.0
	github.com/vmihailenco/msgpack/v5 v5.4.1
)

require github.com/vmihailenco/tagparser/v2 v2.0.0 // indirect

replace github.com/cookiesession/cookiesession => ../
