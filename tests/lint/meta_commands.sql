\set ON_ERROR_STOP on
\echo Installing orders changes
SET lock_timeout = '2s';
-- dbdeck-lint: ignore create-index-not-concurrent
CREATE INDEX orders_a_idx ON orders (a);
CREATE INDEX orders_b_idx ON orders (b); -- not suppressed
/* dbdeck-lint: ignore */
ALTER TABLE orders ADD COLUMN t timestamp;
\i more.sql
ALTER TABLE orders ADD COLUMN ok bigint;
\q
DROP TABLE orders;
