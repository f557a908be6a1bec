-- Idempotency keys (the IETF Idempotency-Key draft; Stripe's behaviour): one row per key a
-- client sent on a route, with the SHA-256 of the request body. The same key with another body
-- or route is refused (422); while the first request runs, the row holds a lease (owner,
-- lease_until) its process renews: another request with the key waits (409 + Retry-After), and
-- only an expired lease (a crashed process) may be taken over. A finished request keeps its
-- answer: a resource (the LP batch) or a stored response. See docs/reliability.md.

CREATE TABLE idempotency (
    client VARCHAR(64) NOT NULL,
    idem_key VARCHAR(200) NOT NULL,
    route VARCHAR(100) NOT NULL,
    body_sha256 VARCHAR(64) NOT NULL,
    status VARCHAR(10) NOT NULL,
    owner VARCHAR(26) NOT NULL,
    lease_until TIMESTAMP NOT NULL,
    resource VARCHAR(26),
    response_status INTEGER,
    response_body TEXT,
    created_at TIMESTAMP NOT NULL,
    finished_at TIMESTAMP,
    PRIMARY KEY (client, idem_key)
);
CREATE INDEX idempotency_created_at ON idempotency (created_at);

-- The keys of the LP batches posted before (their body was not hashed: '' matches any body).
INSERT INTO idempotency (client, idem_key, route, body_sha256, status, owner, lease_until,
                         resource, response_status, response_body, created_at, finished_at)
SELECT client, idempotency_key, 'POST /api/v1/laissez-passer/batch', '',
       CASE WHEN status = 'running' THEN 'running' ELSE 'completed' END, id, heartbeat_at,
       id, NULL, NULL, started_at, finished_at
FROM lp_import WHERE idempotency_key IS NOT NULL;

-- A key is unique per client now (in idempotency), no longer across clients.
DROP INDEX lp_import_idempotency_key;
CREATE INDEX lp_import_idempotency_key ON lp_import (idempotency_key);
