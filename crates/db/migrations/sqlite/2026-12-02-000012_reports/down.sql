DROP INDEX call_journal_fault_key_id;
DROP TABLE call_journal_daily;
