// Command cookiesession generates keys for, seals, opens and demonstrates
// github.com/cookiesession/cookiesession sessions.
//
//	cookiesession keygen [-id ID]
//	cookiesession seal   [-name NAME] [-keys KEYS] [-ttl DURATION] [-max-age DURATION] < data.json
//	cookiesession open   [-name NAME] [-keys KEYS] [-max-age DURATION] [-max-cookies N]
//	                     [-allow-expired] [-types] [-cookie HEADER | INPUT]
//	cookiesession demo   [-addr 127.0.0.1:8080] [-redis ADDR]
//	cookiesession help   [SUBCOMMAND]
//
// Exit status: 0 on success, 1 when a cookie does not open (tampered,
// expired, unknown key, too large) or the input cannot be sealed, 2 on bad
// usage (unknown subcommand, bad flag, missing value or keys).
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
)

// Exit statuses.
const (
	exitOK      = 0
	exitFailure = 1
	exitUsage   = 2
)

// keysEnv is the environment variable seal and open read keys from.
const keysEnv = "COOKIESESSION_KEYS"

const usageText = `cookiesession: keys, cookies and a demo for github.com/cookiesession/cookiesession

Usage:
  cookiesession keygen [-id ID]
  cookiesession seal   [-name NAME] [-keys KEYS] [-ttl DURATION] [-max-age DURATION] < data.json
  cookiesession open   [-name NAME] [-keys KEYS] [-max-age DURATION] [-max-cookies N]
                       [-allow-expired] [-types] [-cookie HEADER | INPUT]
  cookiesession demo   [-addr 127.0.0.1:8080] [-redis ADDR]
  cookiesession help   [SUBCOMMAND]

Subcommands:
  keygen  print a new key ("id:secret") in the form ParseKeys reads.
  seal    read a JSON object on stdin and print the sealed cookie value.
  open    open a cookie value or a whole Cookie header (chunked sessions
          too) and print its session as JSON.
  demo    run a small web app (SMS login, session inspector) on
          127.0.0.1 over plain HTTP with a throwaway key. Spent codes,
          attempt counts and revoked sessions are kept in memory, or with
          -redis in that Redis (it must answer at start-up).
  help    print this text, or a subcommand's: "cookiesession help open"
          or "cookiesession open -h".

Keys come from -keys or, better (command lines are visible to other
users), the environment variable COOKIESESSION_KEYS. seal and open refuse
to run without them. -name is the cookie name (default "__Host-session", the library's
default for a Secure cookie; give "session" for an Insecure one); a value
sealed under one name does not open under another. -max-age is the
codec's Config.MaxAge (default 14 days); give open the application's.

Exit status: 0 ok; 1 the cookie does not open (tampered, expired, unknown
key, too large) or stdin cannot be sealed; 2 bad usage or no keys.

Examples:
  export COOKIESESSION_KEYS=$(cookiesession keygen)
  echo '{"user":"+15551234567","n":3}' | cookiesession seal -ttl 1h
  cookiesession seal < data.json | cookiesession open
  cookiesession open -max-cookies 4 -cookie "$(pbpaste)"
  cookiesession demo -addr 127.0.0.1:8080
`

const keygenUsage = `Usage:
  cookiesession keygen [-id ID]

Print a new key ("id:secret") in the form ParseKeys reads. Prepend it to
the old keys, comma separated, to rotate: the first key seals, the others
still open.

Flags:
  -id ID  key ID, 1 to 16 characters of [A-Za-z0-9_-]; default today's
          date (2006-01-02)

Examples:
  export COOKIESESSION_KEYS=$(cookiesession keygen)
  COOKIESESSION_KEYS="$(cookiesession keygen -id k2),$COOKIESESSION_KEYS"
`

const sealUsage = `Usage:
  cookiesession seal [-name NAME] [-keys KEYS] [-ttl DURATION] [-max-age DURATION] < data.json

Read a JSON object on stdin and print the sealed cookie value. Integers
become int64, other numbers float64, objects map[string]any, arrays []any.

Flags:
  -name NAME          cookie name (default "__Host-session"); a value sealed
                      under one name does not open under another
  -keys KEYS          keys as keygen prints them, comma separated, the
                      sealing key first (default $COOKIESESSION_KEYS)
  -ttl DURATION       SetExpiry: "2h" idles out after two hours, "0" lasts
                      until the browser closes; default Config.MaxAge
  -max-age DURATION   the codec's Config.MaxAge (default 336h, 14 days)

Examples:
  echo '{"user":"+15551234567","n":3}' | cookiesession seal -ttl 1h
  cookiesession seal < data.json | cookiesession open
`

const openUsage = `Usage:
  cookiesession open [flags] [INPUT]
  cookiesession open [flags] -cookie HEADER

Open a session cookie and print its session as JSON: data ([]byte as
base64, times as RFC 3339), ID, key ID, creation and seal times, expiry
policy and deadline, per-key deadlines, "expired", "format_version" (1 for
a legacy wire format v1 cookie, which the middleware reseals as version 2
on its next response), and the flash messages: "flashes" for the default
category, "flash_categories" for named ones.

INPUT, the argument or else stdin, is a bare cookie value, NAME=VALUE, or a
whole Cookie header as a browser sends it ("Cookie: " optional); -cookie
takes only a header. A header's other cookies are ignored. A session split over NAME, NAME.1, ... (the
application's Config.MaxCookies > 1) opens only from a header holding all its
cookies, with -max-cookies set to the application's value. Flags go before
the input.

Flags:
  -name NAME          cookie name (default "__Host-session")
  -keys KEYS          keys as keygen prints them, comma separated
                      (default $COOKIESESSION_KEYS)
  -max-age DURATION   the codec's Config.MaxAge (default 336h, 14 days)
  -max-cookies N      the codec's Config.MaxCookies, 1 to 16 (default 1)
  -cookie HEADER      the Cookie header to read the session from
  -allow-expired      print a genuine but expired session too, with
                      "expired": true; the exit status is still 1. Tampered,
                      malformed and unknown-key cookies are still refused
  -types              add "types": each value's msgpack type, as the
                      cookie stores it (e.g. "fixstr", "int 64",
                      "timestamp (ext 8)"), and "flash_types": each flash
                      message's, by category ("" is the default one)

Examples:
  cookiesession open "session=$VALUE"
  cookiesession open -max-cookies 4 -cookie 'theme=dark; session=2:k1.MTc...; session.1=...'
  cookiesession open -allow-expired -types < value.txt
`

const demoUsage = `Usage:
  cookiesession demo [-addr 127.0.0.1:8080] [-redis ADDR]

Run a small web app (SMS login, session inspector) over plain HTTP with a
throwaway key: a restart logs everyone out. Spent codes, attempt counts and
revoked sessions (the guard) are kept in this process's memory, or with
-redis in that Redis, which must answer at start-up.

Flags:
  -addr ADDR   address to listen on (default 127.0.0.1:8080)
  -redis ADDR  keep the guard in the Redis at ADDR (host:port)

Examples:
  cookiesession demo -addr 127.0.0.1:8080
  cookiesession demo -redis 127.0.0.1:6379
`

// subcommand is one of the command's subcommands.
type subcommand struct {
	run   func(args []string, e env) error
	usage string
}

// lookup returns the subcommand called name.
func lookup(name string) (subcommand, bool) {
	switch name {
	case "keygen":
		return subcommand{keygen, keygenUsage}, true
	case "seal":
		return subcommand{seal, sealUsage}, true
	case "open":
		return subcommand{open, openUsage}, true
	case "demo":
		return subcommand{demo, demoUsage}, true
	}
	return subcommand{}, false
}

// usageError is bad usage: exit status 2, with the usage on stderr.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error {
	return &usageError{msg: fmt.Sprintf(format, args...)}
}

// errHelp asks for the usage on stdout and exit status 0.
var errHelp = errors.New("help requested")

// env is what a command reads from outside its arguments.
type env struct {
	stdin  io.Reader
	stdout io.Writer
	stderr io.Writer
	getenv func(string) string
}

func main() {
	os.Exit(run(os.Args[1:], env{stdin: os.Stdin, stdout: os.Stdout, stderr: os.Stderr, getenv: os.Getenv}))
}

// run executes the command line args and returns the exit status.
func run(args []string, e env) int {
	if len(args) == 0 {
		fmt.Fprint(e.stderr, "cookiesession: no subcommand\n\n", usageText)
		return exitUsage
	}
	cmd, rest := args[0], args[1:]
	switch cmd {
	case "help", "-h", "-help", "--help":
		return help(rest, e)
	}
	sub, ok := lookup(cmd)
	if !ok {
		fmt.Fprintf(e.stderr, "cookiesession: unknown subcommand %q\n\n%s", cmd, usageText)
		return exitUsage
	}
	err := sub.run(rest, e)
	var ue *usageError
	switch {
	case err == nil:
		return exitOK
	case errors.Is(err, errHelp):
		fmt.Fprint(e.stdout, sub.usage)
		return exitOK
	case errors.As(err, &ue):
		fmt.Fprintf(e.stderr, "%s\n\n%s", oneLine(err), sub.usage)
		return exitUsage
	default:
		fmt.Fprintln(e.stderr, oneLine(err))
		return exitFailure
	}
}

// help prints the usage, or with one argument that subcommand's.
func help(args []string, e env) int {
	switch len(args) {
	case 0:
		fmt.Fprint(e.stdout, usageText)
		return exitOK
	case 1:
		if sub, ok := lookup(args[0]); ok {
			fmt.Fprint(e.stdout, sub.usage)
			return exitOK
		}
		fmt.Fprintf(e.stderr, "cookiesession: help: unknown subcommand %q\n\n%s", args[0], usageText)
	default:
		fmt.Fprintf(e.stderr, "cookiesession: help: want at most one subcommand, got %d arguments\n\n%s", len(args), usageText)
	}
	return exitUsage
}

// oneLine returns err's message on one line, starting "cookiesession: ".
func oneLine(err error) string {
	msg := strings.Join(strings.Fields(err.Error()), " ")
	if !strings.HasPrefix(msg, "cookiesession: ") {
		msg = "cookiesession: " + msg
	}
	return msg
}

// parseFlags parses args with fs, turning flag errors into usage errors and
// -h into errHelp. It returns the positional arguments.
func parseFlags(fs *flag.FlagSet, args []string) ([]string, error) {
	fs.SetOutput(io.Discard) // run prints the one usage text
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil, errHelp
		}
		return nil, usagef("%s: %v", fs.Name(), err)
	}
	return fs.Args(), nil
}
