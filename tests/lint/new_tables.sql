-- A new table may be built freely: nobody uses it yet.
CREATE TABLE customers (
    id serial PRIMARY KEY,
    code smallint,
    name varchar(200) NOT NULL,
    email text,
    created_at timestamp DEFAULT now(),
    seen_at timestamp with time zone
);
CREATE INDEX customers_email_idx ON customers (email);
ALTER TABLE customers ADD COLUMN token uuid DEFAULT gen_random_uuid();
ALTER TABLE customers ADD CONSTRAINT customers_email_key UNIQUE (email);
CREATE TABLE events (id integer GENERATED ALWAYS AS IDENTITY, at timestamptz, PRIMARY KEY (id));
CREATE TABLE ok_table (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, body text);
