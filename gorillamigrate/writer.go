package gorillamigrate

import "net/http"

// legacyWriter adds the legacy cookie's deletion just before the response's
// headers go out, as cookiesession's middleware adds the new cookie, and
// only for a status below 500, when the new cookie is saved too.
type legacyWriter struct {
	http.ResponseWriter
	deletion string
	done     bool
}

// commit adds the deletion, once, for a response with status.
func (w *legacyWriter) commit(status int) {
	if w.done {
		return
	}
	w.done = true
	if status < 500 {
		w.Header().Add("Set-Cookie", w.deletion)
	}
}

func (w *legacyWriter) WriteHeader(status int) {
	if status >= 200 { // 1xx responses are informational: the real one follows
		w.commit(status)
	}
	w.ResponseWriter.WriteHeader(status)
}

func (w *legacyWriter) Write(p []byte) (int, error) {
	w.commit(http.StatusOK)
	return w.ResponseWriter.Write(p)
}

// Flush sends the headers, so it commits first.
func (w *legacyWriter) Flush() {
	w.commit(http.StatusOK)
	_ = http.NewResponseController(w.ResponseWriter).Flush() // http.Flusher has no error to report
}

// Unwrap lets http.ResponseController reach the writers below, for
// deadlines and Hijack. A hijacked connection gets no deletion: the legacy
// cookie then stays until a later response deletes it.
func (w *legacyWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
