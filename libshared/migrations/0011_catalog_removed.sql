-- catalog-ingest: articles that left the shop (see docs/catalog-path.md).

-- Set when the article is gone from the shop ('deleted': the product or
-- variant no longer exists; 'unpublished': a draft, archived, private or
-- trashed product) and reported on shop.catalog.v1 with `removed`; cleared
-- when it is seen published again. The mapping itself stays.
ALTER TABLE product_mappings ADD COLUMN removed text CHECK (removed IN ('deleted', 'unpublished'));
ALTER TABLE product_mappings ADD COLUMN removed_at timestamptz;
-- The last message put on shop.catalog.v1 for the article, so its removal
-- can carry the article as the WMS last saw it.
ALTER TABLE product_mappings ADD COLUMN last_message text;
-- The last full sync (catalog_syncs.id) that saw the article: one that
-- ends without seeing it asks the shop what became of its product.
ALTER TABLE product_mappings ADD COLUMN seen_sync bigint;
