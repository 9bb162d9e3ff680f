// Package export streams opportunities and tweets as CSV or JSONL, for
// `GET /campaigns/{id}/opportunities?format=csv` and the CLI's --format flag. Rows
// are written as they come from the iterator, so an export of any size holds one
// row in memory; a writer that is an http.Flusher is flushed every few hundred rows
// so a browser sees the download progress.
//
// Every CSV cell passes through deliver.NeutralizeCell: tweets are written by
// strangers, and a cell such as =HYPERLINK(...) would otherwise run as a formula
// when the file is opened in a spreadsheet (OWASP "CSV injection").
package export
