-- The WMS's last level per goods owner, warehouse and sku, as the stock publisher has
-- applied it. A location's sellable stock sums several warehouses, and the
-- last event of one of them may be long committed: this checkpoint (written
-- before offsets are committed) is what a new partition owner starts from,
-- so neither a restart nor the loss of Redis forgets a level.
CREATE TABLE stock_levels (
    goods_owner text NOT NULL,
    warehouse   text NOT NULL,
    sku         text NOT NULL,
    on_hand     bigint NOT NULL,
    reserved    bigint NOT NULL,
    version     bigint NOT NULL,
    partition   integer NOT NULL,
    updated_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (goods_owner, warehouse, sku)
);
CREATE INDEX stock_levels_by_partition ON stock_levels (partition);
