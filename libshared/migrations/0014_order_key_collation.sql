-- order-ingest: byte-order ("C") collation on the keys every order webhook
-- looks up and inserts (docs/order-path.md, group commit).
--
-- Under a linguistic collation (the database's default: en_US.UTF-8,
-- ICU, C.UTF-8, ...) every btree comparison of these keys goes through
-- the locale (strcoll, ICU) on copies of both strings, on the four
-- unique-index probes and inserts each order makes; long shared prefixes
-- such as gid://shopify/Order/ make it worse. Measured on the batch's
-- statements (10-order batches, two writers): 126-143 us of PostgreSQL
-- CPU per order under ICU en-US, 116-119 us under "C"; under glibc's
-- C.UTF-8 (already close to byte order) the gain is 2-4%.
--
-- Nothing orders or range-compares these columns: they are identifiers,
-- looked up by equality, and equality is the same under any deterministic
-- collation. Joins with default-collation columns (stores.id) keep working:
-- the column's explicit collation wins over the default one.
--
-- The indexes on these columns are rebuilt and the foreign keys checked
-- again, under an exclusive lock on both tables: on a large table, order
-- webhooks wait for it (0.9 s for 200,000 orders and receipts here).
ALTER TABLE ingested_orders
    ALTER COLUMN store_id TYPE text COLLATE "C",
    ALTER COLUMN shop_order_id TYPE text COLLATE "C";
ALTER TABLE webhook_receipts
    ALTER COLUMN store_id TYPE text COLLATE "C",
    ALTER COLUMN dedup_key TYPE text COLLATE "C";
