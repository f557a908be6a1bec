DROP TABLE lp_import_report;
DROP TABLE lp_import;
