DROP TABLE cvec_check;
DROP TABLE cvec_attestation;
