-- catalog-ingest: incremental polls (see docs/catalog-path.md).

-- A catalog sync of the whole store is either `full` (every product; the
-- only kind that finds articles removed from the shop) or `changes` (only
-- the products the shop changed since the store's cursor, kept in
-- sync_cursors as 'catalog_changed_since'). One of each may be open per
-- store, so an operator's full sync is never swallowed by a queued poll.
ALTER TABLE catalog_syncs ADD COLUMN kind text NOT NULL DEFAULT 'full' CHECK (kind IN ('full', 'changes'));
DROP INDEX catalog_syncs_one_full;
CREATE UNIQUE INDEX catalog_syncs_one_open ON catalog_syncs (store_id, kind)
    WHERE product_id IS NULL AND state IN ('requested', 'running');
