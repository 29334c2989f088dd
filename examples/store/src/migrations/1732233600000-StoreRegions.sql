-- Store, currencies, regions and their countries.
-- Portable between SQLite and PostgreSQL: text keys chosen by the seed (like 'reg_eu'),
-- so no engine-specific identity/serial/autoincrement syntax is needed.
-- migrate:up
CREATE TABLE currencies (
	code text PRIMARY KEY,
	symbol text NOT NULL,
	name text NOT NULL
);

CREATE TABLE stores (
	id text PRIMARY KEY,
	name text NOT NULL,
	default_currency_code text NOT NULL REFERENCES currencies (code)
);

CREATE TABLE regions (
	id text PRIMARY KEY,
	store_id text NOT NULL REFERENCES stores (id),
	name text NOT NULL,
	currency_code text NOT NULL REFERENCES currencies (code),
	tax_rate numeric NOT NULL DEFAULT 0
);

CREATE TABLE countries (
	iso_2 text PRIMARY KEY,
	region_id text NOT NULL REFERENCES regions (id),
	name text NOT NULL
);

-- migrate:down
DROP TABLE countries;
DROP TABLE regions;
DROP TABLE stores;
DROP TABLE currencies;
