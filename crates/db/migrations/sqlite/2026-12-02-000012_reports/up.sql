-- Reports (REP-2 … REP-9): calls per day, client, operation, outcome and fault key, kept by the
-- journal writer in the same transaction as the rows it counts, so the reports and the
-- dashboard read a few hundred aggregate rows instead of scanning the journal. The absent client
-- and fault key are '' (primary-key columns cannot be NULL and must compare equal).

CREATE TABLE call_journal_daily (
    day DATE NOT NULL,
    client_name VARCHAR(64) NOT NULL,
    operation VARCHAR(100) NOT NULL,
    outcome VARCHAR(10) NOT NULL,
    fault_key VARCHAR(200) NOT NULL,
    calls BIGINT NOT NULL,
    PRIMARY KEY (day, client_name, operation, outcome, fault_key)
);

INSERT INTO call_journal_daily (day, client_name, operation, outcome, fault_key, calls)
SELECT date(at), COALESCE(client_name, ''), operation, outcome, COALESCE(fault_key, ''), COUNT(*)
FROM call_journal
GROUP BY date(at), COALESCE(client_name, ''), operation, outcome, COALESCE(fault_key, '');

-- The journal rows behind a cause: newest first among the refused calls with these fault keys.
CREATE INDEX call_journal_fault_key_id ON call_journal (fault_key, id);
