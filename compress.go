package cookiesession

import (
	"bytes"
	"compress/flate"
	"fmt"
	"io"
	"sync"
)

// Opt-in compression (Config.Compress). A compressed payload starts with
// the marker byte 0xc1, which msgpack never uses (so no plain payload starts
// with it). In format v2 the marker is followed by the envelope's head
// (array header, version, session ID, times and expiry: envelopeHeadLen) as
// is, then a raw DEFLATE stream of the rest (data, TTLs, flashes). The
// session ID thus never shares a compression window with values an attacker
// may choose, so the cookie's length says nothing about it. Data values and
// flashes still do share one: see SECURITY.md. In format v1 the DEFLATE
// stream held the whole envelope.
const compressedMarker = 0xc1

// maxPayload bounds the envelope, before compression on Encode and after
// decompression on Decode, so a compressed bomb under a valid seal costs
// little memory.
const maxPayload = 64 << 10

var (
	flateWriters sync.Pool // of *flate.Writer
	flateReaders sync.Pool // of io.ReadCloser that is a flate.Resetter
)

// deflate returns the compressed form of the envelope payload if it is
// shorter, else payload itself. A payload without an envelope head is never
// compressed.
func deflate(payload []byte) []byte {
	head, err := envelopeHeadLen(payload)
	if err != nil {
		return payload
	}
	var out bytes.Buffer
	out.Grow(len(payload))
	out.WriteByte(compressedMarker)
	out.Write(payload[:head])
	w, _ := flateWriters.Get().(*flate.Writer)
	if w == nil {
		w, _ = flate.NewWriter(&out, flate.DefaultCompression)
	} else {
		w.Reset(&out)
	}
	_, _ = w.Write(payload[head:]) // writes to a bytes.Buffer do not fail
	_ = w.Close()
	flateWriters.Put(w)
	if out.Len() >= len(payload) {
		return payload
	}
	return out.Bytes()
}

// inflate undoes deflate; a plain payload passes through. legacy selects
// format v1's layout, where the DEFLATE stream holds the whole envelope.
func inflate(plain []byte, legacy bool) ([]byte, error) {
	if len(plain) == 0 || plain[0] != compressedMarker {
		return plain, nil
	}
	plain = plain[1:]
	head := 0
	if !legacy {
		var err error
		if head, err = envelopeHeadLen(plain); err != nil {
			return nil, invalid("compressed payload has no envelope head", err)
		}
	}
	src := bytes.NewReader(plain[head:])
	r, _ := flateReaders.Get().(io.ReadCloser)
	if r == nil {
		r = flate.NewReader(src)
	} else if err := r.(flate.Resetter).Reset(src, nil); err != nil {
		return nil, invalid("compressed payload", err)
	}
	defer flateReaders.Put(r)
	out := bytes.NewBuffer(make([]byte, 0, head+len(plain)*2))
	out.Write(plain[:head])
	_, err := out.ReadFrom(io.LimitReader(r, int64(maxPayload-head+1)))
	switch {
	case err != nil:
		return nil, invalid("compressed payload does not inflate", err)
	case out.Len() > maxPayload:
		return nil, invalid(fmt.Sprintf("compressed payload inflates past %d bytes", maxPayload), nil)
	case src.Len() != 0:
		return nil, invalid("bytes after the compressed payload", nil)
	}
	return out.Bytes(), nil
}
