SET lock_timeout = '5s';
SET statement_timeout = '10min';
CREATE INDEX orders_created_idx ON orders (created_at);
CREATE UNIQUE INDEX CONCURRENTLY orders_ref_idx ON public.orders USING btree (ref) WHERE ref IS NOT NULL;
DROP INDEX orders_old_idx;
DROP INDEX CONCURRENTLY IF EXISTS orders_older_idx;
REINDEX INDEX orders_ref_idx;
REINDEX TABLE CONCURRENTLY orders;
