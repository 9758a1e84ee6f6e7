-- One PostgreSQL server, one database per service (each service owns its data:
-- docs/production.md). Run once, by the postgres image, when its volume is new.
CREATE DATABASE shop_accounts;
CREATE DATABASE shop_catalog;
CREATE DATABASE shop_cart;
CREATE DATABASE shop_orders;
CREATE DATABASE shop_payments;
CREATE DATABASE shop_notifications;
