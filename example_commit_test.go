package cookiesession_test

import (
	"context"
	"fmt"
	"log"
	"net/http"
	"strings"

	"github.com/cookiesession/cookiesession"
)

// An AWS Lambda function behind an HTTP API (payload format 2.0): the event
// carries the request's cookies as "name=value" strings and the response
// takes Set-Cookie values. These two structs mirror the fields of
// aws-lambda-go's events.APIGatewayV2HTTPRequest and ...Response that
// matter here; with that package, use its types instead.
type lambdaRequest struct {
	RawPath string
	Cookies []string
}

type lambdaResponse struct {
	StatusCode int
	Headers    map[string]string
	Cookies    []string
	Body       string
}

// Example_lambda shows the commit API in a serverless handler: Load opens
// the session lazily, Commit applies exactly the middleware's policy
// (reseal when changed, rotated or due to slide; delete when emptied; a 5xx
// saves nothing) and returns the header lines to send.
func Example_lambda() {
	codec := newExampleCodec()
	handle := func(ctx context.Context, req lambdaRequest) (lambdaResponse, error) {
		s := codec.Load(ctx, strings.Join(req.Cookies, "; "))
		resp := lambdaResponse{StatusCode: http.StatusOK, Headers: map[string]string{}}
		visits := cookiesession.GetOr(s, "visits", int64(0)) + 1
		s.Set("visits", visits)
		resp.Body = fmt.Sprintf("visit %d", visits)

		ch, err := codec.Commit(s, resp.StatusCode)
		if err != nil {
			return lambdaResponse{StatusCode: http.StatusInternalServerError}, err
		}
		resp.Cookies = ch.SetCookie
		if ch.Vary {
			resp.Headers["Vary"] = "Cookie"
		}
		if ch.NoStore {
			resp.Headers["Cache-Control"] = "no-store"
		}
		return resp, nil
	}

	// Two invocations, the second with the cookie the first set.
	var jar []string
	for range 2 {
		resp, err := handle(context.Background(), lambdaRequest{RawPath: "/", Cookies: jar})
		if err != nil {
			log.Fatal(err)
		}
		jar = nil
		for _, line := range resp.Cookies {
			ck, err := http.ParseSetCookie(line)
			if err != nil {
				log.Fatal(err)
			}
			jar = append(jar, ck.Name+"="+ck.Value)
		}
		fmt.Println(resp.StatusCode, resp.Body, len(resp.Cookies), "cookie,", resp.Headers["Cache-Control"])
	}
	// Output:
	// 200 visit 1 1 cookie, no-store
	// 200 visit 2 1 cookie, no-store
}

// A plain function from request to response, the shape of many serverless
// runtimes and RPC frameworks: headers in a map, nothing from net/http
// but the header type. CommitHeaders.Apply adds Set-Cookie, Vary and
// Cache-Control to any http.Header.
func Example_plainFunction() {
	codec := newExampleCodec()
	type request struct{ Header http.Header }
	type response struct {
		Status int
		Header http.Header
	}
	logout := func(req request) response {
		s := codec.Load(context.Background(), req.Header["Cookie"]...)
		s.Flush()
		resp := response{Status: http.StatusSeeOther, Header: http.Header{"Location": {"/"}}}
		ch, err := codec.Commit(s, resp.Status)
		if err != nil {
			return response{Status: http.StatusInternalServerError}
		}
		ch.Apply(resp.Header)
		return resp
	}

	// A logged-in visitor's cookie.
	s := codec.New()
	s.Set("user", "ada")
	value, err := codec.Encode(s)
	if err != nil {
		log.Fatal(err)
	}
	resp := logout(request{Header: http.Header{"Cookie": {codec.Name() + "=" + value}}})
	ck, err := http.ParseSetCookie(resp.Header.Get("Set-Cookie"))
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(resp.Status, ck.Name, "deleted:", ck.MaxAge < 0, "| Vary:", resp.Header.Get("Vary"))
	// Output:
	// 303 session deleted: true | Vary: Cookie
}

// newExampleCodec returns a codec with a fresh key, for the examples.
func newExampleCodec() *cookiesession.Codec {
	key, err := cookiesession.GenerateKey("k1")
	if err != nil {
		log.Fatal(err)
	}
	keys, err := cookiesession.NewKeyring(key)
	if err != nil {
		log.Fatal(err)
	}
	codec, err := cookiesession.NewCodec(cookiesession.Config{Keys: keys})
	if err != nil {
		log.Fatal(err)
	}
	return codec
}
