package cookiesession

// Migration from the old default name. Before the __Host- default
// (Config.Name), a Codec without a Name used DefaultName. A Codec whose
// name defaulted to DefaultHostName therefore also reads cookies named
// DefaultName, through c.oldName, when a request carries no cookie of its
// own name; a session opened that way is marked modified, so that the
// commit reseals it under the new name, and carries in oldNameIn the
// old-name cookies to delete in the same response. An old-name cookie that
// does not open is deleted like any bad session cookie only if it starts
// with a key ID, as sealed values do: anything else under that common name
// (a gorilla/sessions cookie awaiting gorillamigrate, another app's) is not
// this codec's to delete.
//
// The old-name cookie can be planted like any non-__Host- cookie. Reading
// it only when the request has no __Host- cookie keeps a planted one from
// shadowing a genuine session; until the last old-name cookie has expired,
// a visitor without a session can still be given an attacker's genuine
// old-name session (as before the upgrade). Setting Config.Name ends the
// migration.

// oldNames returns the names of the old-name cookies whose bits are set in
// bits (bit 0: DefaultName, bit i: its chunk i).
func (c *Codec) oldNames(bits uint32) []string {
	if c.oldName == nil || bits == 0 {
		return nil
	}
	var names []string
	for i := 0; i < maxChunks; i++ {
		if bits&(1<<i) != 0 {
			names = append(names, c.oldName.chunkName(i))
		}
	}
	return names
}

// appendOldNameDeletions appends to out the Set-Cookie headers that delete
// the old-name cookies s was opened from or that the request carried.
func (c *Codec) appendOldNameDeletions(s *Session, out []string) []string {
	for _, name := range c.oldNames(s.oldNameIn) {
		ck := c.oldName.deletion()
		ck.Name = name
		out = append(out, ck.String())
	}
	return out
}
