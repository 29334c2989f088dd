-- A plugin's migration: product reviews. Its version is older than the core's newest (Users),
-- as a plugin installed after the core often is; it runs in version order without
-- --allow-out-of-order, since out of order is decided within each source.
-- migrate:up
CREATE TABLE product_reviews (
	id text PRIMARY KEY,
	product_id text NOT NULL REFERENCES products (id),
	rating integer NOT NULL CHECK (rating BETWEEN 1 AND 5),
	body text
);

CREATE INDEX product_reviews_product_id ON product_reviews (product_id);

-- migrate:down
DROP TABLE product_reviews;
