DROP INDEX lp_import_idempotency_key;
CREATE UNIQUE INDEX lp_import_idempotency_key ON lp_import (idempotency_key);
DROP TABLE idempotency;
