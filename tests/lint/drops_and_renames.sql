SET lock_timeout = '5s';
ALTER TABLE orders RENAME COLUMN note TO notes;
ALTER TABLE orders RENAME TO purchases;
ALTER TABLE orders DROP COLUMN legacy;
DROP TABLE audit_2019;
DROP TABLE IF EXISTS sessions, tokens CASCADE;
TRUNCATE orders, order_lines CASCADE;
TRUNCATE staging_rows;
DROP DATABASE scratch;
