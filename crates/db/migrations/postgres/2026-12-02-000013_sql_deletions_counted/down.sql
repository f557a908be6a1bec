-- The trigger of migration 000010, which does not count into call_journal_daily.

CREATE OR REPLACE FUNCTION apogee.opi_pj_instead_of_delete() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER AS $$
DECLARE
    deleted integer;
BEGIN
    PERFORM pg_advisory_xact_lock(1346011137, hashtext('opi:' || OLD.cod_ind_opi || ':' || OLD.cod_tpj));
    DELETE FROM opi_pj WHERE cod_ind_opi = OLD.cod_ind_opi AND cod_tpj = OLD.cod_tpj;
    GET DIAGNOSTICS deleted = ROW_COUNT;
    IF deleted = 0 THEN
        RETURN NULL;
    END IF;
    INSERT INTO call_journal (at, request_id, client_name, channel, operation, key_kind,
                              key_value, outcome, http_status, fault_key, message, warnings,
                              duration_ms)
    VALUES ((clock_timestamp() AT TIME ZONE 'UTC'),
            'sql-' || pg_backend_pid() || '-' || txid_current(),
            left(session_user::text, 64), 'sql', 'OPI_PJ.DELETE', 'codIndOpi/codTpj',
            left(OLD.cod_ind_opi || '/' || OLD.cod_tpj, 100), 'ok', 204, NULL, NULL, NULL, 0);
    RETURN OLD;
END $$;
-- The gateway's tables, whatever the caller's search path (eCandidat's is `apogee`).
DO $$ BEGIN
    EXECUTE format('ALTER FUNCTION apogee.opi_pj_instead_of_delete() SET search_path = %I, pg_temp',
                   current_schema());
END $$;
