package cookiesession

import (
	"bytes"
	"compress/flate"
	"fmt"
	"io"
	"sync"
)

// Opt-in compression (Config.Compress). A compressed payload is the marker
// byte 0xc1, which msgpack never uses (so no plain payload starts with it),
// followed by a raw DEFLATE stream of the envelope.
const compressedMarker = 0xc1

// maxPayload bounds the envelope, before compression on Encode and after
// decompression on Decode, so a compressed bomb under a valid seal costs
// little memory.
const maxPayload = 64 << 10

var (
	flateWriters sync.Pool // of *flate.Writer
	flateReaders sync.Pool // of io.ReadCloser that is a flate.Resetter
)

// deflate returns the compressed form of payload if it is shorter, else
// payload itself.
func deflate(payload []byte) []byte {
	var out bytes.Buffer
	out.Grow(len(payload))
	out.WriteByte(compressedMarker)
	w, _ := flateWriters.Get().(*flate.Writer)
	if w == nil {
		w, _ = flate.NewWriter(&out, flate.DefaultCompression)
	} else {
		w.Reset(&out)
	}
	_, _ = w.Write(payload) // writes to a bytes.Buffer do not fail
	_ = w.Close()
	flateWriters.Put(w)
	if out.Len() >= len(payload) {
		return payload
	}
	return out.Bytes()
}

// inflate undoes deflate; a plain payload passes through.
func inflate(plain []byte) ([]byte, error) {
	if len(plain) == 0 || plain[0] != compressedMarker {
		return plain, nil
	}
	src := bytes.NewReader(plain[1:])
	r, _ := flateReaders.Get().(io.ReadCloser)
	if r == nil {
		r = flate.NewReader(src)
	} else if err := r.(flate.Resetter).Reset(src, nil); err != nil {
		return nil, invalid("compressed payload", err)
	}
	defer flateReaders.Put(r)
	out, err := io.ReadAll(io.LimitReader(r, maxPayload+1))
	switch {
	case err != nil:
		return nil, invalid("compressed payload does not inflate", err)
	case len(out) > maxPayload:
		return nil, invalid(fmt.Sprintf("compressed payload inflates past %d bytes", maxPayload), nil)
	case src.Len() != 0:
		return nil, invalid("bytes after the compressed payload", nil)
	}
	return out, nil
}
