package cookiesession

import (
	"context"
	"net/http"
)

// contextKey finds the innermost session of any Codec (FromContext);
// codecKey finds the session of one Codec (Codec.FromContext).
type (
	contextKey struct{}
	codecKey   struct{ c *Codec }
)

// sessionContext carries a session under both keys in one allocation,
// where two context.WithValue calls would take two.
type sessionContext struct {
	context.Context
	s *Session
}

func (ctx *sessionContext) Value(key any) any {
	switch k := key.(type) {
	case contextKey:
		return ctx.s
	case codecKey:
		if k.c == ctx.s.c {
			return ctx.s
		}
	}
	return ctx.Context.Value(key)
}

// FromContext returns the session of the request whose context is ctx.
//
// The session is opened from the request's cookie the first time one of its
// methods is called, so a handler that never touches it costs nothing.
//
// FromContext panics if ctx does not come from a request that went through
// Codec.Middleware (or Codec.NewContext): that is a wiring mistake, and a
// session that silently dropped every change would hide it. With several
// Codec.Middleware in one chain, FromContext returns the innermost one's
// session; use Codec.FromContext to pick one.
func FromContext(ctx context.Context) *Session {
	s, ok := ctx.Value(contextKey{}).(*Session)
	if !ok {
		panic("cookiesession: FromContext: no session in this context; wrap the handler with Codec.Middleware")
	}
	return s
}

// FromContext returns the session that c's Middleware (or c.NewContext)
// put into ctx, however many other codecs' sessions the chain added inside
// it. Like the package-level FromContext, it panics if there is none: the
// handler is not wrapped by c.Middleware.
func (c *Codec) FromContext(ctx context.Context) *Session {
	s, ok := ctx.Value(codecKey{c}).(*Session)
	if !ok {
		panic("cookiesession: Codec.FromContext: no session of this codec in this context; wrap the handler with its Middleware")
	}
	return s
}

// Session returns c's session of the request r: c.FromContext(r.Context()).
func (c *Codec) Session(r *http.Request) *Session {
	return c.FromContext(r.Context())
}

// NewContext returns a copy of ctx that carries s, for FromContext and
// c.FromContext to find. The middleware does this for every request;
// handler tests call it to run a handler without the middleware:
//
//	s := codec.New()
//	s.Set("user", "ada")
//	req = req.WithContext(codec.NewContext(req.Context(), s))
//
// s must come from c (Codec.New, Codec.Decode, Codec.Load); NewContext
// panics otherwise, since c.FromContext could not find it.
func (c *Codec) NewContext(ctx context.Context, s *Session) context.Context {
	if s == nil || s.c != c {
		panic("cookiesession: Codec.NewContext: the session does not belong to this codec")
	}
	return &sessionContext{Context: ctx, s: s}
}
