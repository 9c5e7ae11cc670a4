module github.com/cookiesession/cookiesession/gorillamigrate

go 1.24

require (
	github.com/cookiesession/cookiesession v0.0.0
	github.com/gorilla/sessions v1.4.0
	github.com/vmihailenco/msgpack/v5 v5.4.1
)

require (
	github.com/gorilla/securecookie v1.1.2 // indirect
	github.com/vmihailenco/tagparser/v2 v2.0.0 // indirect
)

replace github.com/cookiesession/cookiesession => ../
