// Package control owns the typed model of every dataset a router needs (the
// CDN snapshot, health, steering, federations, plus the bundle Set), the
// lenient decoding of the shapes Traffic Ops emits, validation with precise
// errors, and the Source interface that control sources implement.
//
// Decoding follows Traffic Router's Jackson coercion (spec §1.2): numbers and
// booleans may be strings, unusable optional values fall back to the
// documented default with a warning. JSON objects keep their document order
// (slices plus name indexes), never map iteration order. Every parse function
// returns either a value or a *ValidationError listing every problem with
// file, JSON path and value. Nothing in this package panics on any input.
//
// See docs/snapshot-directory.md and docs/compatibility-control.md.
package control
