-- catalog-ingest: the catalog import's own state (see docs/catalog-path.md).

-- Send product categories on shop.catalog.v1 (off by default).
ALTER TABLE stores ADD COLUMN catalog_categories boolean NOT NULL DEFAULT false;

-- The shop's own SKU of a mapped item when it differs from the WMS sku the
-- item was mapped to (mapping by barcode); NULL: the same as sku. A later
-- change of the shop's SKU is then recognised as a conflict.
ALTER TABLE product_mappings ADD COLUMN shop_sku text;

-- Articles the WMS knows, per goods owner, for mapping by barcode: a shop
-- item whose SKU is not a WMS sku but whose barcode is one article's barcode
-- maps to that article. Filled by the operator or a WMS article feed.
CREATE TABLE wms_articles (
    goods_owner  text NOT NULL,
    sku          text NOT NULL CHECK (sku <> ''),
    barcode      text,
    updated_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (goods_owner, sku)
);
CREATE INDEX wms_articles_by_barcode ON wms_articles (goods_owner, barcode);

-- Catalog syncs: requested (bridgectl, POST /sync/{store}, the schedule, a
-- product webhook for one product), run by one catalog-ingest replica under
-- a per-store advisory lock, resumed from `cursor` after a crash.
CREATE TABLE catalog_syncs (
    id              bigserial PRIMARY KEY,
    store_id        text NOT NULL REFERENCES stores (id) ON DELETE CASCADE,
    product_id      text,               -- NULL: the whole catalog
    source          text NOT NULL DEFAULT 'manual',
    state           text NOT NULL DEFAULT 'requested'
                    CHECK (state IN ('requested', 'running', 'done', 'failed')),
    cursor          text,               -- where a full sync resumes
    pages_done      bigint NOT NULL DEFAULT 0,
    pages_total     bigint,             -- when the platform tells
    items_done      bigint NOT NULL DEFAULT 0,
    published       bigint NOT NULL DEFAULT 0,
    conflicts       bigint NOT NULL DEFAULT 0,
    error           text,
    requested_at    timestamptz NOT NULL DEFAULT now(),
    started_at      timestamptz,
    finished_at     timestamptz,
    updated_at      timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX catalog_syncs_one_full ON catalog_syncs (store_id)
    WHERE product_id IS NULL AND state IN ('requested', 'running');
CREATE UNIQUE INDEX catalog_syncs_one_product ON catalog_syncs (store_id, product_id)
    WHERE product_id IS NOT NULL AND state = 'requested';
CREATE INDEX catalog_syncs_open ON catalog_syncs (state) WHERE state IN ('requested', 'running');
