// Diesel table of the report aggregates (migration 2026-12-02-000012_reports). Shared by both
// backends.

diesel::table! {
    /// Calls per day, client, operation, outcome and fault key ('' when absent).
    call_journal_daily (day, client_name, operation, outcome, fault_key) {
        day -> Date,
        client_name -> Varchar,
        operation -> Varchar,
        outcome -> Varchar,
        fault_key -> Varchar,
        calls -> BigInt,
    }
}
