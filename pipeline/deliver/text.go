package deliver

// Truncate cuts s to at most n UTF-16 code units at a rune boundary, ending a cut text
// with "…". Services state their limits in "characters"; UTF-16 units are never fewer
// than what Slack, Discord or Sheets count, so the result always fits.
func Truncate(s string, n int) string {
	if TextLen(s) <= n {
		return s
	}
	if n <= 0 {
		return ""
	}
	units := 0
	for i, r := range s {
		w := runeUnits(r)
		if units+w > n-1 { // keep one unit for the ellipsis
			return s[:i] + "…"
		}
		units += w
	}
	return s
}

// TextLen is the length of s in UTF-16 code units.
func TextLen(s string) int {
	n := 0
	for _, r := range s {
		n += runeUnits(r)
	}
	return n
}

func runeUnits(r rune) int {
	if r >= 0x10000 {
		return 2
	}
	return 1
}
