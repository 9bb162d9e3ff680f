// Package sheets appends opportunities to a Google spreadsheet with a service
// account: one tab per campaign, created with a bold, frozen header row, and one row
// per opportunity, appended in batches with RAW input so nothing a stranger wrote is
// parsed as a formula (and text cells are neutralised anyway, in case a user later
// switches the tab to USER_ENTERED or copies cells elsewhere).
//
// # Never twice
//
// Column A holds the opportunity id. A row is appended only if the Ledger has not
// recorded it and the id is not already in column A: the ledger is the fast path,
// and the column check covers a crash (or a lost response) between the append and
// MarkAppended. The column is read once per tab per Client and kept up to date
// after each append; an append that fails in any way drops that cache, so the retry
// reads the column again and never appends a row whose response was lost.
//
// Errors: 429, 5xx and quota 403s are deliver.RetryError; 400, 401, 404 and other
// 403s (PERMISSION_DENIED: the sheet is not shared with the service account) and an
// unusable service-account key are deliver.PermanentError.
package sheets
