package cookiesession

// FormatVersion returns the wire format version (FORMAT.md) of the cookie
// the session was opened from: 2, the current one; 1 for a cookie sealed in
// format v1 and opened because Config.RejectV1 is unset, which Middleware
// and Commit reseal as version 2 on this response even if the session is
// unchanged; or 0 for a session not opened from a cookie (new, or flushed
// since). Encode always writes version 2.
func (s *Session) FormatVersion() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.load()
	switch {
	case s.sealed == 0:
		return 0
	case s.legacy:
		return payloadVersionV1
	}
	return payloadVersion
}
