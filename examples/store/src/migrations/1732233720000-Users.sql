-- migrate:up
CREATE TABLE users (
	id text PRIMARY KEY,
	email text NOT NULL UNIQUE,
	first_name text,
	last_name text,
	role text NOT NULL DEFAULT 'member',
	is_active boolean NOT NULL DEFAULT true
);

-- migrate:down
DROP TABLE users;
