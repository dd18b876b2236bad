CREATE FUNCTION @extschema@.f() RETURNS int LANGUAGE sql AS $$ SELECT 1 $$;
ALTER TABLE @extschema@.things ADD COLUMN v int DEFAULT random();
