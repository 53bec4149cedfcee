-- Sync state: what the bridge knows of each shop and what it has sent.

-- Shop items <-> WMS articles. Found by SKU, then barcode; never changed
-- silently (conflicts are recorded in product_mapping_conflicts).
CREATE TABLE product_mappings (
    store_id           text NOT NULL REFERENCES stores (id) ON DELETE CASCADE,
    shop_product_id    text NOT NULL,
    shop_variant_id    text NOT NULL DEFAULT '',
    inventory_item_id  text NOT NULL DEFAULT '',
    sku                text NOT NULL CHECK (sku <> ''),
    barcode            text,
    content_hash       text,
    updated_at         timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (store_id, shop_product_id, shop_variant_id)
);
CREATE UNIQUE INDEX product_mappings_by_sku ON product_mappings (store_id, sku);
CREATE INDEX product_mappings_by_item ON product_mappings (store_id, inventory_item_id);

CREATE TABLE product_mapping_conflicts (
    id                 bigserial PRIMARY KEY,
    store_id           text NOT NULL REFERENCES stores (id) ON DELETE CASCADE,
    kind               text NOT NULL,
    shop_product_id    text NOT NULL,
    shop_variant_id    text NOT NULL DEFAULT '',
    sku                text,
    detail             text NOT NULL,
    first_seen         timestamptz NOT NULL DEFAULT now(),
    last_seen          timestamptz NOT NULL DEFAULT now(),
    UNIQUE (store_id, kind, shop_product_id, shop_variant_id)
);

-- Orders put on shop.orders.v1, by version, and how far the WMS has got.
CREATE TABLE ingested_orders (
    store_id           text NOT NULL REFERENCES stores (id) ON DELETE CASCADE,
    shop_order_id      text NOT NULL,
    order_number       text,
    version            text NOT NULL,
    last_event_id      text NOT NULL,
    state              text NOT NULL DEFAULT 'sent'
                       CHECK (state IN ('sent', 'accepted', 'picking', 'dispatched', 'cancelled')),
    -- quantities in the shop but not yet accepted by the WMS, per sku, for
    -- the stock path's in-flight term
    open_quantities    jsonb NOT NULL DEFAULT '{}'::jsonb,
    created_at         timestamptz NOT NULL DEFAULT now(),
    updated_at         timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (store_id, shop_order_id)
);

-- Reconciler and catalog cursors (e.g. modification time of the last order seen).
CREATE TABLE sync_cursors (
    store_id    text NOT NULL REFERENCES stores (id) ON DELETE CASCADE,
    name        text NOT NULL,
    value       text NOT NULL,
    updated_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (store_id, name)
);

-- The last stock value sent per store, location and item (delta mode and
-- reconciliation read it).
CREATE TABLE stock_sent (
    store_id           text NOT NULL REFERENCES stores (id) ON DELETE CASCADE,
    shop_location_id   text NOT NULL,
    inventory_item_id  text NOT NULL,
    quantity           integer NOT NULL,
    window_id          text NOT NULL,
    sent_at            timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (store_id, shop_location_id, inventory_item_id)
);

-- Each report made to a shop, recorded by its natural id, so a redelivered
-- fulfilment event is recognised and never posted twice.
CREATE TABLE fulfilment_reports (
    store_id        text NOT NULL REFERENCES stores (id) ON DELETE CASCADE,
    shop_order_id   text NOT NULL,
    kind            text NOT NULL,
    report_id       text NOT NULL,
    state           text NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'done', 'failed')),
    shop_reference  text,
    detail          jsonb,
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (store_id, kind, report_id)
);

-- Webhook receipts for de-duplication (Shopify: X-Shopify-Webhook-Id;
-- WooCommerce: resource id and modification time, since its delivery id
-- changes on every send).
CREATE TABLE webhook_receipts (
    store_id     text NOT NULL REFERENCES stores (id) ON DELETE CASCADE,
    dedup_key    text NOT NULL,
    received_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (store_id, dedup_key)
);
CREATE INDEX webhook_receipts_by_time ON webhook_receipts (received_at);
