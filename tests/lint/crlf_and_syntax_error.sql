CREATE TABLE t (id bigint);
ALTER TABLE orders
  ADD COLUMN u uuid DEFAULT gen_random_uuid();
SELEC 1;
ALTER TABLE orders DROP COLUMN old;
