package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/cookiesession/cookiesession"
)

// maxInput bounds what seal and open read from stdin.
const maxInput = 1 << 20

// keygen prints one key in the text form ParseKeys reads.
func keygen(args []string, e env) error {
	fs := flag.NewFlagSet("keygen", flag.ContinueOnError)
	id := fs.String("id", time.Now().Format("2006-01-02"), "key ID: 1 to 16 characters of [A-Za-z0-9_-]")
	rest, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(rest) > 0 {
		return usagef("keygen: unexpected argument %q", rest[0])
	}
	k, err := cookiesession.GenerateKey(*id)
	if err != nil {
		return usagef("keygen: %s", bare(err))
	}
	_, err = fmt.Fprintln(e.stdout, cookiesession.FormatKeys(k))
	return err
}

// ttlFlag is -ttl: a duration that remembers whether it was given.
type ttlFlag struct {
	d   time.Duration
	set bool
}

func (f *ttlFlag) String() string {
	if !f.set {
		return "default"
	}
	return f.d.String()
}

func (f *ttlFlag) Set(s string) error {
	d, err := time.ParseDuration(s)
	if err != nil {
		return errors.New("want a duration such as 30m, 2h or 0 (browser close)")
	}
	if d < 0 {
		return errors.New("must not be negative")
	}
	f.d, f.set = d, true
	return nil
}

// codecFlags are the flags seal and open share.
type codecFlags struct {
	name       string
	keys       string
	maxAge     time.Duration
	maxCookies int // open only; 0 is the library's default
}

func (cf *codecFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&cf.name, "name", cookiesession.DefaultHostName, "cookie name")
	fs.StringVar(&cf.keys, "keys", "", "keys as written by keygen (default $"+keysEnv+")")
	fs.DurationVar(&cf.maxAge, "max-age", cookiesession.DefaultMaxAge, "the codec's Config.MaxAge")
}

// codec returns the Codec the flags describe, with its clock fixed at now.
// Missing or malformed keys are a usage error: seal and open never invent
// a key.
func (cf *codecFlags) codec(e env, now time.Time) (*cookiesession.Codec, error) {
	text := cf.keys
	if text == "" {
		text = e.getenv(keysEnv)
	}
	if strings.TrimSpace(text) == "" {
		return nil, usagef("no keys: set %s or pass -keys (make one with: cookiesession keygen)", keysEnv)
	}
	keys, err := cookiesession.ParseKeys(text)
	if err != nil {
		return nil, usagef("bad keys: %s", bare(err))
	}
	c, err := cookiesession.NewCodec(cookiesession.Config{
		Name:       cf.name,
		Keys:       keys,
		MaxAge:     cf.maxAge,
		MaxCookies: cf.maxCookies,
		Now:        func() time.Time { return now },
	})
	if err != nil {
		return nil, usagef("%s", bare(err))
	}
	return c, nil
}

// bare returns err's message without the library's "cookiesession: "
// prefix, to be wrapped in another message.
func bare(err error) string {
	return strings.TrimPrefix(err.Error(), "cookiesession: ")
}

// seal reads a JSON object on stdin and prints the sealed cookie value.
func seal(args []string, e env) error {
	fs := flag.NewFlagSet("seal", flag.ContinueOnError)
	var cf codecFlags
	cf.register(fs)
	var ttl ttlFlag
	fs.Var(&ttl, "ttl", "session expiry (SetExpiry); 0 = browser close")
	rest, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(rest) > 0 {
		return usagef("seal: unexpected argument %q (the data goes on stdin)", rest[0])
	}
	codec, err := cf.codec(e, time.Now())
	if err != nil {
		return err
	}
	data, err := readJSONObject(e.stdin)
	if err != nil {
		return fmt.Errorf("cookiesession: stdin: %w", err)
	}
	s := codec.New()
	for k, v := range data {
		s.Set(k, fromJSON(v))
	}
	if ttl.set {
		s.SetExpiry(ttl.d)
	}
	value, err := codec.Encode(s)
	switch {
	case err != nil:
		return err
	case value == "":
		return errors.New("cookiesession: nothing to seal: an empty session has no cookie")
	}
	_, err = fmt.Fprintln(e.stdout, value)
	return err
}

// readJSONObject reads exactly one JSON object, keeping numbers as
// json.Number.
func readJSONObject(r io.Reader) (map[string]any, error) {
	dec := json.NewDecoder(io.LimitReader(r, maxInput))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, errors.New("no JSON object")
		}
		return nil, err
	}
	m, ok := v.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("want a JSON object, got %s", jsonKind(v))
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, errors.New("data after the JSON object")
	}
	return m, nil
}

func jsonKind(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case bool:
		return "a boolean"
	case json.Number:
		return "a number"
	case string:
		return "a string"
	case []any:
		return "an array"
	}
	return fmt.Sprintf("%T", v)
}

// fromJSON turns json.Numbers into int64 (integers that fit) or float64,
// recursively.
func fromJSON(v any) any {
	switch v := v.(type) {
	case json.Number:
		if i, err := v.Int64(); err == nil {
			return i
		}
		f, _ := v.Float64() // the decoder checked the syntax; out of range is ±Inf
		return f
	case map[string]any:
		for k, x := range v {
			v[k] = fromJSON(x)
		}
	case []any:
		for i, x := range v {
			v[i] = fromJSON(x)
		}
	}
	return v
}

// openOutput is what open prints.
type openOutput struct {
	Data         map[string]any    `json:"data"`
	Types        map[string]string `json:"types,omitempty"`
	ID           string            `json:"id"`
	KeyID        string            `json:"key_id"`
	Created      string            `json:"created"`
	Sealed       string            `json:"sealed,omitempty"`
	Expired      bool              `json:"expired"`
	Expiry       expiryOutput      `json:"expiry"`
	KeyDeadlines map[string]string `json:"key_deadlines"`
	// FormatVersion is Session.FormatVersion: 1 for a legacy cookie that
	// the middleware reseals as version 2 on its next response.
	FormatVersion int `json:"format_version"`
	// Flashes are the default category's flash messages;
	// FlashCategories the named categories'.
	Flashes         []any            `json:"flashes,omitempty"`
	FlashCategories map[string][]any `json:"flash_categories,omitempty"`
	// FlashTypes (with -types) are the flash messages' msgpack types, by
	// category: "" is the default one.
	FlashTypes map[string][]string `json:"flash_types,omitempty"`
}

type expiryOutput struct {
	// Policy is Session.ExpiryPolicy: "default", "browser-close",
	// "idle <duration>" or "at <RFC 3339 UTC>".
	Policy                string `json:"policy"`
	ExpiresAtBrowserClose bool   `json:"expires_at_browser_close"`
	// ExpiryAge and ExpiryDate are the library's: what the session would
	// get if it were sealed again now.
	ExpiryAge        string `json:"expiry_age"`
	ExpiryAgeSeconds int64  `json:"expiry_age_seconds"`
	ExpiryDate       string `json:"expiry_date"`
	// Deadline is Session.Deadline: when this cookie, as sealed, stops
	// opening under the codec's limits (-max-age).
	Deadline string `json:"deadline,omitempty"`
}

// open opens a session cookie, or the session in a Cookie header, and
// prints it as JSON.
func open(args []string, e env) error {
	fs := flag.NewFlagSet("open", flag.ContinueOnError)
	var cf codecFlags
	cf.register(fs)
	fs.IntVar(&cf.maxCookies, "max-cookies", 1, "the codec's Config.MaxCookies")
	header := fs.String("cookie", "", "the Cookie header to read the session from")
	allowExpired := fs.Bool("allow-expired", false, "print a genuine but expired session too")
	types := fs.Bool("types", false, "print each value's msgpack type")
	rest, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	codec, err := cf.codec(e, time.Now()) // before stdin: no keys, no waiting on a terminal
	if err != nil {
		return err
	}
	cookies, err := openInput(codec.Name(), *header, rest, e)
	if err != nil {
		return err
	}
	decode := codec.DecodeCookies
	if *allowExpired {
		decode = codec.DecodeCookiesExpired
	}
	s, err := decode(cookies)
	if s == nil {
		return err
	}
	// err is nil, or (with -allow-expired) the session is genuine but
	// expired: print it, then fail with the reason.
	out := openOutput{
		Data:          sessionData(s),
		ID:            s.ID(),
		KeyID:         s.KeyID(),
		Created:       s.CreatedAt().UTC().Format(time.RFC3339),
		Expired:       err != nil,
		KeyDeadlines:  keyDeadlines(s),
		FormatVersion: s.FormatVersion(),
	}
	flashes, flashTypes := sessionFlashes(codec, s)
	out.Flashes = flashes[""]
	delete(flashes, "")
	if len(flashes) > 0 {
		out.FlashCategories = flashes
	}
	if *types {
		out.Types = sessionTypes(s)
		out.FlashTypes = flashTypes
	}
	age := s.ExpiryAge()
	out.Expiry = expiryOutput{
		Policy:                s.ExpiryPolicy(),
		ExpiresAtBrowserClose: s.ExpiresAtBrowserClose(),
		ExpiryAge:             age.String(),
		ExpiryAgeSeconds:      int64(age / time.Second),
		ExpiryDate:            s.ExpiryDate().UTC().Format(time.RFC3339),
	}
	// A session from a cookie has both; the checks keep the fields out
	// rather than print year 1.
	if t := s.SealedAt(); !t.IsZero() {
		out.Sealed = t.UTC().Format(time.RFC3339)
	}
	if t := s.Deadline(); !t.IsZero() {
		out.Expiry.Deadline = t.UTC().Format(time.RFC3339)
	}
	enc := json.NewEncoder(e.stdout)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if werr := enc.Encode(out); werr != nil {
		return werr
	}
	return err
}

// openInput returns the cookies open reads the session from: the -cookie
// header, or else the one argument or stdin, which is a Cookie header if it
// holds a cookie named name (or one of its chunks) and a bare value
// otherwise.
func openInput(name, header string, rest []string, e env) ([]*http.Cookie, error) {
	text := header
	switch {
	case header != "" && len(rest) > 0:
		return nil, usagef("open: -cookie and an argument both given; pass one")
	case header != "":
	case len(rest) == 1:
		text = rest[0]
	case len(rest) > 1:
		return nil, usagef("open: want one cookie value or header, got %d arguments (flags go before the value)", len(rest))
	default:
		b, err := io.ReadAll(io.LimitReader(e.stdin, maxInput))
		if err != nil {
			return nil, fmt.Errorf("cookiesession: reading stdin: %w", err)
		}
		text = string(b)
	}
	text = strings.TrimSpace(text)
	if len(text) >= len("cookie:") && strings.EqualFold(text[:len("cookie:")], "cookie:") {
		text = strings.TrimSpace(text[len("cookie:"):])
	}
	if text == "" {
		return nil, usagef("open: no cookie value (give it as the argument, with -cookie or on stdin)")
	}
	cookies := parseCookieHeader(text)
	for _, ck := range cookies {
		if isSessionCookie(name, ck.Name) {
			return cookies, nil
		}
	}
	if header != "" {
		return nil, usagef("open: the -cookie header holds no cookie named %q", name)
	}
	return []*http.Cookie{{Name: name, Value: text}}, nil
}

// parseCookieHeader parses a Cookie header as a server does, leaving out
// malformed pairs.
func parseCookieHeader(line string) []*http.Cookie {
	r := http.Request{Header: http.Header{"Cookie": {line}}}
	return r.Cookies()
}

// isSessionCookie reports whether cookie is the session's: name, or a chunk
// name.N.
func isSessionCookie(name, cookie string) bool {
	rest, ok := strings.CutPrefix(cookie, name)
	if !ok || rest == "" {
		return ok
	}
	digits, ok := strings.CutPrefix(rest, ".")
	i, err := strconv.Atoi(digits)
	return ok && err == nil && i > 0 && strconv.Itoa(i) == digits
}

// keyDeadlines returns KeyExpiry, as RFC 3339 UTC, of every key that has
// one.
func keyDeadlines(s *cookiesession.Session) map[string]string {
	m := map[string]string{}
	for _, k := range s.Keys() {
		if t, ok := s.KeyExpiry(k); ok {
			m[k] = t.UTC().Format(time.RFC3339)
		}
	}
	return m
}

// sessionData returns the session's values in a form encoding/json
// prints.
func sessionData(s *cookiesession.Session) map[string]any {
	m := map[string]any{}
	for _, k := range s.Keys() {
		if v, ok := s.Get(k); ok {
			m[k] = jsonable(v)
		}
	}
	return m
}
