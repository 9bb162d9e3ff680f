package deliver

// NeutralizeCell defuses spreadsheet formula injection (OWASP "CSV injection"): a
// cell that starts with = + - @ or a tab or carriage return is prefixed with a single
// quote, so Excel, LibreOffice and Google Sheets show it as text instead of running
// it. Tweets are written by strangers, so every text cell passes through here.
func NeutralizeCell(s string) string {
	if s == "" {
		return s
	}
	switch s[0] {
	case '=', '+', '-', '@', '\t', '\r':
		return "'" + s
	}
	return s
}
