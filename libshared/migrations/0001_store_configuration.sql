-- Stores of the goods owners (3PL tenants) and how each is connected.
-- Credentials are sealed with AES-256-GCM under WB_MASTER_KEY (wb_seal, with
-- the store id as associated data): the column never holds plaintext.
CREATE TABLE stores (
    id                  text PRIMARY KEY CHECK (id ~ '^[a-z0-9][a-z0-9_-]{0,62}$'),
    goods_owner         text NOT NULL CHECK (goods_owner <> ''),
    platform            text NOT NULL CHECK (platform IN ('shopify', 'woocommerce')),
    base_url            text NOT NULL CHECK (base_url ~ '^https?://'),
    credentials_sealed  text NOT NULL CHECK (credentials_sealed LIKE 'v1:%'),
    enabled             boolean NOT NULL DEFAULT true,
    -- stock path
    stock_sync          boolean NOT NULL DEFAULT true,
    stock_mode          text NOT NULL DEFAULT 'absolute' CHECK (stock_mode IN ('absolute', 'delta')),
    window_seconds      integer NOT NULL DEFAULT 30 CHECK (window_seconds BETWEEN 0 AND 3600),
    safety_stock        integer NOT NULL DEFAULT 0 CHECK (safety_stock >= 0),
    -- order path: which orders the WMS receives
    order_statuses      text[] NOT NULL DEFAULT '{processing}',
    financial_statuses  text[] NOT NULL DEFAULT '{}',
    fulfillment_statuses text[] NOT NULL DEFAULT '{}',
    -- fulfilment path
    note_visibility     text NOT NULL DEFAULT 'private' CHECK (note_visibility IN ('private', 'customer')),
    complete_on_dispatch boolean NOT NULL DEFAULT true,
    shipment_tracking   boolean NOT NULL DEFAULT false,
    -- catalog path
    virtual_as_non_stock boolean NOT NULL DEFAULT false,
    variations_limit    integer NOT NULL DEFAULT 0 CHECK (variations_limit >= 0),
    created_at          timestamptz NOT NULL DEFAULT now(),
    updated_at          timestamptz NOT NULL DEFAULT now()
);

-- Which WMS warehouses feed which shop location. A location's sellable stock
-- is the sum over its warehouses; exactly one mapping per store is the default
-- (where orders without a location are fulfilled from).
CREATE TABLE store_locations (
    store_id          text NOT NULL REFERENCES stores (id) ON DELETE CASCADE,
    shop_location_id  text NOT NULL CHECK (shop_location_id <> ''),
    warehouse         text NOT NULL CHECK (warehouse <> ''),
    is_default        boolean NOT NULL DEFAULT false,
    PRIMARY KEY (store_id, shop_location_id, warehouse)
);
CREATE UNIQUE INDEX store_locations_one_default ON store_locations (store_id) WHERE is_default;
CREATE INDEX store_locations_by_warehouse ON store_locations (warehouse);
