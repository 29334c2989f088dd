-- Products with options, variants and prices. A price's key is (variant, currency) and an
-- option value's key is (option, value): nested rows get those from their parent row.
-- migrate:up
CREATE TABLE products (
	id text PRIMARY KEY,
	store_id text NOT NULL REFERENCES stores (id),
	handle text NOT NULL UNIQUE,
	title text NOT NULL,
	description text,
	status text NOT NULL DEFAULT 'draft',
	metadata jsonb
);

CREATE TABLE product_options (
	id text PRIMARY KEY,
	product_id text NOT NULL REFERENCES products (id),
	title text NOT NULL
);

CREATE TABLE product_option_values (
	option_id text NOT NULL REFERENCES product_options (id),
	value text NOT NULL,
	PRIMARY KEY (option_id, value)
);

CREATE TABLE product_variants (
	id text PRIMARY KEY,
	product_id text NOT NULL REFERENCES products (id),
	title text NOT NULL,
	sku text UNIQUE,
	options jsonb,
	inventory_quantity integer NOT NULL DEFAULT 0
);

CREATE TABLE prices (
	variant_id text NOT NULL REFERENCES product_variants (id),
	currency_code text NOT NULL REFERENCES currencies (code),
	amount integer NOT NULL,
	PRIMARY KEY (variant_id, currency_code)
);

-- migrate:down
DROP TABLE prices;
DROP TABLE product_variants;
DROP TABLE product_option_values;
DROP TABLE product_options;
DROP TABLE products;
