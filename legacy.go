package cookiesession

// Migration from the legacy default name. Before the __Host- default
// (Config.Name), a Codec without a Name used DefaultName. A Codec whose
// name defaulted to DefaultHostName therefore also reads cookies named
// DefaultName, through c.legacy, when a request carries no cookie of its
// own name; a session opened that way is marked modified, so that
// Middleware reseals it under the new name, and carries in legacyIn the
// legacy cookies to delete in the same response.
//
// The legacy cookie can be planted like any non-__Host- cookie. Reading it
// only when the request has no __Host- cookie keeps a planted one from
// shadowing a genuine session; until the last legacy cookie has expired, a
// visitor without a session can still be given an attacker's genuine
// legacy session (as before the upgrade). Setting Config.Name ends the
// migration.

// legacyNames returns the names of the legacy cookies whose bits are set
// in bits (bit 0: DefaultName, bit i: its chunk i).
func (c *Codec) legacyNames(bits uint32) []string {
	if c.legacy == nil || bits == 0 {
		return nil
	}
	var names []string
	for i := 0; i < maxChunks; i++ {
		if bits&(1<<i) != 0 {
			names = append(names, c.legacy.chunkName(i))
		}
	}
	return names
}

// appendLegacyDeletions appends to out the Set-Cookie headers that delete
// the legacy cookies s was opened from or that the request carried.
func (c *Codec) appendLegacyDeletions(s *Session, out []string) []string {
	for _, name := range c.legacyNames(s.legacyIn) {
		ck := c.legacy.deletion()
		ck.Name = name
		out = append(out, ck.String())
	}
	return out
}
