-- bridgectl: an index of bridge.deadletter.v1 and the record of replays.
--
-- The topic stays the source of truth; bridgectl copies what it has not seen
-- yet into this table whenever it needs dead letters (deadletter_cursor says
-- where it stopped per partition), so list/show/replay can filter, address a
-- dead letter by a short id and remember replays without a consumer group.
CREATE TABLE deadletters (
    id                bigserial PRIMARY KEY,
    dl_partition      integer NOT NULL,
    dl_offset         bigint NOT NULL,
    reason            text NOT NULL,
    service           text NOT NULL,
    -- No foreign key: "unknown store" is one of the reasons a letter exists.
    store_id          text,
    source_kind       text NOT NULL,
    source_topic      text,
    source_partition  integer,
    source_offset     bigint,
    source_path       text,
    msg_key           text,
    original_base64   text NOT NULL,
    original_size     bigint NOT NULL,
    dead_at           timestamptz NOT NULL,
    indexed_at        timestamptz NOT NULL DEFAULT now(),
    UNIQUE (dl_partition, dl_offset)
);
CREATE INDEX deadletters_by_store ON deadletters (store_id, dead_at);

CREATE TABLE deadletter_cursor (
    dl_partition  integer PRIMARY KEY,
    next_offset   bigint NOT NULL
);

-- Every replay: who sent the letter back, when, and where it landed.
CREATE TABLE deadletter_replays (
    deadletter_id     bigint NOT NULL REFERENCES deadletters (id) ON DELETE CASCADE,
    replayed_at       timestamptz NOT NULL DEFAULT now(),
    replayed_by       text NOT NULL CHECK (replayed_by <> ''),
    target_topic      text NOT NULL,
    target_partition  integer NOT NULL,
    target_offset     bigint NOT NULL,
    PRIMARY KEY (deadletter_id, replayed_at)
);

-- Shopify installs begun by `bridgectl store add --platform shopify --shop`:
-- the OAuth state nonce the callback must bring back, single use (used_at)
-- and expiring. The store row is created by order-ingest's callback only
-- once the code was exchanged, so no foreign key.
CREATE TABLE shopify_installs (
    state         text PRIMARY KEY CHECK (length(state) >= 32),
    store_id      text NOT NULL CHECK (store_id ~ '^[a-z0-9][a-z0-9_-]{0,62}$'),
    shop_domain   text NOT NULL CHECK (shop_domain ~ '^[a-zA-Z0-9][a-zA-Z0-9-]*\.myshopify\.com$'),
    base_url      text NOT NULL CHECK (base_url ~ '^https?://'),
    goods_owner   text NOT NULL CHECK (goods_owner <> ''),
    scopes        text NOT NULL,
    requested_by  text NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now(),
    expires_at    timestamptz NOT NULL,
    used_at       timestamptz,
    outcome       text
);

-- WooCommerce's key-granting flow begun by `bridgectl store add --platform
-- woocommerce --authorize`: user_id carries the nonce, order-ingest's
-- callback stores the keys the shop posts (sealed, the store id as
-- associated data) and bridgectl, waiting, finishes the connect with them.
CREATE TABLE woo_installs (
    nonce         text PRIMARY KEY CHECK (length(nonce) >= 32),
    store_id      text NOT NULL CHECK (store_id ~ '^[a-z0-9][a-z0-9_-]{0,62}$'),
    base_url      text NOT NULL CHECK (base_url ~ '^https?://'),
    goods_owner   text NOT NULL CHECK (goods_owner <> ''),
    requested_by  text NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now(),
    expires_at    timestamptz NOT NULL,
    keys_sealed   text CHECK (keys_sealed LIKE 'v1:%'),
    received_at   timestamptz,
    used_at       timestamptz,
    outcome       text
);
