// Command cookiesession generates keys for, seals, opens and demonstrates
// github.com/cookiesession/cookiesession sessions.
//
//	cookiesession keygen [-id ID]
//	cookiesession seal   [-name NAME] [-keys KEYS] [-ttl DURATION] < data.json
//	cookiesession open   [-name NAME] [-keys KEYS] [VALUE]
//	cookiesession demo   [-addr 127.0.0.1:8080] [-redis HOST:PORT]
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
  cookiesession open   [-name NAME] [-keys KEYS] [-max-age DURATION] [VALUE]
  cookiesession demo   [-addr 127.0.0.1:8080] [-redis HOST:PORT]
  cookiesession help

Subcommands:
  keygen  print a new key ("id:secret") in the form ParseKeys reads; the
          default ID is today's date. Prepend it to the old keys, comma
          separated, to rotate: the first key seals, the others still open.
  seal    read a JSON object on stdin and print the sealed cookie value.
          Integers become int64, other numbers float64, objects
          map[string]any, arrays []any. -ttl sets SetExpiry: "2h" idles out
          after two hours, "0" lasts until the browser closes; without it
          the library default applies (Config.MaxAge, 14 days).
  open    open a cookie value (the argument, or stdin) and print its
          session as JSON: data ([]byte as base64, times as RFC 3339), ID,
          key ID, creation time, expiry policy and date, per-key deadlines.
          A leading "NAME=" is stripped. Flags go before the value.
  demo    run a small web app (SMS login, session inspector) on
          127.0.0.1 over plain HTTP with a throwaway key. Spent codes,
          attempt counts and revoked sessions are kept in memory, or with
          -redis in that Redis (it must answer at start-up).

Keys come from -keys or, better (command lines are visible to other
users), the environment variable COOKIESESSION_KEYS. seal and open refuse
to run without them. -name is the cookie name (default "session"); a value
sealed under one name does not open under another. -max-age is the
codec's Config.MaxAge (default 14 days); give open the application's.

Exit status: 0 ok; 1 the cookie does not open (tampered, expired, unknown
key, too large) or stdin cannot be sealed; 2 bad usage or no keys.

Examples:
  export COOKIESESSION_KEYS=$(cookiesession keygen)
  echo '{"user":"+15551234567","n":3}' | cookiesession seal -ttl 1h
  cookiesession seal < data.json | cookiesession open
  cookiesession open "session=$VALUE"
  COOKIESESSION_KEYS="$(cookiesession keygen -id k2),$COOKIESESSION_KEYS" cookiesession open "$OLD_VALUE"
  cookiesession demo -addr 127.0.0.1:8080
`

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
	var err error
	switch cmd, rest := args[0], args[1:]; cmd {
	case "help", "-h", "-help", "--help":
		fmt.Fprint(e.stdout, usageText)
		return exitOK
	case "keygen":
		err = keygen(rest, e)
	case "seal":
		err = seal(rest, e)
	case "open":
		err = open(rest, e)
	case "demo":
		err = demo(rest, e)
	default:
		err = usagef("unknown subcommand %q", cmd)
	}
	var ue *usageError
	switch {
	case err == nil:
		return exitOK
	case errors.Is(err, errHelp):
		fmt.Fprint(e.stdout, usageText)
		return exitOK
	case errors.As(err, &ue):
		fmt.Fprintf(e.stderr, "%s\n\n%s", oneLine(err), usageText)
		return exitUsage
	default:
		fmt.Fprintln(e.stderr, oneLine(err))
		return exitFailure
	}
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
