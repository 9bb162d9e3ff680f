// Package store keeps everything Nexus knows in one SQLite file: the schema and its
// migrations, plain SQL queries per table group, and the sealing of secret columns.
//
// One writer connection serialises writes (SQLite allows one writer at a time anyway,
// and a single connection avoids SQLITE_BUSY between our own goroutines); a pool of
// read connections serves reads concurrently thanks to WAL.
package store
