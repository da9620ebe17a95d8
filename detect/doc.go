// Package detect finds attacks on single users in classified sign-in rows: MFA fatigue (push
// bombing), fraud reports, OATH code guessing, and the distribution of MFA prompts per user. It
// keeps the per-user state itself, so that metrics can count users and episodes without a
// series per user; the identities stay in the episodes, for a protected endpoint.
//
// It is pure: no I/O, no clock (the caller passes the time), no other package of the project.
// The caller converts its rows into Event, feeds them with Observe, calls Advance after each page
// with the current time and the time before which it will read no row any more (its reconcile
// cursor, or the start of an older range it has still to read), reads Snapshot, and commits
// Export with its cursors, or, to commit only what changed, ExportHead and the records of the
// users TakeChanged names (changes.go), joined again by AssembleState at load.
//
// # Rules (defaults from public detection content)
//
//   - MFA fatigue: per user, more than 10 push failures (user_declined,
//     no_response_to_notification, fraud_reported) within 5 minutes (Microsoft Sentinel, "MFA
//     spamming followed by successful login"), or more than 9 declines (user_declined,
//     fraud_reported) within 10 minutes (Splunk ESCU, "multiple denied MFA requests for user").
//     One episode per burst: the episode takes every push failure within 5 minutes of its rows.
//     It ends in success when the user completes MFA (successfully_completed or
//     completed_in_cloud) at or after its first row and within 5 minutes of its last.
//   - Fraud report: every fraud_reported denial is an episode; a user_blocked denial within 1
//     hour after the report (or after the previous block of the episode) belongs to it.
//   - OATH code guessing: at least 20 failed OATH-code steps across at least 10 distinct
//     correlation ids within 9 minutes (Elastic, "Entra ID MFA TOTP brute force attempted").
//   - Over-prompting: prompts per user over the trailing 24 hours (Entra workbook "Authentication
//     prompts analysis"), counted into buckets 1, 2, 5, 10, 20, 50.
//
// Windows are half-open and slide over createdDateTime: rows at t1 <= t2 are within W of each
// other when t2-t1 < W. A row is a prompt when it is an MFA attempt that asked the user for
// something: a satisfied row that reused an earlier MFA or skipped it is not, nor is a denial
// that never reached the user (blocked, nothing registered, the phone unreachable...).
//
// # Order, duplicates, lateness
//
// Each user's rows are kept sorted by createdDateTime, so a row arriving late lands in its window
// and may complete an episode; a row seen again (same id and time) is ignored. The caller passes
// two times: now, the current time, and final, the time before which no row will be fed any more
// (the collector's reconcile cursor, or the start of the oldest range its backlog pass has still
// to read). An episode is concluded (denied, unless a success ended
// it) once final is past the time a row could still join or end it; from then on it never
// changes, so a counted episode is never withdrawn. Until then rows may come in any order with
// the same result (episode ids included), with two exceptions, both because an episode never
// gives rows away: a late row that would have bridged two episodes already started joins the
// earlier one, and they stay two; a user_blocked row read before a second fraud report that
// precedes it stays with the first report.
//
// # Exactly once
//
// Counters and episodes are derived from the rows and kept in State; episode ids derive from the
// kind, the user and the episode's first row. Committing State with the cursors after each page
// and restoring it after a crash makes a re-read neither lose nor double an episode.
//
// # Bounded memory
//
// A user is tracked while it has prompts in the prompt window or rows in a detection window
// (created less than two burst windows before final, or after it). MaxUsers caps the users (rows
// of further users are dropped and counted), MaxEventsPerUser the rows of one user (the oldest
// goes), MaxListLen every list of an episode, EpisodeRetention and MaxEpisodes the concluded
// episodes listed. Strings are clipped to 256 bytes, addresses reduced to /24 or /48. Advance
// visits only the users something of whom expires, through two queues ordered by due time, and
// Snapshot counts users by prompts from counts kept as prompts come and go, recounting only the
// users whose prompts left the window since the last Advance. A user with a few prompts and
// nothing else costs about 60 bytes (users.go).
package detect
